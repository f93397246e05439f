import type { GgufFileInfo } from "node-llama-cpp";
import type { HearthError } from "../../shared/errors";
import { corrupt } from "./ggufHeader";

/** Architectures without attention heads (state-space and RNN models): their head counts may be 0. */
const HEADLESS = /mamba|rwkv/i;

/** The hint of every hyperparameter error: the copy is whole, its header is wrong. */
const HINT =
  "Its header is wrong, not truncated (a broken converter or an altered file): get the model from another source.";

const asNumber = (v: unknown): number | undefined =>
  typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;

/** A number, or every number of a per-layer array (some architectures give one value per layer). */
function values(v: unknown): number[] {
  if (Array.isArray(v)) return v.map(asNumber).filter((n): n is number => n !== undefined);
  const n = asNumber(v);
  return n === undefined ? [] : [n];
}

/**
 * The first hyperparameter of a parsed GGUF header that llama.cpp would abort on or cannot run with, as a
 * ModelCorrupt error naming it, or undefined when none is found. Checked, each for what llama.cpp asserts or
 * divides by: `block_count` between 1 and the number of tensors (every block has tensors), attention head
 * counts not 0 (except for architectures without attention) with `head_count_kv` ≤ `head_count`,
 * `embedding_length` and `context_length` not 0, and a vocabulary whose tokens are all distinct (llama.cpp
 * asserts that its token → id map is as long as the list). No such list is complete: a load that still
 * crashes is named by the client (see `ModelRoles`).
 */
export function hyperparameterProblem(filePath: string, info: GgufFileInfo): HearthError | undefined {
  const arch = String(info.metadata.general.architecture);
  const m = (info.architectureMetadata ?? {}) as Record<string, unknown>;
  const attention = (m["attention"] ?? {}) as Record<string, unknown>;
  const tensors = (info.fullTensorInfo ?? info.tensorInfo ?? []).length;
  const key = (k: string) => `${arch}.${k}`;

  const blocks = asNumber(m["block_count"]);
  if (blocks !== undefined && (blocks < 1 || blocks > tensors)) {
    return corrupt(filePath, `its ${key("block_count")} is ${blocks}, but the file holds ${tensors} tensors`, HINT);
  }
  for (const k of ["embedding_length", "context_length"]) {
    if (asNumber(m[k]) === 0) return corrupt(filePath, `its ${key(k)} is 0`, HINT);
  }
  if (!HEADLESS.test(arch)) {
    const heads = values(attention["head_count"]);
    const kv = values(attention["head_count_kv"]);
    if (heads.some((h) => h <= 0)) return corrupt(filePath, `its ${key("attention.head_count")} is 0`, HINT);
    if (kv.some((h) => h <= 0)) return corrupt(filePath, `its ${key("attention.head_count_kv")} is 0`, HINT);
    const maxHeads = Math.max(...heads);
    if (heads.length && kv.some((h) => h > maxHeads)) {
      return corrupt(
        filePath,
        `its ${key("attention.head_count_kv")} (${Math.max(...kv)}) is larger than its head_count (${maxHeads})`,
        HINT,
      );
    }
  }
  const tokens = (info.metadata as { tokenizer?: { ggml?: { tokens?: unknown } } }).tokenizer?.ggml?.tokens;
  if (Array.isArray(tokens)) {
    if (tokens.length === 0) return corrupt(filePath, "its vocabulary (tokenizer.ggml.tokens) is empty", HINT);
    const seen = new Map<unknown, number>();
    for (const [id, token] of tokens.entries()) {
      const first = seen.get(token);
      if (first !== undefined) {
        return corrupt(
          filePath,
          `its vocabulary lists the token ${JSON.stringify(String(token)).slice(0, 40)} twice (ids ${first} and ${id})`,
          HINT,
        );
      }
      seen.set(token, id);
    }
  }
  return undefined;
}
