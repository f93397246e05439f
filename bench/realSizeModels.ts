/**
 * SYNTHETIC models of real size for the benchmarks (issue 21): random weights in the shapes of real models, with
 * the real tokenizers that llama.cpp's source ships as vocabulary-only GGUFs (`models/ggml-vocab-*.gguf` in the
 * git bundle inside node-llama-cpp). A token costs what it costs in the real model — the same matrix sizes, the
 * same vocabulary, the same tokenizer — so latency, memory and throughput figures are real; the text they write
 * is noise, and every benchmark that uses them says so.
 *
 * - `deepseek-coder-1.3b`: DeepSeek-Coder-1.3B's shape (llama: 2048 wide, 5504 feed-forward, 16 heads, rope base
 *   100000, linear rope scaling 4) with `layers` of its 24 blocks (default 6: a quarter, to keep runs short; a
 *   token costs about a quarter of the real model's compute in the blocks, plus the full 32,256-row embedding and
 *   output), and DeepSeek-Coder's BPE tokenizer with its FIM tokens.
 * - `qwen2.5-coder-1.5b`: Qwen2.5-Coder-1.5B's shape (1536 wide, 8960 feed-forward, 12 query heads and 2 KV heads —
 *   grouped-query attention, so its KV cache is an eighth of a same-width model with one KV head per query head —
 *   28 blocks, tied embedding and output, rope base 1,000,000) with all 28 blocks by default, written as the
 *   `llama` architecture: Qwen2's only difference there, a bias on the q/k/v projections, costs three vector adds
 *   a block and is left out. Its tokenizer is llama.cpp's Qwen2 vocabulary with Qwen2.5's added tokens put into the
 *   placeholder rows they occupy in Qwen2.5 (ids 151646–151664, `<|fim_prefix|>` … `<|file_sep|>`, from Qwen2.5's
 *   `tokenizer_config.json`), so FIM works as with the real model. This is the shape of llama.vscode's default
 *   FIM models; DeepSeek-Coder's one-KV-head-per-query-head attention is the other end of the KV cache's range.
 * - `bge-small`: bge-small-en-v1.5's shape (BERT: 12 layers, 384 wide, 1536 feed-forward, CLS pooling) with its
 *   WordPiece tokenizer.
 * - `bge-reranker`: a BERT-base-shaped cross-encoder (12 layers, 768 wide, 3072 feed-forward, rank pooling) with
 *   the bge WordPiece tokenizer; bge-reranker-base itself is XLM-RoBERTa with a 250k vocabulary, which the bundle
 *   has no vocabulary file for, so its per-token cost differs in the embedding lookup only.
 *
 * Weights are written directly as Q8_0 (random 8-bit values with random F16 scales) or F16; Q4_K_M comes from
 * llama.cpp's `llama-quantize` when one is built (`quantizeWith`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import path from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";
import type { SidecarInitOptions } from "../shared/protocol";
import {
  bool,
  f32,
  GgmlType,
  i32s,
  Q8_0_BLOCK,
  Q8_0_BLOCK_BYTES,
  seededRandom,
  str,
  strs,
  u32,
  writeGguf,
  type GgufEncodedTensor,
  type GgufTensor,
  type GgufValue,
} from "../test/fixtures/synthetic/ggufWriter";
import { toHalf } from "../test/fixtures/synthetic/ggufWriter";

/** The models this module builds. */
export type RealSizeModel = "deepseek-coder-1.3b" | "qwen2.5-coder-1.5b" | "bge-small" | "bge-reranker";

/** How the weight matrices are stored: written directly (`q8_0`, `f16`), or quantized from F16 (`q4_k_m`). */
export type RealSizeType = "q8_0" | "f16" | "q4_k_m";

interface LlamaShape {
  arch: "llama";
  vocabFile: string;
  hidden: number;
  ff: number;
  heads: number;
  kvHeads: number;
  layers: number;
  context: number;
  ropeBase: number;
  /** Linear rope scaling factor (absent: none). */
  ropeScale?: number;
  /** The output matrix is the token embedding's (no `output.weight` tensor). */
  tiedEmbeddings?: boolean;
  /** Tokens written over the vocabulary file's placeholder rows, by id: [id, text, llama.cpp token type]. */
  addedTokens?: ReadonlyArray<readonly [number, string, number]>;
  /** The FIM tokens' texts: prefix, suffix, middle. */
  fim?: readonly [string, string, string];
}
interface BertShape {
  arch: "bert";
  vocabFile: string;
  hidden: number;
  ff: number;
  heads: number;
  layers: number;
  context: number;
  rank: boolean;
}

/** Real models' shapes (from their config.json on Hugging Face), and the vocabulary file each uses. */
export const SHAPES: Record<RealSizeModel, LlamaShape | BertShape> = {
  "deepseek-coder-1.3b": {
    arch: "llama",
    vocabFile: "ggml-vocab-deepseek-coder.gguf",
    hidden: 2048,
    ff: 5504,
    heads: 16,
    kvHeads: 16,
    layers: 24,
    context: 16384,
    ropeBase: 100000,
    ropeScale: 4,
    fim: ["<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"],
  },
  "qwen2.5-coder-1.5b": {
    arch: "llama",
    vocabFile: "ggml-vocab-qwen2.gguf",
    hidden: 1536,
    ff: 8960,
    heads: 12,
    kvHeads: 2,
    layers: 28,
    context: 32768,
    ropeBase: 1_000_000,
    tiedEmbeddings: true,
    addedTokens: qwen25AddedTokens(),
    fim: ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"],
  },
  "bge-small": {
    arch: "bert",
    vocabFile: "ggml-vocab-bert-bge.gguf",
    hidden: 384,
    ff: 1536,
    heads: 12,
    layers: 12,
    context: 512,
    rank: false,
  },
  "bge-reranker": {
    arch: "bert",
    vocabFile: "ggml-vocab-bert-bge.gguf",
    hidden: 768,
    ff: 3072,
    heads: 12,
    layers: 12,
    context: 512,
    rank: true,
  },
};

/**
 * Qwen2.5's added tokens (its `tokenizer_config.json`, `added_tokens_decoder`), which Qwen2's vocabulary file holds
 * as `[PAD…]` placeholders: [id, text, llama.cpp token type (3 control, 4 user-defined)].
 */
function qwen25AddedTokens(): Array<readonly [number, string, number]> {
  const control = [
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
  ].map((t, i) => [151646 + i, t, 3] as const);
  const fim = ["<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"];
  return [
    ...control,
    [151657, "<tool_call>", 4],
    [151658, "</tool_call>", 4],
    ...fim.map((t, i) => [151659 + i, t, 3] as const),
  ];
}

/** Options of {@link buildRealSizeModel}. */
export interface BuildOptions {
  /** Folder holding llama.cpp's `ggml-vocab-*.gguf` files (the cloned bundle's `models/`). */
  vocabDir: string;
  /** Folder the GGUF is written to (git-ignored cache); a file already there is reused. */
  outDir: string;
  type?: RealSizeType;
  /** Blocks of the model to build (default: {@link defaultLayers}). */
  layers?: number;
  /** Shrink every width by this factor (tests only: 1 = the real shape). */
  shrink?: number;
  /** `llama-quantize`, for `q4_k_m`. */
  quantizeWith?: string;
  seed?: number;
}

/** Blocks built when none are asked for: 6 of DeepSeek-Coder-1.3B's 24 (short runs), all of the others'. */
export function defaultLayers(model: RealSizeModel): number {
  return model === "deepseek-coder-1.3b" ? 6 : SHAPES[model].layers;
}

/**
 * Write (or reuse) a SYNTHETIC real-size model. @returns the GGUF's path; its name says the model, the layers and
 * the type, e.g. `SYNTHETIC-deepseek-coder-1.3b-L6-q8_0.gguf`.
 * @throws when the vocabulary file is missing, or `q4_k_m` is asked for without `quantizeWith`.
 */
export async function buildRealSizeModel(model: RealSizeModel, options: BuildOptions): Promise<string> {
  const shape = SHAPES[model];
  const type = options.type ?? "q8_0";
  const layers = options.layers ?? defaultLayers(model);
  const shrink = options.shrink ?? 1;
  const name = `SYNTHETIC-${model}-L${layers}${shrink > 1 ? `-shrink${shrink}` : ""}-${type}.gguf`;
  const file = path.join(options.outDir, name);
  if (existsSync(file) && statSync(file).size > 0) return file;
  mkdirSync(options.outDir, { recursive: true });
  if (type === "q4_k_m") {
    if (!options.quantizeWith) throw new Error("q4_k_m needs llama-quantize (quantizeWith)");
    const f16 = await buildRealSizeModel(model, { ...options, type: "f16", layers });
    execFileSync(options.quantizeWith, [f16, `${file}.tmp`, "Q4_K_M", "2"], { stdio: "ignore" });
    renameSync(`${file}.tmp`, file);
    return file;
  }
  const vocab = await readVocabulary(path.join(options.vocabDir, shape.vocabFile));
  // Shrunk widths stay multiples of 32 (a Q8_0 row is whole blocks).
  const width = (w: number) => Math.ceil(w / shrink / Q8_0_BLOCK) * Q8_0_BLOCK;
  const scaled = { ...shape, hidden: width(shape.hidden), ff: width(shape.ff), layers };
  const random = seededRandom(options.seed ?? 1);
  const { metadata, tensors } =
    scaled.arch === "llama"
      ? llamaModel(scaled, vocab, type, random, `${model} (${layers} of ${shape.layers} blocks)`)
      : bertModel(scaled as BertShape, vocab, type, random, model);
  writeGguf(`${file}.tmp`, metadata, tensors);
  renameSync(`${file}.tmp`, file);
  return file;
}

/**
 * The folder of llama.cpp's vocabulary-only GGUFs: checked out once from the git bundle inside node-llama-cpp
 * (`node_modules/node-llama-cpp/llama/gitRelease.bundle`) into `cacheDir`, only the `models/ggml-vocab-*` files.
 * @throws when the bundle is missing or git fails.
 */
export function llamaVocabDir(repoRoot: string, cacheDir: string): string {
  const dir = path.join(cacheDir, "llama.cpp-vocab");
  const models = path.join(dir, "models");
  const files = [...new Set(Object.values(SHAPES).map((s) => s.vocabFile))];
  if (files.every((f) => existsSync(path.join(models, f)))) return models;
  const bundle = path.join(repoRoot, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
  if (!existsSync(bundle)) throw new Error(`no llama.cpp bundle at ${bundle}: run npm ci first`);
  mkdirSync(cacheDir, { recursive: true });
  // A cache checked out before a shape was added has the clone already: check out the missing files only.
  if (!existsSync(path.join(dir, ".git"))) {
    execFileSync("git", ["clone", "-q", "--no-checkout", bundle, dir], { stdio: "ignore" });
  }
  const tests = files.flatMap((f) => [`${f}.inp`, `${f}.out`]);
  execFileSync("git", ["-C", dir, "checkout", "-q", "HEAD", "--", ...[...files, ...tests].map((f) => `models/${f}`)], {
    stdio: "ignore",
  });
  return models;
}

/** The tokenizer keys of a vocabulary-only GGUF, typed for the writer. */
async function readVocabulary(file: string): Promise<Record<string, GgufValue>> {
  if (!existsSync(file)) throw new Error(`no vocabulary file ${file}: clone node-llama-cpp's llama.cpp bundle first`);
  const info = await readGgufFileInfo(file, { readTensorInfo: false });
  const t = (info.metadata as unknown as { tokenizer: { ggml: Record<string, unknown> } }).tokenizer.ggml;
  const out: Record<string, GgufValue> = {};
  for (const [key, value] of Object.entries(t)) {
    const k = `tokenizer.ggml.${key}`;
    if (key === "tokens" || key === "merges") out[k] = strs(value as string[]);
    else if (key === "token_type") out[k] = i32s(value as number[]);
    else if (key === "scores") out[k] = { type: "f32[]", value: value as number[] };
    else if (typeof value === "boolean") out[k] = bool(value);
    else if (typeof value === "string") out[k] = str(value);
    else if (typeof value === "number") out[k] = u32(value);
  }
  return out;
}

/** Random matrix bytes: Q8_0 (random q in ±127, scales ~2e-4 → weights of about 0.015) or F16 (|w| ≲ 0.03). */
function matrix(name: string, shape: number[], type: "q8_0" | "f16", random: () => number): GgufEncodedTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (type === "q8_0") {
    const blocks = n / Q8_0_BLOCK;
    const bytes = Buffer.alloc(blocks * Q8_0_BLOCK_BYTES);
    const scale = toHalf(2e-4);
    for (let b = 0; b < blocks; b++) {
      const at = b * Q8_0_BLOCK_BYTES;
      bytes.writeUInt16LE(scale, at);
      // 32 random bytes from 8 draws of 32 bits.
      for (let i = 0; i < Q8_0_BLOCK; i += 4) bytes.writeUInt32LE((random() * 0x100000000) >>> 0, at + 2 + i);
    }
    return { name, shape, encoded: { ggmlType: GgmlType.Q8_0, bytes } };
  }
  const half = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const r = (random() * 0x100000000) >>> 0;
    // A random sign, a biased exponent of 8..10 (2^-7 .. 2^-5) and a random mantissa: |w| in [0.008, 0.06).
    half[i] = (r & 0x8000) | ((8 + ((r >>> 16) % 3)) << 10) | ((r >>> 3) & 0x3ff);
  }
  return { name, shape, encoded: { ggmlType: GgmlType.F16, bytes: Buffer.from(half.buffer) } };
}

const ones = (name: string, n: number): GgufTensor => ({ name, shape: [n], data: new Float32Array(n).fill(1) });
const zeros = (name: string, n: number): GgufTensor => ({ name, shape: [n], data: new Float32Array(n) });

function fileType(type: "q8_0" | "f16"): number {
  return type === "q8_0" ? 7 : 1; // LLAMA_FTYPE_MOSTLY_Q8_0 / _F16
}

function llamaModel(
  s: LlamaShape,
  vocab: Record<string, GgufValue>,
  type: "q8_0" | "f16",
  random: () => number,
  label: string,
) {
  const tokens = [...(vocab["tokenizer.ggml.tokens"] as { value: string[] }).value];
  const types = [...(vocab["tokenizer.ggml.token_type"] as { value: number[] }).value];
  for (const [id, text, tokenType] of s.addedTokens ?? []) {
    if (!/^\[PAD\d+\]$/.test(tokens[id] ?? "")) throw new Error(`token ${id} is ${tokens[id]}, not a placeholder`);
    tokens[id] = text;
    types[id] = tokenType;
  }
  const n = tokens.length;
  const fim = s.fim?.map((text) => tokens.indexOf(text)) ?? [];
  const metadata: Record<string, GgufValue> = {
    "general.architecture": str("llama"),
    "general.name": str(`SYNTHETIC ${label}: random weights, real shape and tokenizer`),
    "general.file_type": u32(fileType(type)),
    "llama.block_count": u32(s.layers),
    "llama.context_length": u32(s.context),
    "llama.embedding_length": u32(s.hidden),
    "llama.feed_forward_length": u32(s.ff),
    "llama.attention.head_count": u32(s.heads),
    "llama.attention.head_count_kv": u32(s.kvHeads),
    "llama.attention.layer_norm_rms_epsilon": f32(1e-6),
    "llama.rope.freq_base": f32(s.ropeBase),
    "llama.rope.dimension_count": u32(s.hidden / s.heads),
    ...(s.ropeScale ? { "llama.rope.scaling.type": str("linear"), "llama.rope.scaling.factor": f32(s.ropeScale) } : {}),
    "llama.vocab_size": u32(n),
    ...vocab,
    "tokenizer.ggml.tokens": strs(tokens),
    "tokenizer.ggml.token_type": i32s(types),
    ...(fim.length === 3 && fim.every((id) => id >= 0)
      ? {
          "tokenizer.ggml.fim_pre_token_id": u32(fim[0]!),
          "tokenizer.ggml.fim_suf_token_id": u32(fim[1]!),
          "tokenizer.ggml.fim_mid_token_id": u32(fim[2]!),
        }
      : {}),
  };
  const h = s.hidden;
  const kv = (h / s.heads) * s.kvHeads;
  const tensors: Array<GgufTensor | GgufEncodedTensor> = [
    matrix("token_embd.weight", [n, h], type, random),
    ones("output_norm.weight", h),
    ...(s.tiedEmbeddings ? [] : [matrix("output.weight", [n, h], type, random)]),
  ];
  for (let l = 0; l < s.layers; l++) {
    const p = `blk.${l}.`;
    tensors.push(
      ones(`${p}attn_norm.weight`, h),
      matrix(`${p}attn_q.weight`, [h, h], type, random),
      matrix(`${p}attn_k.weight`, [kv, h], type, random),
      matrix(`${p}attn_v.weight`, [kv, h], type, random),
      matrix(`${p}attn_output.weight`, [h, h], type, random),
      ones(`${p}ffn_norm.weight`, h),
      matrix(`${p}ffn_gate.weight`, [s.ff, h], type, random),
      matrix(`${p}ffn_up.weight`, [s.ff, h], type, random),
      matrix(`${p}ffn_down.weight`, [h, s.ff], type, random),
    );
  }
  return { metadata, tensors };
}

function bertModel(
  s: BertShape,
  vocab: Record<string, GgufValue>,
  type: "q8_0" | "f16",
  random: () => number,
  label: string,
) {
  const n = (vocab["tokenizer.ggml.tokens"] as { value: string[] }).value.length;
  const h = s.hidden;
  const metadata: Record<string, GgufValue> = {
    "general.architecture": str("bert"),
    "general.name": str(`SYNTHETIC ${label}: random weights, real shape and tokenizer`),
    "general.file_type": u32(fileType(type)),
    "bert.block_count": u32(s.layers),
    "bert.context_length": u32(s.context),
    "bert.embedding_length": u32(h),
    "bert.feed_forward_length": u32(s.ff),
    "bert.attention.head_count": u32(s.heads),
    "bert.attention.layer_norm_epsilon": f32(1e-12),
    "bert.attention.causal": bool(false),
    "bert.pooling_type": u32(s.rank ? 4 : 2),
    ...vocab,
    ...(s.rank ? { "bert.classifier.output_labels": strs(["relevance"]) } : {}),
  };
  const small = (name: string, shape: number[]): GgufTensor => {
    const count = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = (random() * 2 - 1) * 0.02;
    return { name, shape, data };
  };
  const tensors: Array<GgufTensor | GgufEncodedTensor> = [
    matrix("token_embd.weight", [n, h], type, random),
    small("token_types.weight", [2, h]),
    small("position_embd.weight", [s.context, h]),
    ones("token_embd_norm.weight", h),
    zeros("token_embd_norm.bias", h),
  ];
  for (let l = 0; l < s.layers; l++) {
    const p = `blk.${l}.`;
    for (const name of ["attn_q", "attn_k", "attn_v", "attn_output"]) {
      tensors.push(matrix(`${p}${name}.weight`, [h, h], type, random), zeros(`${p}${name}.bias`, h));
    }
    tensors.push(
      ones(`${p}attn_output_norm.weight`, h),
      zeros(`${p}attn_output_norm.bias`, h),
      matrix(`${p}ffn_up.weight`, [s.ff, h], type, random),
      zeros(`${p}ffn_up.bias`, s.ff),
      matrix(`${p}ffn_down.weight`, [h, s.ff], type, random),
      zeros(`${p}ffn_down.bias`, h),
      ones(`${p}layer_output_norm.weight`, h),
      zeros(`${p}layer_output_norm.bias`, h),
    );
  }
  if (s.rank) {
    tensors.push(
      small("cls.weight", [h, h]),
      zeros("cls.bias", h),
      small("cls.output.weight", [1, h]),
      zeros("cls.output.bias", 1),
    );
  }
  return { metadata, tensors };
}

/** Parameters of a model as built (weights only), for the benchmarks' labels. */
export function parameterCount(model: RealSizeModel, layers?: number, vocabSize = 0): number {
  const s = SHAPES[model];
  const l = layers ?? defaultLayers(model);
  if (s.arch === "llama") {
    const kv = (s.hidden / s.heads) * s.kvHeads;
    const block = 2 * s.hidden * s.hidden + 2 * s.hidden * kv + 3 * s.hidden * s.ff;
    return (s.tiedEmbeddings ? 1 : 2) * vocabSize * s.hidden + l * block;
  }
  return vocabSize * s.hidden + l * (4 * s.hidden * s.hidden + 2 * s.hidden * s.ff);
}

/**
 * A started sidecar (dist/sidecar.mjs of `root`) on the CPU, downloads off, with `threads` and any other init
 * options, for the benchmarks that load the real-size models into Hearth itself.
 */
export async function startBenchSidecar(
  root: string,
  threads: number,
  init: Partial<SidecarInitOptions> = {},
): Promise<SidecarProcess> {
  const sidecar = new SidecarProcess({
    sidecarPath: path.join(root, "dist", "sidecar.mjs"),
    init: { modelsDir: path.join(root, ".cache", "models"), threads, gpu: "off", allowDownload: false, ...init },
  });
  await sidecar.start();
  return sidecar;
}
