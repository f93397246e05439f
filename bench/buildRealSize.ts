/**
 * `npm run models:real-size` — build the benchmarks' SYNTHETIC real-size models (bench/realSizeModels.ts) into
 * `.cache/real-size/` (git-ignored), reusing files already there, and print each one's path, size and parameters.
 *
 *   npm run models:real-size [-- --layers 6] [--types q8_0,q4_k_m] [--quantize <llama-quantize>] [--only <model,…>]
 *
 * `--layers` is DeepSeek-Coder's block count (the others are built whole). `--only` names the models to build;
 * its default leaves out `qwen2.5-coder-1.5b`, whose 28 blocks make a 1.6 GB file at Q8_0 (`bench:memory --shape`).
 *
 * `q4_k_m` needs llama.cpp's `llama-quantize` (built from the same bundle as llama-server:
 * `cmake --build build --target llama-quantize`); without `--quantize` only the directly written types are built.
 */
import { statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  buildRealSizeModel,
  llamaVocabDir,
  parameterCount,
  type RealSizeModel,
  type RealSizeType,
} from "./realSizeModels";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    layers: { type: "string", default: "6" },
    types: { type: "string", default: "q8_0" },
    quantize: { type: "string" },
    only: { type: "string", default: "deepseek-coder-1.3b,bge-small,bge-reranker" },
  },
});
const vocabDir = llamaVocabDir(root, path.join(root, ".cache"));
const outDir = path.join(root, ".cache", "real-size");
const vocabSizes: Record<RealSizeModel, number> = {
  "deepseek-coder-1.3b": 32256,
  "qwen2.5-coder-1.5b": 151936,
  "bge-small": 30522,
  "bge-reranker": 30522,
};
for (const type of values.types!.split(",") as RealSizeType[]) {
  for (const model of Object.keys(vocabSizes) as RealSizeModel[]) {
    if (!values.only!.split(",").includes(model)) continue;
    const layers = model === "deepseek-coder-1.3b" ? Number(values.layers) : undefined;
    const started = performance.now();
    const file = await buildRealSizeModel(model, {
      vocabDir,
      outDir,
      type,
      ...(layers ? { layers } : {}),
      ...(values.quantize ? { quantizeWith: values.quantize } : {}),
    });
    const mib = statSync(file).size / 2 ** 20;
    const params = parameterCount(model, layers, vocabSizes[model]) / 1e6;
    console.log(
      `${path.relative(root, file)}  ${mib.toFixed(0)} MiB  ${params.toFixed(0)}M parameters  (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
}
