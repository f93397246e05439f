import type {
  ChatSendParams,
  ChatSendResult,
  CompleteParams,
  CompleteResult,
  EmbedKind,
  InfillParams,
  InfillResult,
  ModelInfo,
} from "../../shared/protocol";

/**
 * The seam between the sidecar's methods and whatever runs a model: one small interface per capability. The
 * embedded engine (node-llama-cpp, `engines/llama/`) and the remote engines (`engines/remote/`) implement them;
 * the registry (`engines/registry.ts`) keeps one {@link RoleEngines} per role, and the server and the code index
 * see only these. (Tabby's `CompletionStream` / `ChatCompletionStream` / `Embedding` traits are the model.)
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
  /** How many compiled response grammars the engine keeps (engines that compile them: the embedded one). */
  grammarCacheStats?(): { entries: number; maxEntries: number };
  dispose(): void | Promise<void>;
}

/** Fill-in-the-middle: the code between a prefix and a suffix. */
export interface FimEngine {
  /** @throws HearthError Unsupported when the model (or engine) cannot do FIM. */
  infill(params: InfillParams, signal: AbortSignal): Promise<InfillResult>;
  /**
   * A plain continuation of `params.prompt` (no FIM), each piece of text to `onDelta`; stop strings end it before
   * them. @throws HearthError Unsupported where the engine cannot; EngineUnavailable, …
   */
  complete?(params: CompleteParams, onDelta: (text: string) => void, signal: AbortSignal): Promise<CompleteResult>;
  dispose(): void | Promise<void>;
}

/** What a next-edit request costs and how it ended, whichever way it was asked. */
export interface NesAnswer {
  text: string;
  stopReason: "stop" | "maxTokens" | "cancelled";
  usage: { promptTokens: number; evaluatedTokens?: number; completionTokens: number };
  timings: { totalMs: number; ttftMs: number };
  /** Prompt-lookup draft tokens accepted and refused (embedded engine with speculation). */
  speculation?: { accepted: number; refused: number };
}

/**
 * Next-edit suggestions: the `nes` role's model asked in one of two ways (`sidecar/nes/formats/`). Raw: a
 * continuation of a prompt in the format the model was trained on, whose control tokens (`{special}` parts) are
 * tokenized as such and the user's text never is. Chat: a system and a user message answered as JSON under a
 * schema (any instruct model).
 */
export interface NesEngine {
  /**
   * @param options.speculate draft tokens from the prompt itself (prompt lookup) where the engine can.
   * @throws HearthError Unsupported where the engine cannot continue a raw prompt; EngineUnavailable, …
   */
  raw(
    parts: ReadonlyArray<string | { special: string }>,
    options: { maxTokens: number; stop: string[]; speculate: boolean },
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<NesAnswer>;
  /** @throws HearthError Unsupported where the model has no chat template; PromptTooLong, EngineUnavailable, … */
  chat(
    system: string,
    user: string,
    options: { maxTokens: number; schema: object },
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<NesAnswer>;
  dispose(): void | Promise<void>;
}

/** Embeddings: texts → L2-normalised vectors of one dimension. */
export interface EmbeddingEngine {
  /** Length of every vector. */
  readonly dimensions: number;
  /**
   * Embed `texts` in order; `kind` picks the query or document prefix of the model family, or `raw`: as given.
   * @returns unit vectors, and the tokens evaluated (for tokens/s figures; an estimate where the engine
   *   does not say).
   */
  embed(texts: string[], kind: EmbedKind, signal?: AbortSignal): Promise<{ vectors: Float32Array[]; tokens: number }>;
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

/**
 * What an engine's loader makes for one role: the model's info, the capability of the role, and the disposal
 * of everything it owns (contexts, shared weights, connections). Made by `LlamaRuntime.load` (embedded) or
 * `loadRemote` (remote); kept by the registry.
 */
export interface RoleEngines {
  info: ModelInfo;
  chat?: ChatEngine;
  completion?: FimEngine;
  embedding?: EmbeddingEngine;
  rerank?: RerankEngine;
  nes?: NesEngine;
  /**
   * Token ids of `text` in the role's model (the BOS token first with `addBos`, when the model asks for one);
   * absent where the engine tokenizes on its own (remote).
   */
  tokenize?(text: string, special: boolean, addBos?: boolean): number[];
  /**
   * The text of token ids, special tokens written out, as it continues `lastTokens` (a leading space is kept);
   * absent where the engine tokenizes on its own.
   * @throws HearthError InvalidParams for an id outside the vocabulary (llama.cpp would abort on it).
   */
  detokenize?(tokens: number[], lastTokens?: number[]): string;
  /** Release what this role owns. Called once, when the role is unloaded or replaced. */
  dispose(): Promise<void>;
}
