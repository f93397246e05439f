/**
 * The typed protocol between a client (the VS Code extension or the headless CLI) and the Hearth sidecar.
 *
 * Transport: JSON-RPC 2.0 over Node IPC, with the LSP lifecycle (`initialize` → `initialized` … `shutdown` →
 * `exit`), because the extension speaks to the sidecar through `vscode-languageclient`. Every custom method is
 * named `namespace/verb`. This module is the only place a message shape is defined; the extension and the CLI
 * import it with `import type` (plus the constants, which are plain values).
 *
 * Streams: a request that streams (`chat/send`) carries a client-chosen `streamId`; the sidecar sends
 * `chat/delta` notifications tagged with it and then answers the request once with the final result.
 *
 * Errors: every failure the client may act on carries a fixed numeric code from {@link ErrorCodes}; clients
 * switch on the code, never on the message text.
 */

/** Bumped on any incompatible change. The sidecar refuses an `initialize` that names another version. */
export const PROTOCOL_VERSION = 1;

/**
 * Fixed error codes carried in `ResponseError.code`. The range −33000…−33099 is ours; −32800 is the LSP
 * "request cancelled" code, kept so generic clients understand it.
 */
export const ErrorCodes = {
  /** The client cancelled the request (`$/cancelRequest`) before it produced a usable result. */
  Cancelled: -32800,
  /** Params did not match the method's shape. `message` names the offending field. */
  InvalidParams: -32602,
  /** `initialize` named a protocol version the sidecar does not speak. */
  ProtocolMismatch: -33000,
  /** The model path does not exist (or an `hf:`/URL model is not downloaded and downloads are off). */
  ModelNotFound: -33001,
  /** The file exists but is not a GGUF file (wrong magic bytes: e.g. a text file renamed `.gguf`). */
  ModelNotGguf: -33002,
  /** The file starts like a GGUF but cannot be read or loaded (truncated, corrupt tensors, unknown arch). */
  ModelCorrupt: -33003,
  /** The model (plus its context) does not fit the memory available for the chosen backend. */
  ModelTooLarge: -33004,
  /** A chat request arrived while no model is loaded for the role. */
  NoModelLoaded: -33005,
  /** Downloading a model failed (network, HTTP status, truncated body after retries). */
  DownloadFailed: -33006,
  /** A downloaded file's sha256 differs from the pinned one; the file was deleted. */
  ChecksumMismatch: -33007,
  /** The requested GPU backend is not available on this machine (no prebuilt binary or no device). */
  BackendUnavailable: -33008,
  /** The model cannot do what was asked (e.g. no chat template and no fallback, no infill tokens). */
  Unsupported: -33009,
  /**
   * The sidecar process exited while the request was pending (set by the client), or the sidecar got the
   * request after `shutdown` (set by the sidecar). Either way: send it again after the restart.
   */
  SidecarExited: -33010,
  /**
   * The code index's files cannot be read as an index (truncated or deleted data files or manifests). The
   * message names the folder; `index/build` with `force` rebuilds it.
   */
  IndexDamaged: -33011,
  /** The index folder cannot be written or read: the disk is full, the folder is read-only or not a folder. */
  IndexStorage: -33012,
  /** Another process held the index folder's writer lock for longer than a writer waits (~30 s). */
  IndexBusy: -33013,
  /**
   * The system prompt and the last message alone do not fit the context window (with the answer's budget).
   * Nothing is cut silently: the message says both sizes.
   */
  PromptTooLong: -33014,
  /**
   * A remote engine cannot be reached or stopped answering: connection refused, a timeout, a stream cut
   * mid-answer, 5xx or 429 after the retries. The message names its URL.
   */
  EngineUnavailable: -33015,
  /** A remote engine refused the request's credentials (401 / 403). */
  EngineAuth: -33016,
  /** The disk has no room for a download (checked before anything is fetched); the message says both sizes. */
  DiskFull: -33017,
  /** A model catalog cannot be read or does not match the catalog format; the message names the field. */
  CatalogInvalid: -33018,
  /** Anything else; the message says what, the log has the stack. */
  Internal: -33099,
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * Roles a model can be loaded for: chat, FIM completion, embedding (code search), rerank (code search), and `nes`
 * (next-edit suggestions: a model that rewrites the window around the cursor from the recent edits).
 */
export type ModelRole = "chat" | "completion" | "embedding" | "rerank" | "nes";
export const MODEL_ROLES: readonly ModelRole[] = ["chat", "completion", "embedding", "rerank", "nes"];

/** GPU backend choice; `off` forces CPU. Maps to node-llama-cpp's `getLlama({gpu})`. */
export type GpuSetting = "auto" | "cuda" | "vulkan" | "metal" | "off";
export const GPU_SETTINGS: readonly GpuSetting[] = ["auto", "cuda", "vulkan", "metal", "off"];

/** Sent by the client as `initializationOptions` in the LSP `initialize` request. */
export interface SidecarInitOptions {
  protocolVersion: number;
  /** Folder where `hf:` and URL models are downloaded (the extension's global storage or the CLI's cache). */
  modelsDir: string;
  /** CPU threads for generation; 0 = the sidecar's default ({@link defaultThreads} in the sidecar). */
  threads?: number;
  gpu?: GpuSetting;
  /** Whether `model/load` may download a missing `hf:`/URL model. Default true. */
  allowDownload?: boolean;
  /** A download attempt with no new bytes for this long is abandoned and retried (ms, default 30 000). */
  downloadStallTimeoutMs?: number;
  /**
   * A remote engine's request fails when its answer (or, streaming, its next chunk) takes longer than this (ms,
   * default 60 000).
   */
  engineTimeoutMs?: number;
  /**
   * Memory the embedded engine's roles may use together, bytes (default: this machine's RAM less a reserve for the
   * system and the editor, plus 90 % of the GPU's free memory — `setup/plan`'s budget). When the loaded roles do not
   * fit it, the least recently used one other than completion is unloaded and loaded again on its next request.
   */
  memoryBudgetBytes?: number;
  /**
   * Start the embedded engine's llama.cpp backend right after the handshake, in the background (node-llama-cpp
   * first runs its prebuilt binary in a child process to check it, then loads it: ~0.3–0.5 s), so a model load that
   * follows does not wait for it. The CLI sets it unless its model runs on a remote engine; default false, so a
   * client with only remote engines never loads llama.cpp. A failure here is reported by the first real use.
   */
  prepareEngine?: boolean;
}

/** Returned inside `InitializeResult.capabilities.experimental.hearth`. */
export interface SidecarInfo {
  protocolVersion: number;
  /** Sidecar process id (for diagnostics and for crash tests). */
  pid: number;
  version: string;
  nodeLlamaCppVersion: string;
  threads: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Status and progress (sidecar → client notifications)

export type SidecarState = "starting" | "idle" | "loading" | "ready" | "busy" | "error";

/** `sidecar/status` — sidecar → client whenever its state changes; drives the status-bar item. */
export interface StatusParams {
  state: SidecarState;
  health: "ok" | "warning" | "error";
  /** One human sentence, e.g. "Loading stories260K.gguf (42 %)". */
  message?: string;
  /** File name of the loaded chat model, when there is one. */
  model?: string;
}

/** `model/progress` — sidecar → client while `model/load` downloads or loads; tagged with the load's progressId. */
export interface ModelProgressParams {
  progressId: string;
  phase: "download" | "load";
  /** 0…1 */
  fraction: number;
  downloadedBytes?: number;
  totalBytes?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Models

/**
 * A model reference as the user writes it: an absolute or relative local `.gguf` path, an `hf:user/repo:quant`
 * URI, or an `http(s)://` URL. `sha256` pins the content of a downloaded file (hex, lower case).
 */
/** Kinds of remote engine Hearth speaks to (see ../shared/design/ENGINE-PROTOCOLS.md for their wire facts). */
export type EngineKind = "llama-server" | "ollama" | "vllm" | "lmstudio" | "openai";
export const ENGINE_KINDS: readonly EngineKind[] = ["llama-server", "ollama", "vllm", "lmstudio", "openai"];

/**
 * A remote engine that runs a role's model instead of the embedded llama.cpp: its base URL (`http(s)://host:port`,
 * without `/v1`), its kind (detected by probing when omitted), and an API key sent only to that URL.
 */
export interface EngineSpec {
  url: string;
  kind?: EngineKind;
  apiKey?: string;
}

/**
 * Which model a role runs. Embedded (no `engine`): `uri` is a GGUF path, a file name in the models folder, an
 * `hf:` URI or a URL, optionally pinned by `sha256`. Remote (`engine`): `uri` is the engine's model id, or `""`
 * for the engine's only model.
 */
export interface ModelSpec {
  uri: string;
  sha256?: string;
  engine?: EngineSpec;
}

/** `model/load` — client → sidecar: resolve (download if needed), check it fits, load it for a role. */
export interface ModelLoadParams {
  role: ModelRole;
  model: ModelSpec;
  /** Context window in tokens; default min(train context, setting `hearth.contextSize`'s default). */
  contextSize?: number;
  /** Tag for `model/progress` notifications; none are sent without it. */
  progressId?: string;
  /** Embedding / rerank roles: tokens per decode batch (≤ contextSize). Default: `hearth.index.batchTokens`'s. */
  batchSize?: number;
  /**
   * Embedding role: query / document prefixes to use instead of the model family's own (see
   * `sidecar/search/prefixes.ts`); an omitted side keeps the family's.
   */
  prefixes?: { query?: string; document?: string };
}

export interface ModelInfo {
  role: ModelRole;
  /** Absolute path of the GGUF that was loaded; for a remote engine, `<engine url>#<model id>`. */
  path: string;
  /** The remote engine that runs the model; absent for the embedded llama.cpp. */
  engine?: { kind: EngineKind; url: string };
  /** File name, for display. */
  name: string;
  architecture: string;
  sizeBytes: number;
  trainContextSize: number;
  /** Context window actually allocated, in tokens. */
  contextSize: number;
  /** node-llama-cpp chat wrapper chosen from the model's template (e.g. "Llama2Chat", "ChatML"). */
  chatWrapper?: string;
  /** Whether the model declares FIM (infill) tokens. */
  infillSupported: boolean;
  /**
   * How the role's engine makes tool calls: `native` (the engine's own tool calling, OpenAI `tools`; the grammar's
   * JSON calls remain the fallback) or `grammar` (one grammar-constrained JSON call per step). Clients read this,
   * never the engine's kind.
   */
  toolCalls: "native" | "grammar";
  /** Embedding role: length of the vectors it produces. */
  embeddingDimensions?: number;
  gpuLayers: number;
  loadMs: number;
  /**
   * Estimated memory of the role on the embedded engine (node-llama-cpp's GgufInsights + the load overhead), bytes:
   * the weights (shared by the roles that load the same file) and this role's context; absent on remote engines.
   */
  memory?: { weightsBytes: number; contextBytes: number; placement: "gpu" | "cpu" };
}
export type ModelLoadResult = ModelInfo;

/** `model/unload` — client → sidecar: dispose the model of a role. */
export interface ModelUnloadParams {
  role: ModelRole;
}

/** `model/list` — client → sidecar: list GGUF files already on disk (no download). */
export interface ModelListParams {
  /** Extra folders to scan (e.g. the `hearth.models.folder` setting), searched recursively to depth 4. */
  folders?: string[];
  /** Override the home directory used to find Ollama / LM Studio / HF caches (tests). */
  home?: string;
}
export interface DiscoveredModel {
  path: string;
  /** Display name, e.g. "llama3.2:1b" for Ollama or "Qwen2.5-Coder-1.5B-Q4_K_M.gguf". */
  name: string;
  source: "folder" | "ollama" | "lmstudio" | "huggingface" | "hearth";
  sizeBytes: number;
  /**
   * The roles its GGUF metadata says it can serve (a rank head → rerank, pooling → embedding, a causal model →
   * chat, with FIM tokens → completion too); absent when its header could not be read.
   */
  roles?: ModelRole[];
}
export interface ModelListResult {
  models: DiscoveredModel[];
}

// ---------------------------------------------------------------------------------------------------------------
// Chat

export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
}

/** Sampling parameters; omitted fields take the sidecar's defaults. */
export interface GenerationParams {
  /** 0 = greedy. Default: `hearth.chat.temperature`'s. */
  temperature?: number;
  /** Nucleus sampling mass, 0…1. Default: `hearth.chat.topP`'s. */
  topP?: number;
  /** Default: `hearth.chat.topK`'s. */
  topK?: number;
  /** Upper bound on generated tokens. Default: `hearth.chat.maxTokens`'s. */
  maxTokens?: number;
  /** RNG seed for reproducible sampling. */
  seed?: number;
}

/** `chat/send` — client → sidecar: generate the assistant's answer to the last user message, streaming deltas. */
export interface ChatSendParams {
  streamId: string;
  /** The conversation so far; the last message must be the user's. */
  messages: ChatMessage[];
  system?: string;
  params?: GenerationParams;
  /**
   * Constrain the answer to JSON of this schema (node-llama-cpp's JSON-schema grammar: object, array, string
   * with minLength/maxLength, number, integer, boolean, null, enum, const, oneOf). The result then carries the
   * parsed value in `json`. Bound every string with `maxLength` well under `maxTokens` so the answer always
   * completes (an answer cut at `maxTokens` has no `json`).
   */
  responseSchema?: object;
  /**
   * Tools the model may call, on every engine: natively where the engine has tool calling
   * (`ModelInfo.toolCalls` "native"), else under a grammar built from their schemas (`sidecar/engines/
   * toolCalling.ts`). The calls come back in {@link ChatSendResult.toolCalls}. Not with `responseSchema`. At most
   * {@link MAX_CHAT_TOOLS}.
   */
  tools?: ChatTool[];
  /**
   * What happens when the conversation outgrows the context window: `trim` (default, Hearth's chat) leaves the
   * oldest turns out and keeps room for `maxTokens` of answer; `strict` (llama-server's, `hearth serve`'s) keeps
   * every turn, refuses a prompt over the window (PromptTooLong with the counts) and lets the answer use what is
   * left of it, up to `maxTokens`.
   */
  contextPolicy?: "trim" | "strict";
  /**
   * Draft tokens from the prompt (prompt lookup) on the embedded engine, for answers that copy most of their input —
   * the editing actions (Fix, Document, Edit). Drafts never change what is generated; they only let the model check
   * several tokens a step. Default false.
   */
  draftFromPrompt?: boolean;
  /** With `tools`: "auto" (default) lets the model answer in text, "required" asks for a call, `{name}` for that tool's. */
  toolChoice?: "auto" | "required" | { name: string };
}

/** A tool the model may call: a name, one line for the model, and its arguments' JSON schema. */
export interface ChatTool {
  name: string;
  description?: string;
  parameters: object;
}

/** Most tools one `chat/send` may carry. */
export const MAX_CHAT_TOOLS = 128;

/** A call the model made through the engine's native tool calling: `arguments` is the JSON text it wrote. */
export interface ChatToolCall {
  /** The engine's call id, when it sent one. */
  id?: string;
  name: string;
  arguments: string;
}

/** Why generation ended: end-of-generation token, token limit, or cancellation. */
export type StopReason = "stop" | "maxTokens" | "cancelled";

export interface ChatSendResult {
  text: string;
  stopReason: StopReason;
  usage: {
    /** Prompt tokens the model evaluated for this answer (less than the prompt when the KV cache was reused). */
    promptTokens: number;
    /** Tokens generated. */
    completionTokens: number;
  };
  timings: {
    /** Time to first token, ms, from the request's arrival in the sidecar. */
    ttftMs: number;
    /** Whole request, ms. */
    totalMs: number;
    /** completionTokens / decode time (s), excluding time to first token. */
    tokensPerSecond: number;
  };
  /**
   * How many of the oldest messages were left out because the conversation outgrew the context window
   * (0 when everything fit). The client shows this to the user.
   */
  droppedMessages: number;
  /** With `draftFromPrompt` on the embedded engine: drafted tokens the model accepted and refused. */
  speculation?: { accepted: number; refused: number };
  /**
   * With `responseSchema`: the parsed answer (absent when generation stopped before the JSON was complete, or
   * when a remote engine that ignores `response_format` answered with text that is not JSON).
   */
  json?: unknown;
  /**
   * With `tools`, on any engine: the calls the model made, in order; absent when it answered in text.
   */
  toolCalls?: ChatToolCall[];
  /**
   * With `tools`: why the output is neither a call nor an answer (a call cut at the token limit, text where a call
   * was required); `text` is then what the model wrote.
   */
  toolCallError?: string;
  /**
   * Something the user should know about how the answer was made: the engine refused native tool calls, or answered
   * in text where a call was required, and the request was made again under the tools' grammar.
   */
  notice?: string;
  /**
   * What a reasoning model thought before answering (`<think>…</think>`, an engine's `reasoning_content` or
   * `reasoning`, node-llama-cpp's thought segments); absent when it thought nothing. Never part of `text`.
   */
  reasoning?: string;
}

/**
 * `chat/delta` — sidecar → client while `chat/send` runs: the next piece of the answer (`text`), or of the
 * model's reasoning (`reasoning`, with `text` ""), in the order the model produced them.
 */
export interface ChatDeltaParams {
  streamId: string;
  text: string;
  reasoning?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Completion (fill-in-the-middle)

/** `completion/infill` — client → sidecar: the text to insert at the cursor between `prefix` and `suffix`. */
export interface InfillParams {
  /** Text before the cursor (the sidecar keeps its last `prefixTokens` tokens). */
  prefix: string;
  /** Text after the cursor (the sidecar keeps its first `suffixTokens` tokens). */
  suffix: string;
  /** Prefix window in tokens. Default: `hearth.completion.prefixTokens`'s. */
  prefixTokens?: number;
  /** Suffix window in tokens. Default: `hearth.completion.suffixTokens`'s. */
  suffixTokens?: number;
  /** Upper bound on generated tokens. Default: `hearth.completion.maxTokens`'s. */
  maxTokens?: number;
  /** Stop at the first newline (single-line suggestion). */
  singleLine?: boolean;
  /** Stop generating after this many ms and return what there is (stopReason "timeBudget"). */
  timeBudgetMs?: number;
  /**
   * Context from other files (recently edited and viewed ranges, the file's imports), already formatted by the
   * client as comments of the file's language. Placed before the prefix window; its end is kept when it exceeds
   * `contextTokens`.
   */
  context?: string;
  /** Token budget for `context`. Default: `hearth.completion.contextTokens`'s. */
  contextTokens?: number;
  /**
   * The file's VS Code language id. For a multi-line suggestion in a language with a tree-sitter grammar, the
   * sidecar keeps only the longest run of whole lines that adds no syntax error to prefix + suffix (see
   * `linesCut`).
   */
  language?: string;
}

export interface InfillResult {
  text: string;
  /**
   * Why generation ended: the model's end of text, `maxTokens`, cancelled, `timeBudgetMs`, the first newline of a
   * `singleLine` request, or (multi-line) a finished line identical to the one before it — a generation loop; the
   * repeat and what follows it are not in `text`.
   */
  stopReason: "stop" | "maxTokens" | "cancelled" | "timeBudget" | "newline" | "repeatedLine";
  usage: {
    /** Tokens of the FIM prompt (prefix + suffix + FIM tokens). */
    promptTokens: number;
    /** Prompt tokens actually evaluated: fewer than promptTokens when the KV cache held a shared prefix. */
    evaluatedTokens: number;
    completionTokens: number;
  };
  timings: {
    totalMs: number;
    ttftMs: number;
    /**
     * Where the time went, ms (the embedded engine only): tokenizing the prefix, suffix and context; finding the
     * KV-cache prefix; until the first token (prompt evaluation + first sample); the remaining tokens (decode,
     * sampling, detokenizing); and the finish (stops, syntax trim). They add up to about `totalMs`.
     */
    phases?: { tokenizeMs: number; matchMs: number; promptMs: number; decodeMs: number; finishMs: number };
  };
  /** Lines cut from the end of a multi-line suggestion because they added syntax errors (needs `language`). */
  linesCut?: number;
}

/**
 * `completion/complete` — client → sidecar: a plain continuation of `prompt` (no FIM) by the completion role's
 * model, as llama-server's `/completion` does; streamed as `chat/delta` notifications of `streamId` when one is
 * given. `hearth serve`'s `/completion` and `/v1/completions` without `suffix` use it.
 */
export interface CompleteParams {
  streamId?: string;
  /** The text to continue, used as it is (no template). */
  prompt: string;
  /** Tokens to generate at most (default `hearth.completion.maxTokens`'s). */
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  /** Stop before any of these strings; the stop string is not in the text. At most 16. */
  stop?: string[];
}
export interface CompleteResult {
  text: string;
  stopReason: "stop" | "maxTokens" | "cancelled";
  /** The stop string that ended it, when one did. */
  stoppingWord?: string;
  usage: { promptTokens: number; completionTokens: number };
  timings: { totalMs: number; ttftMs: number };
}

// ---------------------------------------------------------------------------------------------------------------
// Next-edit suggestions

/** The prompt formats of next-edit models (`sidecar/nes/formats/`); `auto` picks one from the model's name. */
export type NesFormat = "sweep" | "zeta" | "zeta2" | "generic";
export const NES_FORMATS: readonly NesFormat[] = ["sweep", "zeta", "zeta2", "generic"];

/**
 * One recent edit of a file, as the editor saw it: the lines it touched before and after (a small hunk with a few
 * lines of context, not the whole file), with when it was made.
 */
export interface NesEditEvent {
  /** The file's path relative to the workspace, `/`-separated (what the prompt shows). */
  path: string;
  /** The hunk's text before the edit, whole lines. */
  original: string;
  /** The same hunk after the edit. */
  updated: string;
  /** 0-based first line of the hunk in the file after the edit. */
  line?: number;
  /** When it was made, ms since the epoch. */
  at?: number;
}

/**
 * `nes/predict` — client → sidecar: the next edit the user is about to make, predicted by the `nes` role's model
 * from the file, the cursor and the recent edits. The model rewrites a window of lines around the cursor; the
 * answer is the rewrite's difference from the window, or none.
 */
export interface NesPredictParams {
  /** Streamed as `chat/delta` notifications of this id when given (the rewritten window as it comes). */
  streamId?: string;
  /** The file's path relative to the workspace, `/`-separated. */
  path: string;
  /** The whole document as it is now. */
  text: string;
  /** 0-based cursor line and UTF-16 column. */
  line: number;
  column: number;
  /** Recent edits, oldest first (the last is the one just made). At most 32. */
  history?: NesEditEvent[];
  /** The window's text before the last edit (Sweep's `original/` block); the current window when absent. */
  original?: string;
  /** The prompt format; default (`auto`): the model family's, `generic` for an unknown family. */
  format?: NesFormat | "auto";
  /** Lines of the window above and below the cursor line (default 10: Sweep's fixed 21-line window). */
  windowRadius?: number;
  /** Tokens to generate at most (default: enough for the window, 512 at most). */
  maxTokens?: number;
  /** Stop generating after this long, ms, and answer "no edit" (default 5 000). */
  timeBudgetMs?: number;
  /** Draft tokens from the window itself (prompt lookup) on the embedded engine (default true). */
  speculate?: boolean;
}

/** A predicted edit: replace lines `[startLine, endLine)` of the document with `text` (whole lines). */
export interface NesEdit {
  startLine: number;
  /** Exclusive; equal to `startLine` for a pure insertion. */
  endLine: number;
  /** The new lines, each ending with a newline (empty for a deletion). */
  text: string;
}

export interface NesPredictResult {
  /**
   * The edit, narrowed to the lines that change (the first and last differing lines of the window and the
   * rewrite); null when the model kept the window as it was, or its answer could not be read (`reason`).
   */
  edit: NesEdit | null;
  /** Why there is no edit, or "edit". */
  reason: "edit" | "noChange" | "unparseable" | "cancelled" | "timeBudget";
  /** The format the prompt was written in. */
  format: NesFormat;
  /** The window the model saw: lines `[startLine, endLine)`. */
  window: { startLine: number; endLine: number };
  usage: {
    promptTokens: number;
    /** Prompt tokens evaluated; fewer than promptTokens when the KV cache held a shared prefix (embedded only). */
    evaluatedTokens?: number;
    completionTokens: number;
  };
  timings: { totalMs: number; ttftMs: number };
  /** Prompt-lookup speculation on the embedded engine: draft tokens accepted and refused in this request. */
  speculation?: { accepted: number; refused: number };
}

// ---------------------------------------------------------------------------------------------------------------
// Runtime

/** `runtime/configure` — client → sidecar: change backend or threads; loaded models are reloaded. */
export interface RuntimeConfigureParams {
  gpu?: GpuSetting;
  threads?: number;
}

/** `runtime/stats` — client → sidecar: backend, devices and memory. */
export interface RuntimeStatsResult {
  /** "cpu", "cuda", "vulkan" or "metal". */
  backend: string;
  devices: string[];
  threads: number;
  vram: { totalBytes: number; usedBytes: number };
  ram: { totalBytes: number; freeBytes: number; sidecarRssBytes: number };
  models: ModelInfo[];
  /** The chat model's compiled response grammars: how many are kept, and the bound (absent on remote engines). */
  grammarCache?: { entries: number; maxEntries: number };
  /**
   * The roles' memory budget on the embedded engine: the budget, the estimated use of the roles loaded now, the roles
   * unloaded to fit it (loaded again on their next request), and how many unloads and reloads that has taken.
   */
  memory: { budgetBytes: number; usedBytes: number; evicted: ModelRole[]; evictions: number; reloads: number };
}

// ---------------------------------------------------------------------------------------------------------------
// Code index and search

/** Where an index lives and which folder it covers; every `index/*` request carries it. */
export interface IndexTarget {
  /** Absolute path of the workspace folder that is indexed. Hit paths are relative to it. */
  root: string;
  /** Folder of the LanceDB database (the extension's workspace storage, or the CLI's cache). */
  storageDir: string;
}

/** Discovery settings shared by `index/build` and `index/update`. */
export interface IndexDiscoveryOptions {
  /** Globs to leave out (VS Code `files.exclude` + `search.exclude` keys). Default: VS Code's defaults. */
  exclude?: string[];
  /** Files above this size are skipped, bytes. Default: `hearth.index.maxFileBytes`'s. */
  maxFileBytes?: number;
  /** Largest chunk, estimated tokens. Default 384. */
  chunkTokens?: number;
  /** Overlap between pieces of a split chunk, estimated tokens. Default 48. */
  overlapTokens?: number;
  /** Chunks embedded and written per batch (an interrupted build loses at most one batch). Default: `hearth.index.batchSize`'s. */
  batchSize?: number;
}

/** A path left out of the index, and why (binary, too large, not UTF-8, ignored lockfile, symlink loop, …). */
export interface SkippedPath {
  path: string;
  reason: string;
}

/**
 * `index/build` — client → sidecar: create or update the index of `root`. Unchanged files (same sha256) are
 * not re-embedded; files gone from disk are removed. Uses the loaded embedding model, or builds a lexical-only
 * index when none is loaded. Cancelling keeps everything written so far: the next build resumes.
 */
export interface IndexBuildParams extends IndexTarget, IndexDiscoveryOptions {
  /** Tag for `index/progress` notifications. */
  progressId?: string;
  /** Re-chunk and re-embed every file, even unchanged ones. */
  force?: boolean;
}

export interface IndexBuildResult {
  /** Files in the index after the build, and their chunks. */
  files: number;
  chunks: number;
  /** Files (re)indexed by this build, unchanged files skipped, files removed because they are gone. */
  indexedFiles: number;
  unchangedFiles: number;
  removedFiles: number;
  /** Chunks written by this build. */
  newChunks: number;
  skipped: SkippedPath[];
  /** Embedding model file name; undefined for a lexical-only index. */
  embeddingModel?: string;
  table: string;
  timings: {
    totalMs: number;
    /** Time spent in the embedding model. */
    embedMs: number;
    /** Tokens embedded (after prefixes, cut to the context window). */
    embedTokens: number;
  };
}

/** `index/progress` — sidecar → client during `index/build`, at most ~10 per second. */
export interface IndexProgressParams {
  progressId: string;
  phase: "discover" | "index" | "finalize";
  filesDone: number;
  filesTotal: number;
  chunksDone: number;
  /** Estimated time left, ms (from bytes per second so far); undefined until there is a rate. */
  etaMs?: number;
}

/** `index/update` — client → sidecar: re-index changed files and drop deleted ones (file-watcher events). */
export interface IndexUpdateParams extends IndexTarget, IndexDiscoveryOptions {
  /** Created or changed files: absolute, or relative to `root`. Ignored/binary ones are removed if indexed. */
  changed?: string[];
  /** Deleted files (or the old side of a rename): absolute, or relative to `root`. */
  deleted?: string[];
}

export interface IndexUpdateResult {
  updated: number;
  removed: number;
  unchanged: number;
  skipped: SkippedPath[];
  chunks: number;
  timings: { totalMs: number; embedMs: number };
}

export type SearchMode = "lexical" | "vector" | "hybrid";
export const SEARCH_MODES: readonly SearchMode[] = ["lexical", "vector", "hybrid"];
/**
 * How hybrid search fuses the lexical and vector lists: `rrf` reciprocal-rank fusion (Cormack et al. 2009), or
 * `convex` a weighted sum of the BM25 score divided by the list's best and the cosine similarity (Bruch, Gai &
 * Ingber, "An Analysis of Fusion Functions for Hybrid Retrieval", ACM TOIS 2023, found it ahead of RRF).
 */
export type FusionMethod = "rrf" | "convex";
export const FUSION_METHODS: readonly FusionMethod[] = ["rrf", "convex"];

/** `index/search` — client → sidecar: the best chunks for a natural-language or identifier query. */
export interface IndexSearchParams extends IndexTarget {
  query: string;
  /** Hits to return. Default: `hearth.search.topK`'s. */
  topK?: number;
  /** Default `hybrid` when an embedding model is loaded, else `lexical` (which needs no model). */
  mode?: SearchMode;
  /** Rerank the top candidates with the loaded reranker. Default: true when one is loaded. */
  rerank?: boolean;
  /** How many fused candidates the reranker sees. Default 20. */
  rerankTopN?: number;
  /** Candidates taken from each of the lexical and vector lists before fusion. Default 50. */
  candidates?: number;
  /**
   * Hybrid fusion method. Default: `hearth.search.fusion`'s, `convex`, because on the lodash-es benchmark with the lab's embedding model it scored
   * MRR@10 1.07x lexical search where RRF scored 0.97x (lab/README.md).
   */
  fusion?: FusionMethod;
  /**
   * Weight of the vector list in hybrid fusion, the lexical list's being 1: the RRF weight, or for `convex` the
   * share w / (1 + w) of the cosine term. Default: `hearth.search.vectorWeight`'s; below 1 for an embedding model weaker than BM25 on code.
   */
  vectorWeight?: number;
  /**
   * Share of the reranker in the reranked order, 0…1: the top `rerankTopN` are ordered by
   * `w · rerank + (1 − w) · first-stage score`, each min–max normalised over those candidates (score
   * interpolation, as in Wang, Zhuang & Zuccon, ICTIR 2021). Default: `hearth.search.rerankWeight`'s, 1: the reranker's order alone, right for a
   * reranker much stronger than the first stage; lower it for a weak one (the lab's reranker: lab/README.md).
   */
  rerankWeight?: number;
  /**
   * Time the reranker may take, ms; 0: no limit. It scores the top `rerankTopN` in search order until the time
   * is spent and orders those it scored; the rest keep the search order (see `IndexSearchResult.rerankCut`).
   * Default: `hearth.search.rerankBudgetMs`'s.
   */
  rerankBudgetMs?: number;
}

/** Every score that placed a hit, so the user can see why it ranked where it did. */
export interface HitScores {
  /** BM25 score of the full-text match (higher is better) and the hit's rank in the lexical list (1-based). */
  lexical?: number;
  lexicalRank?: number;
  /** Cosine similarity of query and chunk embeddings, −1…1, and the rank in the vector list. */
  vector?: number;
  vectorRank?: number;
  /** Fused score (hybrid mode): the RRF sum, or the convex combination (see `IndexSearchParams.fusion`). */
  fused?: number;
  /** Cross-encoder relevance, 0…1 (when reranked). */
  rerank?: number;
  /** With `rerankWeight` below 1: the interpolated score the reranked hits were ordered by, 0…1. */
  interpolated?: number;
}

export interface SearchHit {
  /** Relative to the index root, `/`-separated. */
  path: string;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
  /** Enclosing definition (`Class.method`), when the chunk is one. */
  symbol?: string;
  language: string;
  text: string;
  /** The score the hit was ordered by: interpolated, else rerank, else fused, else vector, else lexical. */
  score: number;
  scores: HitScores;
}

export interface IndexSearchResult {
  hits: SearchHit[];
  mode: SearchMode;
  reranked: boolean;
  /** Chunk table searched (its name says which embedding model built it). */
  table: string;
  timings: { totalMs: number; embedMs: number; lexicalMs: number; vectorMs: number; rerankMs: number };
  /**
   * Hits left out because their text no longer matches their file (edited since it was indexed, or a damaged
   * row); absent when none. Clients may suggest updating the index.
   */
  staleHits?: number;
  /** True when the last build of this index was interrupted: the hits come from part of the folder only. */
  partial?: boolean;
  /**
   * Present when the rerank time budget (`rerankBudgetMs`) ran out before the reranker had scored every
   * candidate: it scored the first `scored` of `candidates` (0 when a remote reranker's request was abandoned).
   */
  rerankCut?: { scored: number; candidates: number };
}

/** `index/status` — client → sidecar: what the index of `root` holds. */
export interface IndexStatusResult {
  exists: boolean;
  files: number;
  chunks: number;
  table: string;
  embeddingModel?: string;
  dimensions?: number;
  /** Every chunk table in the database (others are stale: another model or dimension). */
  tables: string[];
  diskBytes: number;
  /** False when the last build was interrupted (cancelled, killed): `index/build` resumes it. */
  complete: boolean;
}

/** `index/drop` — client → sidecar: delete the tables of other models (`stale`) or everything (`all`). */
export interface IndexDropParams extends IndexTarget {
  which: "stale" | "all";
}

/** `engine/models` — client → sidecar: what a remote engine is and which models it serves. */
export interface EngineModelsParams {
  engine: EngineSpec;
}
export interface EngineModelsResult {
  kind: EngineKind;
  url: string;
  /** Each model id, with its context window when the engine says (allocated where it tells, else trained). */
  models: Array<{ id: string; contextSize?: number }>;
}

/**
 * The loopback ports engines listen on by default: Ollama 11434, llama-server 8080, LM Studio 1234, vLLM 8000 and
 * `hearth serve` 8012. `engine/discover` probes these unless told others.
 */
export const DEFAULT_ENGINE_PORTS: readonly number[] = [11434, 8080, 1234, 8000, 8012];

/** Ports `engine/discover` probes at most per request. */
export const MAX_DISCOVER_PORTS = 32;

/**
 * `engine/discover` — client → sidecar: the engines already running on this machine, found on loopback ports
 * (127.0.0.1), each with its kind and models — what the user already has, before anything is downloaded.
 */
export interface EngineDiscoverParams {
  /** Ports to probe on 127.0.0.1 (default {@link DEFAULT_ENGINE_PORTS}); at most {@link MAX_DISCOVER_PORTS}. */
  ports?: number[];
}
export interface EngineDiscoverResult {
  /** One entry per port that answered as an engine with a model list, in the order asked. */
  engines: EngineModelsResult[];
}

// ---------------------------------------------------------------------------------------------------------------
// Embedding and rerank, directly (the code index uses them itself; these serve clients such as `hearth serve`)

/** How `embedding/embed` prepares each text: a query's or a document's prefix and words, or the text as given. */
export type EmbedKind = "query" | "document" | "raw";

/** `embedding/embed` — client → sidecar: vectors for texts, with the embedding role's engine. */
export interface EmbedParams {
  /** 1 to {@link MAX_EMBED_TEXTS} texts. */
  texts: string[];
  /**
   * Which prefix of the model family is put before each text (default "document"); `raw` embeds each text exactly
   * as given — no prefix, no identifier splitting, no cut (a text longer than the context is refused), as
   * llama-server does (what `hearth serve`'s `/v1/embeddings` asks for).
   */
  kind?: EmbedKind;
}

export interface EmbedResult {
  /** One L2-normalised vector per text, in order. */
  vectors: number[][];
  dimensions: number;
  /** Tokens evaluated (an estimate where a remote engine does not say). */
  tokens: number;
}

/** `rerank/score` — client → sidecar: a relevance score per document for a query, with the rerank role's engine. */
export interface RerankParams {
  query: string;
  /** 1 to {@link MAX_EMBED_TEXTS} documents. */
  documents: string[];
}

export interface RerankResult {
  /** One score per document, in the documents' order (higher is more relevant; the scale is the engine's). */
  scores: number[];
}

/** `model/tokenize` — client → sidecar: the token ids of a text in a role's model (embedded models only). */
export interface TokenizeParams {
  role: ModelRole;
  text: string;
  /** Parse special tokens written in the text (`<s>`, `<|im_start|>`) as such (default false: as plain text). */
  special?: boolean;
  /** Put the model's BOS token first when the model asks for one (llama-server's `add_special`; default false). */
  addBos?: boolean;
  /** Also return each token's text (`pieces`), as llama-server's `with_pieces`. */
  pieces?: boolean;
}

export interface TokenizeResult {
  tokens: number[];
  /** With `pieces`: the text of each token, special tokens written out (a piece may be part of a character). */
  pieces?: string[];
}

/** `model/detokenize` — client → sidecar: the text of token ids in a role's model (embedded models only). */
export interface DetokenizeParams {
  role: ModelRole;
  /** At most {@link MAX_DETOKENIZE_TOKENS} token ids of the model's vocabulary. */
  tokens: number[];
}

export interface DetokenizeResult {
  text: string;
}

/** Most token ids one `model/detokenize` takes. */
export const MAX_DETOKENIZE_TOKENS = 1_000_000;

// ---------------------------------------------------------------------------------------------------------------
// First run: the model catalog, a plan for this machine, verified downloads

/** Where a plan puts a model: GPU memory (VRAM) or CPU memory (RAM). */
export type Placement = "gpu" | "cpu";

/**
 * A role's verdict in a plan: `fits` (on the GPU, or in RAM on a machine without one), `cpu-only` (fits in RAM
 * but not in the GPU's memory), `too-large` (fits neither).
 */
export type FitVerdict = "fits" | "cpu-only" | "too-large";

/** `setup/plan` — client → sidecar: one model per role, chosen jointly for this machine's memory. */
export interface SetupPlanParams {
  /** The catalog: an http(s) URL or a file path of a catalog JSON (default: the one Hearth ships). */
  catalog?: string;
  /** Plan for a machine with this much RAM (bytes) instead of this one's. */
  ramBytes?: number;
  /** Plan for a GPU with this much memory (bytes; 0: no GPU) instead of this machine's. */
  vramBytes?: number;
  /** Folders of GGUFs to consider besides the usual places (`--import`, `hearth.models.folder`). */
  folders?: string[];
  /** Consider GGUFs already on this machine (default true). */
  includeLocal?: boolean;
  /** Home folder for finding Ollama / LM Studio / Hugging Face caches (tests). */
  home?: string;
  /** Context windows (tokens) per role (default: the settings' defaults). */
  contextSizes?: Partial<Record<ModelRole, number>>;
  /** Look for engines already running on this machine's loopback ports (default true). */
  discoverEngines?: boolean;
  /** The ports to look on (default {@link DEFAULT_ENGINE_PORTS}); at most {@link MAX_DISCOVER_PORTS}. */
  enginePorts?: number[];
}

/** What the planner knows of the machine it plans for (all sizes in bytes). */
export interface MachineProfile {
  ramTotalBytes: number;
  /** Memory available to new processes now (Linux MemAvailable); equals ramTotalBytes when overridden. */
  ramFreeBytes: number;
  /** The GPU node-llama-cpp can use, or null. */
  gpu: { type: string; name?: string; vramTotalBytes: number; vramFreeBytes: number } | null;
  cpuCores: number;
  /** True when `ramBytes` / `vramBytes` told the planner another machine's sizes. */
  overridden: boolean;
}

/** A model the plan may choose: from the catalog (downloaded) or already on this machine. */
export interface PlanModel {
  /** Catalog id, or the file's path for a local model. */
  id: string;
  name: string;
  /** What `model/load` and `model/download` take: an `hf:` URI, a URL or a local path. */
  uri: string;
  source: "catalog" | "local";
  /** sha256 the download is verified against (catalog), when known. */
  sha256?: string;
  /** Bytes to download (0 when the file is here already). */
  downloadBytes: number;
  license?: string;
  trainedContext?: number;
  /** The FIM prompt family (`qwen`, `deepseek`, `codellama`, ...), when the model does FIM. */
  fimTemplate?: string;
}

/** One role's row of a plan. */
export interface PlanRole {
  role: ModelRole;
  /** The chosen model, or null when none fits (see the plan's `problems`). */
  model: PlanModel | null;
  /** Context window the estimate is for, in tokens. */
  contextSize: number;
  /** Estimated memory in bytes: the weights (once per model, counted on the first role that uses it) and this role's context. */
  estimate: { bytes: number; weightsBytes: number; contextBytes: number; source: "gguf-header" | "parameters" };
  placement: Placement;
  verdict: FitVerdict;
  /** The other role served by the same model (chat and FIM from one model), when so. */
  sharedWith?: ModelRole;
  /** Other models for the role, each with its own estimate (weights + context) and verdict alone in the budget. */
  alternatives: Array<{ model: PlanModel; bytes: number; verdict: FitVerdict }>;
}

/** `setup/plan`'s result: the machine, the budget and one row per role. */
export interface SetupPlan {
  machine: MachineProfile;
  /** Memory the roles may use together: RAM (after leaving the OS and the editor `reserveBytes`) and VRAM. */
  budget: { ramBytes: number; vramBytes: number; reserveBytes: number };
  /** One row per role, in the order chat, completion, embedding, rerank. */
  roles: PlanRole[];
  /** All roles' estimates together, in bytes. */
  totalBytes: number;
  /** Bytes to download for the whole plan. */
  downloadBytes: number;
  /** Roles that could not be planned, each with what the user can do. */
  problems: string[];
  /** Where the catalog came from and how many entries it had; the facts that could not be read (unknown). */
  catalog: { source: string; entries: number; unknownFacts: string[] };
  /**
   * Engines already running on this machine's default loopback ports ({@link DEFAULT_ENGINE_PORTS}), with their
   * models: any role can use one instead of a download (`hearth.engines.<role>`, `--engine-url`).
   */
  engines: EngineModelsResult[];
}

/** `model/download` — client → sidecar: fetch a model file (no load), with progress, verified when a sha256 is known. */
export interface ModelDownloadParams {
  uri: string;
  /** The sha256 to verify against; without it, an `hf:` file is verified against the sha256 the hub reports. */
  sha256?: string;
  /** The expected size in bytes (the disk is checked for room before anything is fetched). */
  sizeBytes?: number;
  /** Correlates `model/progress` notifications (phase `download`). */
  progressId?: string;
}
export interface ModelDownloadResult {
  path: string;
  sizeBytes: number;
  sha256: string;
  /** What the file was checked against: the given sha256, the hub's, or nothing known (the sha256 is then only reported). */
  verifiedAgainst: "given" | "hub" | "none";
}

/** Most texts (or documents) one `embedding/embed` or `rerank/score` request may carry. */
export const MAX_EMBED_TEXTS = 2048;

/** The method table: name → [params, result]. Notifications have `void` results. */
export interface SidecarMethods {
  "model/load": [ModelLoadParams, ModelLoadResult];
  "model/unload": [ModelUnloadParams, null];
  "model/list": [ModelListParams, ModelListResult];
  "chat/send": [ChatSendParams, ChatSendResult];
  "completion/infill": [InfillParams, InfillResult];
  "completion/complete": [CompleteParams, CompleteResult];
  "nes/predict": [NesPredictParams, NesPredictResult];
  "runtime/configure": [RuntimeConfigureParams, RuntimeStatsResult];
  "runtime/stats": [Record<string, never>, RuntimeStatsResult];
  "index/build": [IndexBuildParams, IndexBuildResult];
  "index/update": [IndexUpdateParams, IndexUpdateResult];
  "index/search": [IndexSearchParams, IndexSearchResult];
  "index/status": [IndexTarget, IndexStatusResult];
  "index/drop": [IndexDropParams, { dropped: string[] }];
  "engine/models": [EngineModelsParams, EngineModelsResult];
  "engine/discover": [EngineDiscoverParams, EngineDiscoverResult];
  "setup/plan": [SetupPlanParams, SetupPlan];
  "model/download": [ModelDownloadParams, ModelDownloadResult];
  "embedding/embed": [EmbedParams, EmbedResult];
  "rerank/score": [RerankParams, RerankResult];
  "model/tokenize": [TokenizeParams, TokenizeResult];
  "model/detokenize": [DetokenizeParams, DetokenizeResult];
}
export type SidecarMethod = keyof SidecarMethods;

export interface SidecarNotifications {
  "sidecar/status": StatusParams;
  "model/progress": ModelProgressParams;
  "chat/delta": ChatDeltaParams;
  "index/progress": IndexProgressParams;
}
export type SidecarNotification = keyof SidecarNotifications;

/** The `data` of a ResponseError from the sidecar. */
export interface ErrorData {
  /** A sentence telling the user what to do next. */
  hint?: string;
  /** PromptTooLong: the prompt's tokens and the context window's, when counted (llama-server's `n_prompt_tokens`, `n_ctx`). */
  promptTokens?: number;
  contextTokens?: number;
  /** InvalidParams: the parameter at fault, as the guards name it (`messages[0].content`). */
  field?: string;
}
