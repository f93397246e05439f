import { HearthError } from "../../shared/errors";
import { l2Normalize } from "../llama/EmbeddingService";
import { finishFim, FimStream } from "../completion/fimStream";
import { DEFAULT_GENERATION } from "../llama/ChatService";
import { INFILL_DEFAULTS } from "../llama/CompletionService";
import {
  ErrorCodes,
  type ChatSendParams,
  type ChatSendResult,
  type EngineKind,
  type EngineModelsResult,
  type EngineSpec,
  type InfillParams,
  type InfillResult,
  type ModelInfo,
  type ModelLoadParams,
  type StopReason,
} from "../../shared/protocol";
import { embeddingPrefixes, type EmbeddingPrefixes } from "../search/prefixes";
import { fimTemplateFor, type FimTemplate } from "./fimTemplates";
import { ContextOverflow, DEFAULT_HTTP_LIMITS, EngineHttp, type HttpLimits } from "./http";
import type { ChatEngine, EmbeddingEngine, FimEngine, RerankEngine } from "./types";

/** What a remote load produces for `Runtime`: the model's info and the engine of its role. */
export interface RemoteModel {
  info: ModelInfo;
  chat?: ChatEngine;
  completion?: FimEngine;
  embedding?: EmbeddingEngine;
  rerank?: RerankEngine;
}

/** Probes answer fast or not at all: a server that takes longer than this per probe is not that kind. */
const PROBE_LIMITS = { ...DEFAULT_HTTP_LIMITS, firstByteMs: 5_000, attempts: 1 };

/** Texts per `/v1/embeddings` request. */
const EMBED_BATCH = 32;

/** Characters per token assumed where a remote engine does not count for us (inputs are cut to fit by this). */
const CHARS_PER_TOKEN = 2;

/**
 * The kind of engine at `url`, by the probes of ENGINE-PROTOCOLS.md in its order: `/props` answers →
 * llama-server; `/api/version` → Ollama; `/v1/models` owned by vllm → vLLM; `/api/v0/models` → LM Studio;
 * otherwise a generic OpenAI-compatible server.
 * @throws HearthError EngineUnavailable when nothing answers at all, EngineAuth on 401/403.
 */
export async function detectEngineKind(spec: EngineSpec, signal?: AbortSignal): Promise<EngineKind> {
  const http = new EngineHttp(spec, PROBE_LIMITS);
  const probe = async <T>(path: string): Promise<T | undefined> => {
    try {
      return await http.json<T>(path, undefined, signal, "probe");
    } catch (error) {
      const code = (error as HearthError).code;
      if (code === ErrorCodes.EngineAuth || code === ErrorCodes.Cancelled) throw error;
      if (code === ErrorCodes.EngineUnavailable && /Cannot reach/.test((error as Error).message)) throw error;
      return undefined;
    }
  };
  const props = await probe<{ default_generation_settings?: unknown }>("/props");
  if (props?.default_generation_settings) return "llama-server";
  if ((await probe<{ version?: unknown }>("/api/version"))?.version) return "ollama";
  const models = await probe<{ data?: Array<{ owned_by?: string }> }>("/v1/models");
  if (models?.data?.some((m) => m.owned_by === "vllm")) return "vllm";
  if (await probe("/api/v0/models")) return "lmstudio";
  return "openai";
}

/**
 * The models an engine serves, with their context windows where it says: Ollama's `/api/tags`
 * (`details.context_length`, trained), llama-server's `/props` (allocated), vLLM's `max_model_len`, else the
 * OpenAI `/v1/models` list alone.
 * @throws HearthError EngineUnavailable, EngineAuth.
 */
export async function listEngineModels(spec: EngineSpec, signal?: AbortSignal): Promise<EngineModelsResult> {
  const kind = spec.kind ?? (await detectEngineKind(spec, signal));
  const http = new EngineHttp(spec, PROBE_LIMITS);
  if (kind === "ollama") {
    const tags = await http.json<{ models?: Array<{ name: string; details?: { context_length?: number } }> }>(
      "/api/tags",
      undefined,
      signal,
      "model list",
    );
    return {
      kind,
      url: spec.url,
      models: (tags.models ?? []).map((m) => ({
        id: m.name,
        ...(m.details?.context_length ? { contextSize: m.details.context_length } : {}),
      })),
    };
  }
  const listed = await http.json<OpenAiModels>("/v1/models", undefined, signal, "model list");
  const models = await Promise.all(
    (listed.data ?? []).map(async (m) => {
      const contextSize =
        kind === "llama-server"
          ? await runtimeContext(http, kind, m, undefined, signal)
          : kind === "lmstudio"
            ? await lmStudioLoadedContext(http, m.id, signal)
            : m.max_model_len;
      return { id: m.id, ...(contextSize ? { contextSize } : {}) };
    }),
  );
  return { kind, url: spec.url, models };
}

interface OpenAiModels {
  data?: Array<{ id: string; owned_by?: string; max_model_len?: number; meta?: { n_ctx_train?: number } }>;
}

/**
 * Connect a role to a remote engine: detect its kind, resolve the model id (an empty one means the engine's
 * only model), read the context window the engine really allocated, and check the role's call works once
 * (a tiny request), so a wrong engine or model fails at load, not at the first keystroke.
 * @param limits timeouts and retries of this engine's requests.
 * @throws HearthError EngineUnavailable, EngineAuth, ModelNotFound, Unsupported (no FIM, no rerank route).
 */
export async function loadRemote(
  params: ModelLoadParams,
  signal: AbortSignal,
  limits: HttpLimits = DEFAULT_HTTP_LIMITS,
): Promise<RemoteModel> {
  const started = performance.now();
  const engine = params.model.engine!;
  const kind = engine.kind ?? (await detectEngineKind(engine, signal));
  const http = new EngineHttp(engine, limits);
  // The model list is optional (some servers have none), but a refused key or a cancel is not.
  const listed = await http
    .json<OpenAiModels>("/v1/models", undefined, signal, "model list")
    .catch((error: unknown) => {
      const code = (error as HearthError).code;
      if (code === ErrorCodes.EngineAuth || code === ErrorCodes.Cancelled) throw error;
      return undefined;
    });
  const ids = listed?.data?.map((m) => m.id) ?? [];
  let model = params.model.uri;
  if (!model) {
    if (ids.length !== 1) {
      throw new HearthError(
        ErrorCodes.ModelNotFound,
        ids.length
          ? `The engine at ${engine.url} serves ${ids.length} models; name one: ${ids.slice(0, 8).join(", ")}.`
          : `The engine at ${engine.url} lists no models.`,
        "Pass the model id (CLI: --model; VS Code: the role's model setting).",
      );
    }
    model = ids[0]!;
  } else if (ids.length && !ids.includes(model) && kind !== "ollama") {
    // llama-server answers any model name with its one model; a listed id is what it is really running.
    if (!(kind === "llama-server" && ids.length === 1)) {
      throw new HearthError(
        ErrorCodes.ModelNotFound,
        `The engine at ${engine.url} has no model '${model}'; it serves: ${ids.slice(0, 8).join(", ")}.`,
        "Pick one of those ids.",
      );
    }
  }
  const entry = listed?.data?.find((m) => m.id === model) ?? listed?.data?.[0];
  const contextSize = await runtimeContext(http, kind, entry, params.contextSize, signal);
  const info: ModelInfo = {
    role: params.role,
    path: `${engine.url}#${model}`,
    name: model,
    engine: { kind, url: engine.url },
    architecture: kind,
    sizeBytes: 0,
    trainContextSize: entry?.meta?.n_ctx_train ?? contextSize,
    contextSize,
    infillSupported: false,
    gpuLayers: 0,
    loadMs: 0,
  };
  const out: RemoteModel = { info };
  if (params.role === "chat") out.chat = new RemoteChat(http, kind, model, contextSize);
  if (params.role === "completion") {
    const fim = new RemoteFim(http, model, contextSize, await chooseFimRoute(http, kind, model, signal));
    // One tiny call: llama-server answers 501 here when the model has no FIM tokens, others 404 without the route.
    await fim.infill({ prefix: "a", suffix: "", maxTokens: 1 }, signal);
    info.infillSupported = true;
    out.completion = fim;
  }
  if (params.role === "embedding") {
    const embedding = await RemoteEmbedding.connect(http, model, contextSize, params.prefixes, signal);
    info.embeddingDimensions = embedding.dimensions;
    out.embedding = embedding;
  }
  if (params.role === "rerank") {
    if (kind === "ollama" || kind === "lmstudio") {
      throw new HearthError(
        ErrorCodes.Unsupported,
        `${kind === "ollama" ? "Ollama" : "LM Studio"} has no rerank endpoint, so ${engine.url} cannot rerank.`,
        "Leave 'hearth.models.rerank' empty (search fuses without rerank), or serve a reranker with llama-server --rerank.",
      );
    }
    const rerank = new RemoteRerank(http, model, contextSize);
    await rerank.rank("probe", ["probe"], signal);
    out.rerank = rerank;
  }
  info.loadMs = Math.round(performance.now() - started);
  return out;
}

/**
 * The context LM Studio (0.4+) loaded model `id` with: its loaded instance's `config.context_length` in
 * `/api/v1/models` (the same list's `max_context_length`, and all v0 gives, is the trained maximum).
 * @returns undefined when the model is not loaded or the server is older.
 */
async function lmStudioLoadedContext(http: EngineHttp, id: string, signal?: AbortSignal): Promise<number | undefined> {
  const v1 = await http
    .json<{
      models?: Array<{ key?: string; loaded_instances?: Array<{ id?: string; config?: { context_length?: number } }> }>;
    }>("/api/v1/models", undefined, signal, "models")
    .catch(() => undefined);
  return v1?.models
    ?.flatMap((m) => (m.loaded_instances ?? []).map((i) => ({ key: m.key, ...i })))
    .find((i) => i.id === id || i.key === id)?.config?.context_length;
}

/** The context window the engine allocated at run time (not the trained maximum). */
async function runtimeContext(
  http: EngineHttp,
  kind: EngineKind,
  entry: NonNullable<OpenAiModels["data"]>[number] | undefined,
  asked: number | undefined,
  signal: AbortSignal | undefined,
): Promise<number> {
  if (kind === "llama-server") {
    const props = await http
      .json<{ default_generation_settings?: { n_ctx?: number } }>("/props", undefined, signal, "props")
      .catch(() => undefined);
    const n = props?.default_generation_settings?.n_ctx;
    if (n) return n;
  }
  if (kind === "ollama" && entry) {
    // What Ollama allocated for the model when it is loaded (`/api/show` would give the trained maximum).
    const ps = await http
      .json<{ models?: Array<{ name?: string; model?: string; context_length?: number }> }>(
        "/api/ps",
        undefined,
        signal,
        "running models",
      )
      .catch(() => undefined);
    const n = ps?.models?.find((m) => m.name === entry.id || m.model === entry.id)?.context_length;
    if (n) return n;
  }
  if (kind === "lmstudio" && entry) {
    const n = await lmStudioLoadedContext(http, entry.id, signal);
    if (n) return n;
  }
  if (entry?.max_model_len) return entry.max_model_len;
  // Ollama's default num_ctx, and a safe guess elsewhere.
  return asked ?? 4096;
}

interface ChatChunk {
  choices?: Array<{
    delta?: {
      content?: string | null;
      reasoning_content?: string | null;
      reasoning?: string | null;
      /** Streamed calls: the first piece of each has its id and name, later ones more of its arguments. */
      tool_calls?: Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }>;
    };
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/**
 * Chat over `POST /v1/chat/completions` with SSE (every kind speaks it). Reasoning text (`reasoning_content`,
 * `reasoning`, inline `<think>…</think>`) is kept out of the answer and passed on apart. Cancel aborts the HTTP
 * request at once.
 */
export class RemoteChat implements ChatEngine {
  /** Characters per token assumed when fitting a conversation (English and code: 3 to 4); learnt on overflow. */
  private charsPerToken = 3;

  constructor(
    private readonly http: EngineHttp,
    private readonly kind: EngineKind,
    private readonly model: string,
    /** The context window the engine allocated, tokens. */
    private contextSize: number,
  ) {}

  /**
   * The newest messages that fit the engine's window with the answer's budget (oldest whole turns dropped, as the
   * embedded engine does), by an estimate of {@link charsPerToken}: a server that would cut the prompt silently
   * (Ollama) gets one that fits, and the user is told how many messages were left out.
   * @throws HearthError PromptTooLong when the system prompt and the last message alone do not fit.
   */
  private fit(params: ChatSendParams, maxTokens: number): { messages: ChatSendParams["messages"]; dropped: number } {
    const budget = this.contextSize - Math.min(maxTokens, Math.floor(this.contextSize * 0.75));
    const cost = (text: string) => Math.ceil(text.length / this.charsPerToken) + 4;
    const all = params.messages;
    const last = all.length - 1;
    let used = cost(params.system ?? "") + cost(all[last]!.content);
    if (used > budget) {
      throw new HearthError(
        ErrorCodes.PromptTooLong,
        `The message${params.system ? " and the system prompt" : ""} (about ${used} tokens) ${params.system ? "do" : "does"} not fit the ${this.contextSize}-token context of the engine at ${this.http.url}, which leaves ${budget} for the prompt.`,
        "Shorten the message or the system prompt, attach less, or serve the model with a larger context.",
      );
    }
    let first = last;
    while (first > 0 && used + cost(all[first - 1]!.content) <= budget) used += cost(all[--first]!.content);
    // Start at a user message, so the history still alternates.
    while (first < last && all[first]!.role !== "user") first++;
    return { messages: all.slice(first), dropped: first };
  }

  async send(
    params: ChatSendParams,
    onDelta: (text: string) => void,
    signal: AbortSignal,
    onReasoning?: (text: string) => void,
  ): Promise<ChatSendResult> {
    try {
      return await this.attempt(params, onDelta, signal, onReasoning);
    } catch (error) {
      // llama-server says by how much: learn its characters per token and window, and fit once more.
      if (!(error instanceof ContextOverflow) || !error.promptTokens) throw error;
      const chars = [params.system ?? "", ...params.messages.map((m) => m.content)].join("").length;
      if (error.contextTokens) this.contextSize = error.contextTokens;
      this.charsPerToken = Math.max(0.5, Math.min(this.charsPerToken, (chars / error.promptTokens) * 0.9));
      return this.attempt(params, onDelta, signal, onReasoning);
    }
  }

  private async attempt(
    params: ChatSendParams,
    onDelta: (text: string) => void,
    signal: AbortSignal,
    onReasoning?: (text: string) => void,
  ): Promise<ChatSendResult> {
    const started = performance.now();
    const gen = {
      ...DEFAULT_GENERATION,
      ...Object.fromEntries(Object.entries(params.params ?? {}).filter(([, v]) => v !== undefined)),
    };
    const { messages, dropped } = this.fit(params, gen.maxTokens);
    const body = {
      model: this.model,
      messages: [
        ...(params.system ? [{ role: "system", content: params.system }] : []),
        ...messages.map((m) => ({ role: m.role, content: m.content })),
      ],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: gen.maxTokens,
      temperature: gen.temperature,
      top_p: gen.topP,
      ...(this.kind !== "openai" ? { top_k: gen.topK } : {}),
      ...(params.params?.seed !== undefined ? { seed: params.params.seed } : {}),
      ...(params.tools?.length
        ? {
            tools: params.tools.map((t) => ({
              type: "function",
              function: { name: t.name, description: t.description ?? "", parameters: t.parameters },
            })),
            tool_choice: params.toolChoice ?? "auto",
          }
        : params.responseSchema
          ? { response_format: { type: "json_schema", json_schema: { name: "answer", schema: params.responseSchema } } }
          : {}),
    };
    /** Calls by their stream index, pieces joined (OpenAI, vLLM, llama-server and Ollama stream them so). */
    const calls = new Map<number, { id?: string; name: string; arguments: string }>();
    const think = new ThinkFilter();
    let text = "";
    let reasoning = "";
    const thought = (piece: string) => {
      if (!piece) return;
      reasoning += piece;
      onReasoning?.(piece);
    };
    let firstAt: number | undefined;
    let finish: string | undefined;
    let usage: ChatChunk["usage"];
    let stopReason: StopReason;
    try {
      for await (const data of this.http.events("/v1/chat/completions", body, signal, "chat")) {
        let chunk: ChatChunk;
        try {
          chunk = JSON.parse(data) as ChatChunk;
        } catch {
          continue; // a malformed event is skipped; the stream goes on
        }
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        if (choice?.finish_reason) finish = choice.finish_reason;
        const delta = choice?.delta;
        thought(delta?.reasoning_content ?? delta?.reasoning ?? "");
        for (const [i, piece] of (delta?.tool_calls ?? []).entries()) {
          const index = typeof piece.index === "number" ? piece.index : i;
          const call = calls.get(index) ?? { name: "", arguments: "" };
          if (piece.id) call.id = piece.id;
          if (piece.function?.name) call.name += piece.function.name;
          if (piece.function?.arguments) call.arguments += piece.function.arguments;
          calls.set(index, call);
          firstAt ??= performance.now();
        }
        const content = delta?.content;
        if (content) {
          const { answer, reasoning: inline } = think.push(content);
          thought(inline);
          if (answer) {
            firstAt ??= performance.now();
            text += answer;
            onDelta(answer);
          }
        }
      }
      stopReason = finish === "length" ? "maxTokens" : "stop";
    } catch (error) {
      if ((error as HearthError).code !== ErrorCodes.Cancelled) throw error;
      stopReason = "cancelled";
    }
    let json: unknown;
    if (params.responseSchema && stopReason === "stop") {
      // An engine that ignores response_format answers in text: `json` stays absent and the text is the answer
      // (the agent's repair step lifts a call out of it), rather than failing a whole request.
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    const toolCalls = [...calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({ ...(c.id ? { id: c.id } : {}), name: c.name, arguments: c.arguments || "{}" }))
      .filter((c) => c.name);
    const end = performance.now();
    const completionTokens =
      usage?.completion_tokens ?? Math.ceil((text.length + toolCalls.reduce((n, c) => n + c.arguments.length, 0)) / 4);
    const decodeSeconds = (end - (firstAt ?? end)) / 1000;
    return {
      text,
      stopReason,
      usage: { promptTokens: usage?.prompt_tokens ?? 0, completionTokens },
      timings: {
        ttftMs: round((firstAt ?? end) - started),
        totalMs: round(end - started),
        tokensPerSecond: decodeSeconds > 0 && completionTokens > 1 ? round((completionTokens - 1) / decodeSeconds) : 0,
      },
      droppedMessages: dropped,
      ...(json !== undefined ? { json } : {}),
      ...(toolCalls.length ? { toolCalls } : {}),
      ...(reasoning ? { reasoning } : {}),
    };
  }

  dispose(): void {}
}

/**
 * Splits streamed text into the answer and the `<think>…</think>` blocks in it, across chunk boundaries: what a
 * reasoning model thinks is not the answer, is shown apart (folded in the chat view) and never reaches code.
 */
export class ThinkFilter {
  private inside = false;
  private pending = "";

  /**
   * The answer text and the reasoning text in `chunk`; either may be "" (inside a block, or while a tag may be
   * starting: a possible partial tag is held for the next chunk).
   */
  push(chunk: string): { answer: string; reasoning: string } {
    let s = this.pending + chunk;
    this.pending = "";
    let answer = "";
    let reasoning = "";
    for (;;) {
      const tag = this.inside ? "</think>" : "<think>";
      const at = s.indexOf(tag);
      if (at >= 0) {
        if (this.inside) reasoning += s.slice(0, at);
        else answer += s.slice(0, at);
        s = s.slice(at + tag.length);
        this.inside = !this.inside;
        continue;
      }
      // Keep a possible partial tag at the end for the next chunk.
      let keep = 0;
      for (let k = Math.min(tag.length - 1, s.length); k > 0; k--) {
        if (tag.startsWith(s.slice(-k))) {
          keep = k;
          break;
        }
      }
      if (this.inside) reasoning += s.slice(0, s.length - keep);
      else answer += s.slice(0, s.length - keep);
      this.pending = s.slice(s.length - keep);
      return { answer, reasoning };
    }
  }
}

interface InfillAnswer {
  content?: string;
  stop_type?: string;
  tokens_predicted?: number;
  tokens_evaluated?: number;
  tokens_cached?: number;
  timings?: { prompt_n?: number; predicted_n?: number; prompt_ms?: number };
}

/** How a remote engine is asked for a middle (see {@link chooseFimRoute}). */
export type FimRoute =
  | { kind: "infill" }
  | { kind: "ollama-suffix" }
  | { kind: "ollama-raw"; template: FimTemplate }
  | { kind: "completions"; template: FimTemplate };

/** What every route's answer comes down to. */
/** A streamed event's JSON, or undefined for a malformed one (skipped; the stream goes on). */
function parseEvent<T>(data: string): T | undefined {
  try {
    return JSON.parse(data) as T;
  } catch {
    return undefined;
  }
}

interface FimAnswer {
  content: string;
  hitLimit: boolean;
  promptTokens?: number | undefined;
  evaluatedTokens?: number | undefined;
  completionTokens?: number | undefined;
  promptMs?: number | undefined;
  /** ms from the request to its first piece of text. */
  firstMs?: number | undefined;
}

/**
 * The best FIM call an engine has for a model, by ENGINE-PROTOCOLS.md's rule: llama-server's `/infill`; Ollama's
 * native suffix API when the model has the `insert` capability (`POST /api/show`), else a raw prompt from the
 * family's FIM tokens through `/api/generate`; vLLM, LM Studio and generic servers: a raw prompt through
 * `/v1/completions` (their `suffix` is unsupported).
 * @throws HearthError Unsupported when no call fits (no insert capability and no known FIM template).
 */
export async function chooseFimRoute(
  http: EngineHttp,
  kind: EngineKind,
  model: string,
  signal: AbortSignal,
): Promise<FimRoute> {
  if (kind === "llama-server") return { kind: "infill" };
  const template = fimTemplateFor(model);
  if (kind === "ollama") {
    const show = await http
      .json<{ capabilities?: string[] }>("/api/show", { model }, signal, "model details")
      .catch(() => undefined);
    if (show?.capabilities?.includes("insert")) return { kind: "ollama-suffix" };
    if (template) return { kind: "ollama-raw", template };
  } else if (template) {
    return { kind: "completions", template };
  }
  throw new HearthError(
    ErrorCodes.Unsupported,
    `The engine at ${http.url} cannot do fill-in-the-middle with '${model}': ` +
      (kind === "ollama" ? "the model has no 'insert' capability and " : "") +
      "Hearth knows no FIM template for its family.",
    "Serve a code model with FIM (Qwen2.5-Coder, DeepSeek-Coder, StarCoder2, Codestral, CodeGemma, Code Llama), " +
      "serve it with llama-server (/infill), or use the embedded engine for completion.",
  );
}

/**
 * FIM on a remote engine over its best route ({@link chooseFimRoute}): llama-server's `POST /infill` (the server
 * applies the GGUF's FIM tokens; other files' context in `input_extra`, as llama.vscode sends it), Ollama's
 * `/api/generate` (with `suffix`, or raw), or `/v1/completions` with the family's template. The same
 * post-processing as the embedded engine: the first line of a single-line request, the repeated-line cut and the
 * syntax trim of multi-line suggestions.
 */
export class RemoteFim implements FimEngine {
  /** Characters per token of what this engine was sent; learnt from an overflow's numbers (starts at 2). */
  private charsPerToken = CHARS_PER_TOKEN;

  constructor(
    private readonly http: EngineHttp,
    private readonly model: string,
    /** The engine's context per slot, tokens: the prompt is cut to fit it (llama-server refuses, not trims). */
    private contextSize: number,
    private readonly route: FimRoute = { kind: "infill" },
  ) {}

  /** Prefix, suffix and other files' context cut to the window at the current {@link charsPerToken}. */
  private pieces(params: InfillParams, maxTokens: number) {
    // Token budgets as the embedded engine takes them, capped by what the engine's window holds after the
    // answer (70 % prefix, 30 % suffix); other files' context only in what room is left.
    const room = Math.max(32, this.contextSize - maxTokens - 16);
    const prefixTokens = Math.min(params.prefixTokens ?? INFILL_DEFAULTS.prefixTokens, Math.floor(room * 0.7));
    const suffixTokens = Math.min(params.suffixTokens ?? INFILL_DEFAULTS.suffixTokens, Math.floor(room * 0.3));
    const cpt = this.charsPerToken;
    const prefix = params.prefix.slice(-Math.floor(prefixTokens * cpt));
    const suffix = params.suffix.slice(0, Math.floor(suffixTokens * cpt));
    const left = room - prefixTokens - suffixTokens;
    const context = params.context && left > 0 ? params.context.slice(-Math.floor(left * cpt)) : "";
    return { prefix, suffix, context, chars: prefix.length + suffix.length + context.length };
  }

  /**
   * One streaming request over the route; each piece of text goes through `fim` (which may stop it: the request
   * is then cancelled, and what had arrived is the answer).
   */
  private async request(
    params: InfillParams,
    maxTokens: number,
    p: ReturnType<RemoteFim["pieces"]>,
    fim: FimStream,
  ): Promise<FimAnswer> {
    const what = "fill-in-the-middle";
    const newline = params.singleLine ? ["\n"] : [];
    const route = this.route;
    const think = new ThinkFilter();
    const answer: FimAnswer = { content: "", hitLimit: false };
    const started = performance.now();
    /** @returns false when Hearth stops the answer here. */
    const take = (piece: string | undefined) => {
      if (!piece) return true;
      answer.firstMs ??= performance.now() - started;
      const { answer: text } = think.push(piece);
      answer.content += text;
      return fim.push(text);
    };
    if (route.kind === "infill") {
      const body = {
        model: this.model,
        input_prefix: p.prefix,
        input_suffix: p.suffix,
        input_extra: p.context ? [{ filename: "context", text: p.context }] : [],
        n_predict: maxTokens,
        temperature: 0,
        cache_prompt: true,
        stream: true,
        ...(params.timeBudgetMs ? { t_max_predict_ms: params.timeBudgetMs } : {}),
        ...(newline.length ? { stop: newline } : {}),
      };
      // llama-server ends the stream with an event whose `stop` is true (no [DONE]); a JSON string value cannot
      // hold an unescaped `"stop":true`, so the test on the raw text is exact.
      const last = (data: string) => data.includes('"stop":true');
      for await (const data of this.http.events("/infill", body, fim.signal, what, { last })) {
        const a = parseEvent<InfillAnswer & { stop?: boolean }>(data);
        if (!a) continue;
        // Every event counts the prompt and the tokens so far: an answer Hearth stops early still has them.
        answer.promptTokens = a.tokens_evaluated ?? answer.promptTokens;
        answer.completionTokens = a.tokens_predicted ?? answer.completionTokens;
        if (!take(a.content)) break;
        if (a.stop) {
          const promptTokens = a.tokens_evaluated ?? a.timings?.prompt_n;
          Object.assign(answer, {
            hitLimit: a.stop_type === "limit",
            promptTokens,
            evaluatedTokens: a.timings?.prompt_n ?? promptTokens,
            completionTokens: a.tokens_predicted ?? a.timings?.predicted_n,
            promptMs: a.timings?.prompt_ms,
          });
        }
      }
      return answer;
    }
    // Other files' context goes first, as comments the client already wrote in the file's language.
    const prefix = p.context ? `${p.context}\n${p.prefix}` : p.prefix;
    if (route.kind === "ollama-suffix" || route.kind === "ollama-raw") {
      const raw = route.kind === "ollama-raw";
      const body = {
        model: this.model,
        prompt: raw ? route.template.prompt(prefix, p.suffix) : prefix,
        ...(raw ? { raw: true } : { suffix: p.suffix }),
        stream: true,
        options: { num_predict: maxTokens, temperature: 0, stop: [...(raw ? route.template.stop : []), ...newline] },
      };
      const last = (data: string) => data.includes('"done":true');
      for await (const data of this.http.events("/api/generate", body, fim.signal, what, { framing: "ndjson", last })) {
        const a = parseEvent<{
          response?: string;
          done?: boolean;
          done_reason?: string;
          prompt_eval_count?: number;
          eval_count?: number;
          prompt_eval_duration?: number;
        }>(data);
        if (!a) continue;
        if (!take(a.response)) break;
        if (a.done) {
          Object.assign(answer, {
            hitLimit: a.done_reason === "length",
            promptTokens: a.prompt_eval_count,
            completionTokens: a.eval_count,
            promptMs: a.prompt_eval_duration !== undefined ? a.prompt_eval_duration / 1e6 : undefined,
          });
        }
      }
      return answer;
    }
    const body = {
      model: this.model,
      prompt: route.template.prompt(prefix, p.suffix),
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
      stop: [...route.template.stop, ...newline],
    };
    for await (const data of this.http.events("/v1/completions", body, fim.signal, what)) {
      const a = parseEvent<{
        choices?: Array<{ text?: string; finish_reason?: string | null }>;
        usage?: { prompt_tokens?: number; completion_tokens?: number };
      }>(data);
      if (!a) continue;
      const choice = a.choices?.[0];
      if (!take(choice?.text)) break;
      if (choice?.finish_reason === "length") answer.hitLimit = true;
      if (a.usage) {
        answer.promptTokens = a.usage.prompt_tokens;
        answer.completionTokens = a.usage.completion_tokens;
      }
    }
    return answer;
  }

  /**
   * One call; when the server says the prompt is over its window (llama-server refuses rather than trims),
   * learn its characters per token and its real window from the numbers and send it once more, cut.
   */
  private async call(params: InfillParams, maxTokens: number, fim: FimStream): Promise<FimAnswer> {
    const first = this.pieces(params, maxTokens);
    try {
      return await this.request(params, maxTokens, first, fim);
    } catch (error) {
      if (!(error instanceof ContextOverflow) || !error.promptTokens) throw error;
      if (error.contextTokens) this.contextSize = error.contextTokens;
      this.charsPerToken = Math.max(0.5, (first.chars / error.promptTokens) * 0.9);
      return this.request(params, maxTokens, this.pieces(params, maxTokens), fim);
    }
  }

  async infill(params: InfillParams, signal: AbortSignal): Promise<InfillResult> {
    const started = performance.now();
    const maxTokens = params.maxTokens ?? INFILL_DEFAULTS.maxTokens;
    const fim = new FimStream(params, signal);
    let answer: FimAnswer;
    let stopReason: InfillResult["stopReason"];
    try {
      answer = await this.call(params, maxTokens, fim);
      stopReason = fim.reason(answer.hitLimit ? "maxTokens" : "stop");
    } catch (error) {
      if ((error as HearthError).code !== ErrorCodes.Cancelled) throw error;
      // Hearth's own stop (time budget) keeps what had arrived; the caller's cancel shows nothing.
      answer = { content: fim.stopped ? fim.text : "", hitLimit: false };
      stopReason = fim.reason("cancelled");
    } finally {
      fim.close();
    }
    let text = answer.content;
    // A raw template's stop tokens, should an engine return them, are never shown.
    if (this.route.kind === "completions" || this.route.kind === "ollama-raw") {
      for (const stop of this.route.template.stop) if (text.includes(stop)) text = text.slice(0, text.indexOf(stop));
    }
    const finished = await finishFim(params, text, stopReason);
    const end = performance.now();
    const promptTokens = answer.promptTokens ?? 0;
    return {
      text: finished.text,
      stopReason: finished.stopReason,
      usage: {
        promptTokens,
        evaluatedTokens: answer.evaluatedTokens ?? promptTokens,
        completionTokens: answer.completionTokens ?? 0,
      },
      timings: { totalMs: round(end - started), ttftMs: round(answer.promptMs ?? answer.firstMs ?? end - started) },
      ...(finished.linesCut !== undefined ? { linesCut: finished.linesCut } : {}),
    };
  }

  dispose(): void {}
}

/**
 * Embeddings over `POST /v1/embeddings`, in batches of {@link EMBED_BATCH}, mapped back by `index` and
 * L2-normalised. The model family's query/document prefixes are added here (always the client's job).
 */
export class RemoteEmbedding implements EmbeddingEngine {
  private constructor(
    private readonly http: EngineHttp,
    private readonly model: string,
    private readonly maxChars: number,
    private readonly prefixes: EmbeddingPrefixes,
    readonly dimensions: number,
  ) {}

  /** Connect and learn the vector size from one probe embedding. */
  static async connect(
    http: EngineHttp,
    model: string,
    contextSize: number,
    prefixOverride: Partial<EmbeddingPrefixes> | undefined,
    signal: AbortSignal,
  ): Promise<RemoteEmbedding> {
    const prefixes = embeddingPrefixes(model, prefixOverride);
    const probe = new RemoteEmbedding(http, model, contextSize * CHARS_PER_TOKEN, prefixes, 0);
    const { vectors } = await probe.embed(["dimension probe"], "document", signal);
    return new RemoteEmbedding(http, model, contextSize * CHARS_PER_TOKEN, prefixes, vectors[0]!.length);
  }

  async embed(
    texts: string[],
    kind: "query" | "document",
    signal?: AbortSignal,
  ): Promise<{ vectors: Float32Array[]; tokens: number }> {
    const prefix = kind === "query" ? this.prefixes.query : this.prefixes.document;
    const vectors: Float32Array[] = [];
    let tokens = 0;
    for (let i = 0; i < texts.length; i += EMBED_BATCH) {
      const input = texts.slice(i, i + EMBED_BATCH).map((t) => (prefix + t).slice(0, this.maxChars));
      const answer = await this.http.json<{
        data?: Array<{ index: number; embedding: number[] }>;
        usage?: { prompt_tokens?: number };
      }>("/v1/embeddings", { model: this.model, input }, signal, "embeddings");
      const byIndex = new Map((answer.data ?? []).map((d) => [d.index, d.embedding]));
      for (let k = 0; k < input.length; k++) {
        const v = byIndex.get(k);
        if (!v || (this.dimensions && v.length !== this.dimensions)) {
          throw new HearthError(
            ErrorCodes.EngineUnavailable,
            `The engine at ${this.http.url} returned ${v ? `a vector of ${v.length} dimensions, not ${this.dimensions}` : `no vector for input ${k}`}.`,
            "Check that the server runs an embedding model (llama-server: --embeddings).",
          );
        }
        vectors.push(l2Normalize(Float32Array.from(v)));
      }
      tokens += answer.usage?.prompt_tokens ?? Math.ceil(input.join("").length / 4);
    }
    return { vectors, tokens };
  }

  dispose(): void {}
}

/** Rerank over `POST /v1/rerank` (llama-server `--rerank`, vLLM): scores mapped back by `index`. */
export class RemoteRerank implements RerankEngine {
  constructor(
    private readonly http: EngineHttp,
    private readonly model: string,
    private readonly contextSize: number,
  ) {}

  /** See {@link RerankEngine.rank}: one request for all documents, abandoned (no scores) at `deadline`. */
  async rank(query: string, documents: string[], signal?: AbortSignal, deadline?: number): Promise<number[]> {
    const room = this.contextSize * CHARS_PER_TOKEN;
    const q = query.slice(0, Math.floor(room / 4));
    const budget =
      deadline === undefined ? undefined : AbortSignal.timeout(Math.max(0, Math.ceil(deadline - performance.now())));
    const signals = [signal, budget].filter((s): s is AbortSignal => s !== undefined);
    let answer: { results?: Array<{ index: number; relevance_score: number }> };
    try {
      answer = await this.http.json(
        "/v1/rerank",
        {
          model: this.model,
          query: q,
          documents: documents.map((d) => d.slice(0, room - q.length)),
          top_n: documents.length,
        },
        signals.length ? AbortSignal.any(signals) : undefined,
        "rerank",
      );
    } catch (error) {
      if (budget?.aborted && !signal?.aborted) return [];
      throw error;
    }
    const scores = new Map((answer.results ?? []).map((r) => [r.index, r.relevance_score]));
    return documents.map((_, i) => scores.get(i) ?? Number.NEGATIVE_INFINITY);
  }

  dispose(): void {}
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
