/**
 * GGUF files of the lab's models: the metadata llama.cpp needs for a BERT encoder (mean pooling for embeddings,
 * rank pooling with a classification head for the reranker) and for a llama code model with FIM tokens, around
 * tensors given by the caller (trained weights, or random ones for the tokenizer-only files `prepare` uses).
 * Keys and tensor names: ../shared/design/SYNTHETIC-GGUF.md. Weight matrices are stored F16, vectors F32.
 */
import {
  bool,
  f32,
  f32s,
  i32s,
  seededRandom,
  str,
  strs,
  u32,
  writeGguf,
  type GgufTensor,
  type GgufValue,
} from "../test/fixtures/synthetic/ggufWriter";

/** The lab's model files in lab/models/, by role (committed; `npm run models:train` rebuilds them). */
export const LAB_MODEL_FILES = {
  embedding: "hearth-lab-embedding.gguf",
  reranker: "hearth-lab-reranker.gguf",
  code: "hearth-lab-code-fim.gguf",
} as const;

/** PyTorch's outputs of the three lab models on a few token inputs (train.py `reference`), next to the GGUFs. */
export const LAB_REFERENCE_FILE = "hearth-lab-reference.json";

export interface EncoderShape {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  ffn: number;
  context: number;
}

export interface CodeShape {
  hidden: number;
  layers: number;
  heads: number;
  ffn: number;
  context: number;
}

/** Special tokens of the code model's vocabulary, at these ids. */
export const CODE_SPECIALS = ["<unk>", "<s>", "</s>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<pad>"] as const;
export const CODE_IDS = { unk: 0, bos: 1, eos: 2, pre: 3, suf: 4, mid: 5, pad: 6 } as const;
/** Special tokens of the encoders' vocabulary, at these ids (see vocab.ts). */
export const ENCODER_IDS = { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 } as const;

/** Tensor names and shapes (PyTorch order) of a BERT encoder; `rank` adds the classification head. */
export function encoderTensorShapes(s: EncoderShape, rank: boolean): Array<[string, number[]]> {
  const out: Array<[string, number[]]> = [
    ["token_embd.weight", [s.vocabSize, s.hidden]],
    ["token_types.weight", [2, s.hidden]],
    ["position_embd.weight", [s.context, s.hidden]],
    ["token_embd_norm.weight", [s.hidden]],
    ["token_embd_norm.bias", [s.hidden]],
  ];
  for (let l = 0; l < s.layers; l++) {
    const p = `blk.${l}.`;
    for (const n of ["attn_q", "attn_k", "attn_v", "attn_output"])
      out.push([`${p}${n}.weight`, [s.hidden, s.hidden]], [`${p}${n}.bias`, [s.hidden]]);
    out.push(
      [`${p}attn_output_norm.weight`, [s.hidden]],
      [`${p}attn_output_norm.bias`, [s.hidden]],
      [`${p}ffn_up.weight`, [s.ffn, s.hidden]],
      [`${p}ffn_up.bias`, [s.ffn]],
      [`${p}ffn_down.weight`, [s.hidden, s.ffn]],
      [`${p}ffn_down.bias`, [s.hidden]],
      [`${p}layer_output_norm.weight`, [s.hidden]],
      [`${p}layer_output_norm.bias`, [s.hidden]],
    );
  }
  if (rank)
    out.push(
      ["cls.weight", [s.hidden, s.hidden]],
      ["cls.bias", [s.hidden]],
      ["cls.output.weight", [1, s.hidden]],
      ["cls.output.bias", [1]],
    );
  return out;
}

/** Tensor names and shapes of the llama code model (output tied to token_embd, as llama.cpp allows). */
export function codeTensorShapes(s: CodeShape, vocabSize: number): Array<[string, number[]]> {
  const out: Array<[string, number[]]> = [
    ["token_embd.weight", [vocabSize, s.hidden]],
    ["output_norm.weight", [s.hidden]],
  ];
  for (let l = 0; l < s.layers; l++) {
    const p = `blk.${l}.`;
    out.push(
      [`${p}attn_norm.weight`, [s.hidden]],
      [`${p}attn_q.weight`, [s.hidden, s.hidden]],
      [`${p}attn_k.weight`, [s.hidden, s.hidden]],
      [`${p}attn_v.weight`, [s.hidden, s.hidden]],
      [`${p}attn_output.weight`, [s.hidden, s.hidden]],
      [`${p}ffn_norm.weight`, [s.hidden]],
      [`${p}ffn_gate.weight`, [s.ffn, s.hidden]],
      [`${p}ffn_up.weight`, [s.ffn, s.hidden]],
      [`${p}ffn_down.weight`, [s.hidden, s.ffn]],
    );
  }
  return out;
}

/** Seeded small random tensors for the given shapes (tokenizer-only files: the weights are never used). */
export function randomTensors(shapes: Array<[string, number[]]>, seed = 1): Map<string, Float32Array> {
  const random = seededRandom(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of shapes) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * 0.02;
    out.set(name, data);
  }
  return out;
}

function tensorsOf(shapes: Array<[string, number[]]>, weights: Map<string, Float32Array>): GgufTensor[] {
  return shapes.map(([name, shape]) => {
    const data = weights.get(name);
    if (!data) throw new Error(`missing tensor ${name}`);
    // token_types is added as a raw row (ggml has no F32 + F16 add); matrices read by mul_mat or get_rows can be F16.
    return { name, shape, data, f16: shape.length === 2 && name !== "token_types.weight" };
  });
}

/**
 * Write a BERT encoder. `rank` = reranker (rank pooling + classification head); otherwise mean pooling.
 * Declares `hearth.embedding.split_identifiers` so Hearth prepares text with `embeddingWords` first.
 */
export function writeEncoder(
  file: string,
  name: string,
  shape: EncoderShape,
  vocab: string[],
  weights: Map<string, Float32Array>,
  rank: boolean,
  description: string,
): void {
  if (vocab.length !== shape.vocabSize)
    throw new Error(`vocabulary has ${vocab.length} entries, shape says ${shape.vocabSize}`);
  const types = vocab.map((t, i) => (i === ENCODER_IDS.unk ? 2 : i <= ENCODER_IDS.mask ? 3 : 1));
  const metadata: Record<string, GgufValue> = {
    "general.architecture": str("bert"),
    "general.name": str(name),
    "general.description": str(description),
    "general.license": str("MIT"),
    "bert.block_count": u32(shape.layers),
    "bert.context_length": u32(shape.context),
    "bert.embedding_length": u32(shape.hidden),
    "bert.feed_forward_length": u32(shape.ffn),
    "bert.attention.head_count": u32(shape.heads),
    "bert.attention.layer_norm_epsilon": f32(1e-12),
    "bert.attention.causal": bool(false),
    "bert.pooling_type": u32(rank ? 4 : 1),
    "tokenizer.ggml.model": str("bert"),
    "tokenizer.ggml.tokens": strs(vocab),
    "tokenizer.ggml.token_type": i32s(types),
    "tokenizer.ggml.token_type_count": u32(2),
    "tokenizer.ggml.unknown_token_id": u32(ENCODER_IDS.unk),
    "tokenizer.ggml.seperator_token_id": u32(ENCODER_IDS.sep),
    "tokenizer.ggml.padding_token_id": u32(ENCODER_IDS.pad),
    "tokenizer.ggml.cls_token_id": u32(ENCODER_IDS.cls),
    "tokenizer.ggml.mask_token_id": u32(ENCODER_IDS.mask),
    "tokenizer.ggml.bos_token_id": u32(ENCODER_IDS.cls),
    "tokenizer.ggml.eos_token_id": u32(ENCODER_IDS.sep),
    "hearth.embedding.split_identifiers": bool(true),
  };
  if (rank) metadata["bert.classifier.output_labels"] = strs(["relevance"]);
  writeGguf(file, metadata, tensorsOf(encoderTensorShapes(shape, rank), weights));
}

/** The code model's vocabulary: specials, 256 byte-fallback tokens, base characters, BPE pieces. */
export function codeVocabulary(
  chars: string[],
  pieces: string[],
): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens: string[] = [...CODE_SPECIALS];
  const types: number[] = [2, 3, 3, 3, 3, 3, 3];
  const scores: number[] = tokens.map(() => 0);
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
    scores.push(0);
  }
  for (const c of chars) {
    tokens.push(c);
    types.push(1);
    scores.push(0);
  }
  pieces.forEach((p, rank) => {
    tokens.push(p);
    types.push(1);
    scores.push(-(rank + 1));
  });
  return { tokens, scores, types };
}

/** Write the llama code model with FIM tokens (PSM order: prefix, suffix, middle). */
export function writeCodeModel(
  file: string,
  name: string,
  shape: CodeShape,
  vocab: ReturnType<typeof codeVocabulary>,
  weights: Map<string, Float32Array>,
  description: string,
): void {
  const metadata: Record<string, GgufValue> = {
    "general.architecture": str("llama"),
    "general.name": str(name),
    "general.description": str(description),
    "general.license": str("MIT"),
    "llama.block_count": u32(shape.layers),
    "llama.context_length": u32(shape.context),
    "llama.embedding_length": u32(shape.hidden),
    "llama.feed_forward_length": u32(shape.ffn),
    "llama.attention.head_count": u32(shape.heads),
    "llama.attention.head_count_kv": u32(shape.heads),
    "llama.rope.dimension_count": u32(shape.hidden / shape.heads),
    "llama.rope.freq_base": f32(10000),
    "llama.attention.layer_norm_rms_epsilon": f32(1e-5),
    "tokenizer.ggml.model": str("llama"),
    "tokenizer.ggml.tokens": strs(vocab.tokens),
    "tokenizer.ggml.scores": f32s(vocab.scores),
    "tokenizer.ggml.token_type": i32s(vocab.types),
    "tokenizer.ggml.unknown_token_id": u32(CODE_IDS.unk),
    "tokenizer.ggml.bos_token_id": u32(CODE_IDS.bos),
    "tokenizer.ggml.eos_token_id": u32(CODE_IDS.eos),
    "tokenizer.ggml.padding_token_id": u32(CODE_IDS.pad),
    "tokenizer.ggml.fim_pre_token_id": u32(CODE_IDS.pre),
    "tokenizer.ggml.fim_suf_token_id": u32(CODE_IDS.suf),
    "tokenizer.ggml.fim_mid_token_id": u32(CODE_IDS.mid),
    "tokenizer.ggml.add_bos_token": bool(true),
    "tokenizer.ggml.add_eos_token": bool(false),
    "tokenizer.ggml.add_space_prefix": bool(false),
  };
  writeGguf(file, metadata, tensorsOf(codeTensorShapes(shape, vocab.tokens.length), weights));
}
