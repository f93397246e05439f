import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Default models per role, fetched on first use when the user has configured none (needs internet).
 * They are small enough to run on a laptop CPU. Only `chat` is used by the foundation.
 */
export const DEFAULT_MODELS = {
  chat: "hf:bartowski/SmolLM2-360M-Instruct-GGUF:Q4_K_M",
} as const;

/**
 * Context window (tokens) the embedding and rerank models are loaded with: a chunk is at most 384 estimated
 * tokens and a rerank pair adds the query, so 1,024 leaves room without the memory of a chat-sized context.
 */
export const SEARCH_MODEL_CONTEXT_SIZE = 1024;

/** Where downloaded models go when nothing else is set: `$HEARTH_MODELS_DIR` or `~/.cache/hearth/models`. */
export function defaultModelsDir(): string {
  return process.env["HEARTH_MODELS_DIR"] || path.join(os.homedir(), ".cache", "hearth", "models");
}

/**
 * Turn what the user typed into a model URI the sidecar understands: `hf:`/URLs and existing paths pass
 * through; a bare file name that exists in `modelsDir` becomes that file's path.
 */
export function resolveModelArg(arg: string, modelsDir: string | undefined, cwd = process.cwd()): string {
  if (/^(hf:|huggingface:|https?:\/\/)/i.test(arg)) return arg;
  const local = path.resolve(cwd, arg);
  if (existsSync(local)) return local;
  if (modelsDir) {
    const inDir = path.resolve(modelsDir, arg);
    if (existsSync(inDir)) return inDir;
  }
  return local;
}
