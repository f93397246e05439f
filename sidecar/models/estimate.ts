/**
 * Memory estimates per candidate model and role, from node-llama-cpp's own estimator (`GgufInsights`, which follows
 * llama.cpp's allocation: weights, KV cache, compute buffers) over the GGUF header — read from the local file, or
 * over HTTP in byte ranges (`readGgufFileInfo`) for a catalog entry not downloaded yet. Without a readable header
 * the estimate falls back to the catalog's parameter count times the weight type's bits per weight (labelled so).
 */
import { GgufInsights, readGgufFileInfo, type GgufFileInfo, type Llama } from "node-llama-cpp";
import type { ModelRole } from "../../shared/protocol";
import { modelRoles } from "./classifyModel";

/** What the planner needs of one model, in bytes. */
export interface ModelEstimate {
  /** The weights (loaded once, however many roles use the model). */
  weightsBytes: number;
  /** One context of each role it may serve, with that role's context window. */
  contextBytes: Partial<Record<ModelRole, number>>;
  source: "gguf-header" | "parameters";
  /** Facts the header gave (absent: not read). */
  header?: { parameters: number; trainedContext?: number; license?: string; roles: ModelRole[]; fileBytes: number };
}

/**
 * Bits per weight of the common GGUF weight types: Q8_0 stores 32 weights in 34 bytes (8.5), Q4_0 in 18 (4.5),
 * MXFP4 in 17 (4.25), F16 16; Q4_K_M mixes Q4_K (4.5) and Q6_K (6.5625) tensors, about 4.9 over a whole model
 * (llama.cpp's quantize prints this figure per model). Source: ggml's block layouts (ggml-common.h).
 */
const BITS_PER_WEIGHT: Record<string, number> = {
  Q8_0: 8.5,
  Q4_0: 4.5,
  MXFP4: 4.25,
  F16: 16,
  BF16: 16,
  F32: 32,
  Q4_K_M: 4.9,
  Q6_K: 6.5625,
  Q5_K_M: 5.7,
};

/**
 * What loading a model costs besides what GgufInsights counts (its tensors, KV cache and compute buffers): the
 * vocabulary's maps, the loader's buffers and the engine's first-load costs — measured by `npm run bench:plan` at
 * 25–60 MiB per model on the SYNTHETIC real-size fixtures (BERT vocabularies of 30 k tokens to Qwen's 151 k), so
 * one fixed 48 MiB per model, fitted there (bench/README.md has the table).
 */
export const MODEL_LOAD_OVERHEAD_BYTES = 48 * 1024 * 1024;

/** How long reading one remote GGUF header may take (ms). */
export const HEADER_READ_MS = 20_000;

/**
 * The estimate of `uri` (a local path, an `hf:` URI or URL) for `roles` with their context windows, from its GGUF
 * header. @throws what `readGgufFileInfo` throws (unreachable, not a GGUF), or a timeout after {@link HEADER_READ_MS}.
 */
export async function estimateFromHeader(
  uri: string,
  contexts: Partial<Record<ModelRole, number>>,
  llama: Llama | undefined,
  signal?: AbortSignal,
): Promise<ModelEstimate> {
  const timeout = AbortSignal.timeout(HEADER_READ_MS);
  const info = await readGgufFileInfo(uri, {
    logWarnings: false,
    fetchRetryOptions: { retries: 1, minTimeout: 200, maxTimeout: 1000 },
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  return estimateFromInfo(info, contexts, llama);
}

/** The estimate from a parsed header (see {@link estimateFromHeader}). */
export async function estimateFromInfo(
  info: GgufFileInfo,
  contexts: Partial<Record<ModelRole, number>>,
  llama: Llama | undefined,
): Promise<ModelEstimate> {
  const insights = await GgufInsights.from(info, llama);
  const model = await insights.estimateModelResourceRequirementsV2({ gpuLayers: 0 });
  const contextBytes: Partial<Record<ModelRole, number>> = {};
  for (const [role, contextSize] of Object.entries(contexts) as Array<[ModelRole, number]>) {
    const size = Math.min(contextSize, insights.trainContextSize ?? contextSize);
    const context = await insights.estimateContextResourceRequirementsV2({
      contextSize: size,
      modelGpuLayers: 0,
      sequences: 1,
      // As the embedded engine creates them: batches of 512 (node-llama-cpp's default; `hearth.index.batchTokens`).
      batchSize: Math.min(size, 512),
      isEmbeddingContext: role === "embedding" || role === "rerank",
    });
    contextBytes[role] = context.cpuRam + context.gpuVram;
  }
  const general = info.metadata.general as { license?: string } | undefined;
  return {
    weightsBytes: model.cpuRam + model.gpuVram + MODEL_LOAD_OVERHEAD_BYTES,
    contextBytes,
    source: "gguf-header",
    header: {
      parameters: insights.totalParameters,
      ...(insights.trainContextSize ? { trainedContext: insights.trainContextSize } : {}),
      ...(typeof general?.license === "string" ? { license: general.license } : {}),
      roles: modelRoles(info),
      fileBytes: insights.modelSize,
    },
  };
}

/**
 * The fallback estimate from a parameter count and weight type: weights = parameters × bits per weight / 8 (plus
 * {@link MODEL_LOAD_OVERHEAD_BYTES}), and
 * each context at 10 % of the weights (llama.cpp's KV cache of a 4,096-token context is 5–20 % of a small model's
 * weights). Undefined when the parameter count or the type's bits are unknown.
 */
export function estimateFromParameters(
  parameters: number | null,
  quantization: string,
  roles: readonly ModelRole[],
): ModelEstimate | undefined {
  const bits = BITS_PER_WEIGHT[quantization.toUpperCase()];
  if (!parameters || !bits) return undefined;
  const weightsBytes = Math.round((parameters * bits) / 8) + MODEL_LOAD_OVERHEAD_BYTES;
  return {
    weightsBytes,
    contextBytes: Object.fromEntries(roles.map((r) => [r, Math.round((parameters * bits) / 80)])),
    source: "parameters",
  };
}
