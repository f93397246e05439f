import type { GgufFileInfo } from "node-llama-cpp";
import type { ModelRole } from "../../shared/protocol";

/** llama.cpp's `pooling_type` values (`enum llama_pooling_type`): 1 mean, 2 CLS, 3 last token, 4 rank. */
const POOLING_RANK = 4;

/**
 * The roles a GGUF can serve, read from its metadata alone (nothing is loaded):
 * - a rank pooling head (`<arch>.pooling_type` 4, what llama.cpp's converter writes for cross-encoders such as
 *   bge-reranker): `rerank`;
 * - any other pooling, or a non-causal encoder (`<arch>.attention.causal` false, BERT-style): `embedding`;
 * - otherwise a causal language model: `chat`, and `completion` too when its tokenizer has fill-in-the-middle tokens
 *   (`tokenizer.ggml.fim_pre_token_id`, or the older `prefix_token_id`), which is what FIM needs.
 * Used to sort what discovery finds into roles before anything is downloaded (issue: first run).
 */
export function modelRoles(info: GgufFileInfo): ModelRole[] {
  const metadata = info.metadata as unknown as Record<string, Record<string, unknown> | undefined> & {
    general?: { architecture?: string };
    tokenizer?: { ggml?: Record<string, unknown> };
  };
  const architecture = metadata.general?.architecture ?? "";
  const arch = (metadata[architecture] ?? {}) as { pooling_type?: unknown; attention?: { causal?: unknown } };
  const pooling = typeof arch.pooling_type === "number" ? arch.pooling_type : undefined;
  if (pooling === POOLING_RANK) return ["rerank"];
  if ((pooling !== undefined && pooling > 0) || arch.attention?.causal === false) return ["embedding"];
  const tokenizer = metadata.tokenizer?.ggml ?? {};
  const fim = tokenizer["fim_pre_token_id"] !== undefined || tokenizer["prefix_token_id"] !== undefined;
  return fim ? ["chat", "completion"] : ["chat"];
}
