/**
 * Model lab, step 3: the trained weights (lab/.work/<model>.bin + .json from train.py) and vocabularies
 * (from prepare.ts) → GGUF files in lab/models/ (with train.py's reference outputs beside them), then a load
 * check in node-llama-cpp: the embedding model must give unit-norm-able vectors, the reranker scores, the code
 * model `infillSupported`.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama, LlamaCompletion } from "node-llama-cpp";
import { type codeVocabulary, LAB_MODEL_FILES, LAB_REFERENCE_FILE, writeCodeModel, writeEncoder } from "./ggufModels";

const here = path.dirname(fileURLToPath(import.meta.url));
const labDir = path.join(path.resolve(here, ".."), "lab");
const work = path.join(labDir, ".work");
const outDir = path.join(labDir, "models");
const config = JSON.parse(await fs.readFile(path.join(labDir, "config.json"), "utf8"));

async function weights(name: string): Promise<{ tensors: Map<string, Float32Array>; log: unknown[] }> {
  const manifest = JSON.parse(await fs.readFile(path.join(work, `${name}.json`), "utf8")) as {
    tensors: Array<{ name: string; shape: number[]; offset: number }>;
    log: unknown[];
  };
  const bin = await fs.readFile(path.join(work, `${name}.bin`));
  const tensors = new Map<string, Float32Array>();
  for (const t of manifest.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    tensors.set(
      t.name,
      new Float32Array(bin.buffer.slice(bin.byteOffset + t.offset, bin.byteOffset + t.offset + n * 4)),
    );
  }
  return { tensors, log: manifest.log };
}

/**
 * The encoder with its context cut to the positions training used (`tokens`): the GGUF then declares that
 * context length, so Hearth truncates longer inputs instead of feeding positions whose embeddings were never
 * trained. Returns the shape and the weights with `position_embd` cut to `tokens` rows.
 */
function trainedContext(
  weights: Map<string, Float32Array>,
  tokens: number,
): { shape: typeof config.encoder; weights: Map<string, Float32Array> } {
  const cut = new Map(weights);
  cut.set("position_embd.weight", weights.get("position_embd.weight")!.slice(0, tokens * config.encoder.hidden));
  return { shape: { ...config.encoder, context: tokens }, weights: cut };
}

const SYNTHETIC_NOTE =
  "Hearth model lab (lab/README.md): a tiny model trained from scratch for tests and benchmarks, not for use.";

async function main(): Promise<void> {
  await fs.mkdir(outDir, { recursive: true });
  const vocab = JSON.parse(await fs.readFile(path.join(work, "encoder-vocab.json"), "utf8")) as string[];
  const code = JSON.parse(await fs.readFile(path.join(work, "code-vocab.json"), "utf8")) as ReturnType<
    typeof codeVocabulary
  >;
  const files = {
    embedding: path.join(outDir, LAB_MODEL_FILES.embedding),
    reranker: path.join(outDir, LAB_MODEL_FILES.reranker),
    code: path.join(outDir, LAB_MODEL_FILES.code),
  };
  // Inputs were [CLS] text [SEP] with text ≤ maxDocTokens, and [CLS] q [SEP] [SEP] d [SEP] ≤ maxTokens.
  const embedding = trainedContext((await weights("embedding")).tensors, config.encoder.maxDocTokens + 2);
  writeEncoder(
    files.embedding,
    "hearth-lab-embedding",
    embedding.shape,
    vocab,
    embedding.weights,
    false,
    SYNTHETIC_NOTE,
  );
  const reranker = trainedContext((await weights("reranker")).tensors, config.reranker.maxTokens);
  writeEncoder(files.reranker, "hearth-lab-reranker", reranker.shape, vocab, reranker.weights, true, SYNTHETIC_NOTE);
  writeCodeModel(files.code, "hearth-lab-code-fim", config.code, code, (await weights("code")).tensors, SYNTHETIC_NOTE);
  // PyTorch's reference outputs go with the weights they came from (test/fixtures/labParity.test.ts).
  await fs.copyFile(path.join(work, "reference.json"), path.join(outDir, LAB_REFERENCE_FILE)).catch((e) => {
    throw new Error(
      `lab/.work/reference.json is missing: run \`/usr/bin/python3 lab/train.py reference\` after training (${e})`,
    );
  });
  for (const f of Object.values(files))
    console.log(`${path.relative(process.cwd(), f)}: ${((await fs.stat(f)).size / 1024 / 1024).toFixed(2)} MiB`);

  const llama = await getLlama({ build: "never", gpu: false });
  const embeddingModel = await llama.loadModel({ modelPath: files.embedding });
  const ctx = await embeddingModel.createEmbeddingContext({ contextSize: embedding.shape.context, threads: 1 });
  const v = (await ctx.getEmbeddingFor("returns the sum of two numbers")).vector;
  console.log(`embedding: ${v.length} dimensions, norm ${Math.hypot(...v).toFixed(3)}`);
  const rerankerModel = await llama.loadModel({ modelPath: files.reranker });
  const rank = await rerankerModel.createRankingContext({ contextSize: reranker.shape.context, threads: 1 });
  console.log(
    `reranker: score ${(await rank.rank("add two numbers", "function add ( a , b ) { return a + b ; }")).toFixed(4)}`,
  );
  const lm = await llama.loadModel({ modelPath: files.code });
  const lmCtx = await lm.createContext({ contextSize: 512, threads: 1 });
  const completion = new LlamaCompletion({ contextSequence: lmCtx.getSequence() });
  if (!completion.infillSupported) throw new Error("the code model does not declare FIM tokens");
  const middle = await completion.generateInfillCompletion("function add(a, b) {\n  ", "\n}\n", {
    maxTokens: 24,
    temperature: 0,
  });
  console.log(`code: infill → ${JSON.stringify(middle)}`);
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
