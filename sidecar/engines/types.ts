import type { ChatSendParams, ChatSendResult, InfillParams, InfillResult } from "../../shared/protocol";

/**
 * The seam between the sidecar's methods and whatever runs a model: one small interface per capability. The
 * embedded engine (node-llama-cpp, `sidecar/llama/`) and the remote engines (`sidecar/engines/remote.ts`)
 * implement them; `Runtime` keeps one per role, and the server and the code index see only these.
 */

/** Chat: stream a reply to a conversation. */
export interface ChatEngine {
  /**
   * Answer the last user message of `params.messages`, calling `onDelta` with each piece of answer text and
   * `onReasoning` with each piece of what a reasoning model thinks first (never mixed into the answer).
   * Cancelling `signal` resolves with `stopReason: "cancelled"` and the partial text.
   * @throws HearthError PromptTooLong, NoModelLoaded, EngineUnavailable, EngineAuth, …
   */
  send(
    params: ChatSendParams,
    onDelta: (text: string) => void,
    signal: AbortSignal,
    onReasoning?: (text: string) => void,
  ): Promise<ChatSendResult>;
  dispose(): void | Promise<void>;
}

/** Fill-in-the-middle: the code between a prefix and a suffix. */
export interface FimEngine {
  /** @throws HearthError Unsupported when the model (or engine) cannot do FIM. */
  infill(params: InfillParams, signal: AbortSignal): Promise<InfillResult>;
  dispose(): void | Promise<void>;
}

/** Embeddings: texts → L2-normalised vectors of one dimension. */
export interface EmbeddingEngine {
  /** Length of every vector. */
  readonly dimensions: number;
  /**
   * Embed `texts` in order; `kind` picks the query or document prefix of the model family.
   * @returns unit vectors, and the tokens evaluated (for tokens/s figures; an estimate where the engine
   *   does not say).
   */
  embed(
    texts: string[],
    kind: "query" | "document",
    signal?: AbortSignal,
  ): Promise<{ vectors: Float32Array[]; tokens: number }>;
  dispose(): void | Promise<void>;
}

/** Rerank: a relevance score per document for a query (higher is more relevant; scales differ by engine). */
export interface RerankEngine {
  /**
   * One score per document, in the documents' order. With `deadline` (a `performance.now()` time, ms), scores
   * for the documents' first n only, n < length when the deadline passed: the embedded engine scores one
   * document at a time and stops once it is past (always scoring the first); a remote engine's one request is
   * abandoned at the deadline and gives none.
   * @throws the abort's error when `signal` aborts (the deadline is not an error).
   */
  rank(query: string, documents: string[], signal?: AbortSignal, deadline?: number): Promise<number[]>;
  dispose(): void | Promise<void>;
}
