import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage } from "node:http";
import cors from "@fastify/cors";
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import {
  MODEL_ROLES,
  type ChatSendResult,
  type CompleteParams,
  type CompleteResult,
  type EmbedResult,
  type InfillResult,
  type ModelInfo,
  type ModelRole,
} from "../../shared/protocol";
import type { SidecarApi } from "../sidecar/SidecarApi";
import { ServeMetrics } from "./metrics";
import { ApiError, badRequest, fromHearthError } from "./openaiErrors";
import { registerOllamaRoutes } from "./ollama";
import {
  chatMessages,
  clientSchema,
  firstStop,
  noLimit,
  responseSchemaOf,
  stopList,
  strip,
  type ChatAnswer,
  type ChatRequest,
} from "./requests";
import * as schemas from "./schemas";
import { chatTools, openAiToolCall } from "./tools";

/** What `hearth serve` (and VS Code's *Start Local API Server*) runs a server with. */
export interface ServeOptions {
  /** The sidecar whose loaded models are served. */
  api: SidecarApi;
  /** The model each role has loaded now (a role without one is absent). */
  models: () => Partial<Record<ModelRole, ModelInfo>>;
  /** True while a model is still loading: `/health` answers 503 and requests to that role 503 + Retry-After. */
  loading: () => boolean;
  /** Address to bind: loopback unless an `apiKey` is given (default 127.0.0.1). */
  host?: string;
  /** Port; 0 picks a free one (default 8012, llama.vscode's endpoint). */
  port?: number;
  /** Bearer key every request but `/health` must carry; required off loopback. */
  apiKey?: string;
  /** An origin allowed by CORS; CORS is off without it. */
  cors?: string;
  /** Requests waiting or running per role before `429` (default 16). */
  maxQueue?: number;
  /** Largest request body, bytes (default 16 MiB). */
  bodyLimit?: number;
  /** Time to receive a whole request (headers and body), ms; a slower client gets 408 (default 30 s). */
  requestTimeoutMs?: number;
  /** Open connections at most (default 256); more are refused, so slow clients cannot hold them all. */
  maxConnections?: number;
  /** The name the chat model is listed and answered under (llama-server's `--alias`); default its file name. */
  alias?: string;
  /**
   * Leave the oldest turns out of a chat that outgrows the context (Hearth's chat policy) instead of refusing it
   * with 400 and the counts as llama-server does (default false).
   */
  trimHistory?: boolean;
  /**
   * Tokens a request generates at most when it sets no limit of its own (llama-server's `--n-predict`): chat without
   * `max_tokens`, `/completion` and `/infill` without `n_predict` (or -1), Ollama's without `num_predict`.
   * Default: Hearth's (the chat setting's limit; 1,024 for a continuation, 128 for FIM).
   */
  defaultMaxTokens?: number;
  /** Structured JSON logs (one line per request, with its id) to stderr. */
  logJson?: boolean;
  /** Where a failed request is reported when logs are off (the request id, route and message). */
  onError?: (line: string) => void;
}

/**
 * Read and discard what is left of a request body, so that an error answered before the body was read
 * reaches a client that is still sending it (else it sees EPIPE / ECONNRESET, not the status).
 * Resolves when the body ends, when `maxBytes` more were discarded, after `maxMs`, or at once when it was
 * already read; never rejects. The same idea as nginx's `lingering_close`.
 */
export function drainRequest(raw: IncomingMessage, maxBytes: number, maxMs = 10_000): Promise<void> {
  if (raw.complete || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const finish = () => {
      clearTimeout(timer);
      raw.off("data", onData).off("end", finish).off("error", finish).off("close", finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) finish();
    };
    const timer = setTimeout(finish, maxMs);
    raw.on("data", onData).once("end", finish).once("error", finish).once("close", finish);
    raw.resume();
  });
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/;

/** Characters an API key needs before the server listens beyond loopback with it. */
export const MIN_NETWORK_KEY_CHARS = 16;

/**
 * Whether an HTTP `Host` header names a loopback address (with or without a port): `127.0.0.1:8012`, `[::1]:8012`,
 * `localhost`. An absent header (HTTP/1.0) passes: browsers always send one.
 */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  if (header === undefined) return true;
  const host = header.startsWith("[") ? header.slice(0, header.indexOf("]") + 1) : header.replace(/:\d*$/, "");
  return isLoopback(host.toLowerCase());
}

/** Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host.replace(/^\[|\]$/g, ""));
}

/**
 * Hearth's loaded models over HTTP, in the protocols other tools already speak: OpenAI's (`/v1/models`,
 * `/v1/chat/completions`, `/v1/completions` with `suffix` for FIM, `/v1/embeddings`, `/v1/rerank` in the
 * llama-server/Jina shape) and llama.cpp's (`/infill`, `/completion`, `/props`, `/tokenize`, `/health`), so
 * llama.vscode, llama.vim and Continue's llama.cpp provider can point at it; Ollama's (`/api/*`, see `ollama.ts`) for
 * the tools that speak only Ollama; plus `/metrics` (Prometheus).
 * Every request maps onto the sidecar's methods; each role keeps one queue (`maxQueue` deep, then 429 with
 * Retry-After), a client that disconnects cancels its generation, and errors are OpenAI-shaped with the
 * status that fits (400 naming the field, 401, 404, 413, 429, 500, 501, 502, 503).
 *
 * Built on fastify (JSON-schema validation of bodies through its ajv, body limit, request ids) and prom-client.
 * Wire shapes: ../shared/design/ENGINE-PROTOCOLS.md, OpenAI's API reference, llama.cpp's tools/server/README.md.
 * @throws Error at construction when `host` is not loopback and no `apiKey` is given.
 */
export class HearthServer {
  readonly app: FastifyInstance;
  readonly metrics = new ServeMetrics();
  private readonly queues = new Map<ModelRole, number>();
  private readonly keyDigest?: Buffer;
  private readonly maxQueue: number;

  constructor(readonly options: ServeOptions) {
    const host = options.host ?? "127.0.0.1";
    if (!isLoopback(host) && !options.apiKey) {
      throw new Error(
        `Binding to ${host} exposes the models to the network: give an API key (--api-key-env VAR) or bind to 127.0.0.1.`,
      );
    }
    if (!isLoopback(host) && options.apiKey && options.apiKey.length < MIN_NETWORK_KEY_CHARS) {
      throw new Error(
        `A ${options.apiKey.length}-character API key is too easy to guess for ${host}: use at least ${MIN_NETWORK_KEY_CHARS} random characters (e.g. openssl rand -hex 24).`,
      );
    }
    if (options.cors === "*" && !options.apiKey) {
      throw new Error(
        "CORS for every origin without an API key would let any web page use the models: name the origin (--cors https://…) or give a key.",
      );
    }
    if (options.maxQueue !== undefined && (!Number.isInteger(options.maxQueue) || options.maxQueue < 1)) {
      throw new Error(`The queue must hold at least one request per model, not ${options.maxQueue}.`);
    }
    this.maxQueue = options.maxQueue ?? 16;
    if (options.apiKey) this.keyDigest = sha256(options.apiKey);
    this.app = Fastify({
      logger: options.logJson ? { level: "info", stream: process.stderr } : false,
      // One line per request (written when it ends, below), not fastify's two ("incoming", "completed").
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024,
      genReqId: (req) => {
        const given = req.headers["x-request-id"];
        return typeof given === "string" && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
      },
      // Strict bodies: no coercing "5" to 5 or an object to an array, nothing removed.
      ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
      forceCloseConnections: "idle",
      // A client that sends its request slowly (a byte a minute) holds a connection: bounded in time and count.
      // Node checks the request timeout on an interval (30 s by default), so the server is made here to check
      // often enough for the bound to mean what it says.
      serverFactory: (handler) => {
        const requestTimeout = options.requestTimeoutMs ?? 30_000;
        return createServer(
          { requestTimeout, connectionsCheckingInterval: Math.min(1_000, requestTimeout), keepAliveTimeout: 72_000 },
          handler,
        );
      },
    });
    this.app.server.maxConnections = options.maxConnections ?? 256;
    this.routes();
  }

  /** Start listening. @returns the base URL, e.g. `http://127.0.0.1:8080`. */
  async listen(): Promise<string> {
    // `[::1]` as written in a URL is `::1` to listen on.
    const host = (this.options.host ?? "127.0.0.1").replace(/^\[(.*)\]$/, "$1");
    await this.app.listen({ host, port: this.options.port ?? 8012 });
    const address = this.app.server.address();
    const port = typeof address === "object" && address ? address.port : this.options.port;
    return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  }

  /** Stop accepting connections and wait for the requests in flight to finish (streams included). */
  async close(): Promise<void> {
    await this.app.close();
  }

  private routes(): void {
    const app = this.app;
    if (this.options.cors) void app.register(cors, { origin: this.options.cors });

    app.addHook("onRequest", async (req) => {
      // Without a key, only requests addressed to a loopback name are answered: a web page whose own name was
      // re-pointed at 127.0.0.1 (DNS rebinding) sends its name as Host, and must not read /props or run chats.
      // llama.cpp's server and Ollama check the same.
      if (!this.keyDigest && !isLoopbackHostHeader(req.headers.host)) {
        throw new ApiError(
          403,
          `Host '${String(req.headers.host).slice(0, 100)}' is not a loopback name: without an API key this server ` +
            "answers only requests to 127.0.0.1, [::1] or localhost. Give it a key (--api-key-env) to serve other names.",
          "invalid_request_error",
          "host_not_allowed",
        );
      }
      // A web page's request carries its Origin: with CORS it could not read the answer, but a "simple" POST
      // (text/plain, no preflight) would still run a generation. Only loopback pages and the `--cors` origin are
      // answered; tools (curl, SDKs, editors) send no Origin. Ollama checks the same (OLLAMA_ORIGINS).
      const origin = req.headers.origin;
      if (origin !== undefined && !this.originAllowed(origin)) {
        throw new ApiError(
          403,
          `Origin '${origin.slice(0, 100)}' is not allowed: a web page cannot use this server's models. Start it with --cors <origin> to allow one.`,
          "invalid_request_error",
          "origin_not_allowed",
        );
      }
      if (!this.keyDigest || req.url === "/health" || req.url === "/v1/health") return;
      // `Authorization: Bearer <key>` (OpenAI's clients) or `X-Api-Key: <key>` (llama-server takes both).
      const header = req.headers.authorization ?? "";
      const xApiKey = req.headers["x-api-key"];
      const given = header.startsWith("Bearer ") ? header.slice(7) : typeof xApiKey === "string" ? xApiKey : "";
      // Compared as SHA-256 digests, in constant time: neither the key's length nor its bytes leak by timing.
      if (!given || !timingSafeEqual(sha256(given), this.keyDigest)) {
        throw new ApiError(
          401,
          "Missing or wrong API key: send 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'.",
          "authentication_error",
          "invalid_api_key",
        );
      }
    });
    // A JSON body is read whatever its content type says: Ollama's and llama-server's clients (and `curl -d`) send
    // JSON without `application/json`. A page's cross-origin POST is stopped by the Origin check above.
    app.addContentTypeParser("*", { parseAs: "string" }, app.getDefaultJsonParser("error", "error"));
    app.addHook("onSend", async (req, reply) => {
      reply.header("x-request-id", req.id);
    });
    app.addHook("onResponse", async (req, reply) => {
      this.metrics.requests.inc({ route: req.routeOptions.url ?? "unknown", status: String(reply.statusCode) });
      if (this.options.logJson) {
        req.log.info(
          {
            method: req.method,
            url: req.url.split("?")[0],
            status: reply.statusCode,
            ms: Math.round(reply.elapsedTime),
          },
          "request",
        );
      }
    });
    // An error found before the body was read (413 from its content-length, 401, 404) is answered and the
    // connection closed: a client still writing the body then sees EPIPE instead of the answer. So the rest
    // of the body is read first, bounded in bytes and time (a completed request is answered at once).
    const drainBytes = 4 * (this.options.bodyLimit ?? 16 * 1024 * 1024);
    app.setNotFoundHandler(async (req, reply) => {
      await drainRequest(req.raw, drainBytes);
      return this.sendError(
        req,
        reply,
        new ApiError(404, `No route ${req.method} ${req.url.split("?")[0]}.`, "invalid_request_error", "not_found"),
      );
    });
    app.setErrorHandler(async (error, req, reply) => {
      await drainRequest(req.raw, drainBytes);
      return this.sendError(req, reply, this.toApiError(error));
    });

    const health = async (_req: FastifyRequest, reply: FastifyReply) => {
      if (this.options.loading()) {
        return reply
          .code(503)
          .header("retry-after", "2")
          .send({ status: "loading", error: { code: 503, message: "Loading model", type: "unavailable_error" } });
      }
      return { status: "ok" };
    };
    // llama-server's aliases: /v1/health, /models, /chat/completions, /completions, /embeddings, /reranking.
    app.get("/health", health);
    app.get("/v1/health", health);

    app.get("/metrics", async (_req, reply) => {
      this.metrics.setModels(this.options.models());
      for (const [role, n] of this.queues) this.metrics.queueDepth.set({ role }, n);
      return reply
        .header("content-type", this.metrics.registry.contentType)
        .send(await this.metrics.registry.metrics());
    });

    const listModels = async () => {
      const created = Math.floor(Date.now() / 1000);
      // The chat model first: UIs that take the first entry offer it, not the reranker. A file that serves
      // several roles (chat and FIM, as one llama-server model does) is one entry.
      const models = Object.values(this.options.models()).sort(
        (a, b) => MODEL_ROLES.indexOf(a.role) - MODEL_ROLES.indexOf(b.role),
      );
      const roles = new Map<string, ModelRole[]>();
      for (const m of models) roles.set(m.path, [...(roles.get(m.path) ?? []), m.role]);
      return {
        object: "list",
        data: models
          .filter((m) => roles.get(m.path)![0] === m.role)
          .map((m) => ({
            id: this.shownName(m),
            object: "model",
            created,
            owned_by: "hearth",
            meta: {
              role: m.role,
              roles: roles.get(m.path),
              n_ctx: m.contextSize,
              n_ctx_train: m.trainContextSize,
              engine: m.engine?.kind ?? "embedded",
            },
          })),
      };
    };
    app.get("/v1/models", listModels);
    app.get("/models", listModels);

    app.get("/props", async () => {
      const models = this.options.models();
      const m = models.chat ?? models.completion;
      return {
        default_generation_settings: {
          n_ctx: m?.contextSize ?? 0,
          params: { n_predict: this.options.defaultMaxTokens ?? -1 },
        },
        total_slots: 1,
        model_path: m?.path ?? "",
        build_info: "hearth",
        roles: Object.fromEntries(Object.entries(models).map(([role, info]) => [role, info.name])),
      };
    });

    // llama-server's: `add_special` puts BOS first, `parse_special` (default true) reads `<s>` as the token,
    // `with_pieces` gives each token's text.
    app.post("/tokenize", { schema: { body: schemas.tokenize } }, async (req) => {
      const body = req.body as schemas.TokenizeBody;
      const role = this.textRole();
      if (!body.content) return { tokens: [] };
      const { tokens, pieces } = await this.call(() =>
        this.options.api.request("model/tokenize", {
          role,
          text: body.content,
          special: body.parse_special ?? true,
          addBos: body.add_special ?? false,
          pieces: body.with_pieces ?? false,
        }),
      );
      return { tokens: pieces ? tokens.map((id, i) => ({ id, piece: pieces[i] })) : tokens };
    });
    app.post("/detokenize", { schema: { body: schemas.detokenize } }, async (req) => {
      const { tokens } = req.body as { tokens: number[] };
      const role = this.textRole();
      if (!tokens.length) return { content: "" };
      const { text } = await this.call(() => this.options.api.request("model/detokenize", { role, tokens }));
      return { content: text };
    });

    for (const route of ["/v1/chat/completions", "/chat/completions"])
      app.post(route, { schema: { body: schemas.chatCompletions } }, (req, reply) => this.chat(req, reply));
    for (const route of ["/v1/completions", "/completions"])
      app.post(route, { schema: { body: schemas.completions } }, (req, reply) => this.completions(req, reply));
    app.post("/infill", { schema: { body: schemas.infill } }, (req, reply) => this.infill(req, reply, true));
    app.post("/completion", { schema: { body: schemas.completion } }, (req, reply) => this.continuation(req, reply));
    for (const route of ["/v1/embeddings", "/embeddings"])
      app.post(route, { schema: { body: schemas.embeddings } }, (req, reply) => this.embeddings(req, reply));
    for (const route of ["/v1/rerank", "/rerank", "/v1/reranking", "/reranking"]) {
      app.post(route, { schema: { body: schemas.rerank } }, (req, reply) => this.rerank(req, reply));
    }
    registerOllamaRoutes(app, this);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Routes

  private async chat(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const body = req.body as schemas.ChatBody;
    const info = this.model("chat");
    const plan = body.tools?.length ? chatTools(body.tools, body.tool_choice) : undefined;
    const { system, messages } = chatMessages(body.messages);
    if (body.grammar) {
      throw badRequest(
        "GBNF grammars ('grammar') are not served: give the answer's shape as a JSON schema ('response_format' or 'json_schema').",
        "grammar",
      );
    }
    const responseSchema =
      responseSchemaOf(body.response_format) ??
      (body.json_schema ? clientSchema(body.json_schema, "json_schema") : undefined);
    if (plan && responseSchema)
      throw badRequest("Give 'tools' or a JSON 'response_format', not both.", "response_format");
    const request: ChatRequest = {
      system,
      messages,
      params: strip({
        maxTokens: body.max_completion_tokens ?? noLimit(body.max_tokens) ?? this.options.defaultMaxTokens,
        temperature: body.temperature ?? undefined,
        topP: body.top_p ?? undefined,
        topK: body.top_k ?? undefined,
        seed: body.seed ?? undefined,
      }),
      stops: stopList(body.stop),
      ...(responseSchema ? { responseSchema } : {}),
      ...(plan ? { tools: plan } : {}),
    };
    const id = `chatcmpl-${req.id}`;
    const created = Math.floor(Date.now() / 1000);
    const stream = body.stream === true ? this.openStream(reply) : undefined;
    let begun = false;
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => {
      const event = (d: Record<string, unknown>, f: string | null) =>
        stream?.event({
          id,
          object: "chat.completion.chunk",
          created,
          model: this.shownName(info),
          choices: [{ index: 0, delta: d, finish_reason: f }],
        });
      // The role's chunk opens the stream with the first real one, so an early error is still an HTTP status.
      if (!begun) {
        begun = true;
        event({ role: "assistant", content: "" }, null);
      }
      event(delta, finish);
    };
    let answer: ChatAnswer | undefined;
    try {
      answer = await this.runChat(reply, request, (d) =>
        chunk(d.reasoning ? { reasoning_content: d.reasoning } : { content: d.content }),
      );
    } catch (error) {
      if (stream) return stream.fail(error instanceof ApiError ? error : fromHearthError(error));
      throw error;
    }
    if (!answer) return reply;
    const { result } = answer;
    const toolCalls = answer.toolCalls.map((c, i) =>
      openAiToolCall(c, `call_${req.id.replace(/-/g, "").slice(0, 20)}${i}`),
    );
    const usage = {
      prompt_tokens: result.usage.promptTokens,
      completion_tokens: result.usage.completionTokens,
      total_tokens: result.usage.promptTokens + result.usage.completionTokens,
    };
    const timings = {
      prompt_n: result.usage.promptTokens,
      predicted_n: result.usage.completionTokens,
      ttft_ms: result.timings.ttftMs,
      predicted_per_second: result.timings.tokensPerSecond,
    };
    if (stream) {
      if (toolCalls.length) chunk({ tool_calls: toolCalls.map((c, index) => ({ index, ...c })) });
      chunk({}, answer.finish);
      if (body.stream_options?.include_usage) {
        stream.event({
          id,
          object: "chat.completion.chunk",
          created,
          model: this.shownName(info),
          choices: [],
          usage,
          timings,
        });
      }
      return stream.end();
    }
    return {
      id,
      object: "chat.completion",
      created,
      model: this.shownName(info),
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: toolCalls.length ? null : answer.text,
            ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
            ...(answer.reasoning ? { reasoning_content: answer.reasoning } : {}),
          },
          finish_reason: answer.finish,
        },
      ],
      usage,
      timings,
    };
  }

  /**
   * One chat on the chat role, whichever API asked (OpenAI's `/v1/chat/completions`, Ollama's `/api/chat` and
   * `/api/generate`): the answer's text and reasoning go to `onDelta` as they are made, cut at the first of
   * `request.stops` (decoding stops there too); the queue place is held until the end, and a client that
   * disconnects cancels the generation.
   * @returns the answer, or undefined when the client went away.
   * @throws ApiError from the sidecar's errors (429 queue full, 400 prompt over the context with the counts, …).
   */
  async runChat(
    reply: FastifyReply,
    request: ChatRequest,
    onDelta: (delta: { content?: string; reasoning?: string }) => void,
  ): Promise<ChatAnswer | undefined> {
    const plan = request.tools;
    // A stop string would cut a tool call's JSON: with tools, the engine decides where the answer ends.
    const stops = plan ? [] : request.stops;
    const release = this.enter("chat");
    const abort = abortOnDisconnect(reply);
    // Made here, never from the client's x-request-id: two requests that send the same id must not receive each
    // other's tokens (the id is only echoed back).
    const streamId = `serve-${randomUUID()}`;
    let text = "";
    let reasoning = "";
    let stoppedAt: number | undefined;
    const sub = this.options.api.onNotification("chat/delta", (d) => {
      if (d.streamId !== streamId || stoppedAt !== undefined) return;
      if (d.reasoning) {
        reasoning += d.reasoning;
        onDelta({ reasoning: d.reasoning });
      }
      // With tools the deltas are the answer's text only (the engine holds a call back).
      if (!d.text) return;
      // A stop string ends the answer before it: what is sent stops there, and so does decoding.
      const before = text.length;
      text += d.text;
      const at = firstStop(text, stops, before);
      if (at !== undefined) {
        stoppedAt = at;
        if (at > before) onDelta({ content: text.slice(before, at) });
        text = text.slice(0, at);
        abort.abort();
        return;
      }
      onDelta({ content: d.text });
    });
    let result: ChatSendResult;
    try {
      result = await this.call(() =>
        this.options.api.request(
          "chat/send",
          {
            streamId,
            messages: request.messages,
            ...(request.system ? { system: request.system } : {}),
            params: request.params,
            ...(request.responseSchema ? { responseSchema: request.responseSchema } : {}),
            ...(plan ? { tools: plan.tools, toolChoice: plan.toolChoice } : {}),
            // llama-server's context policy unless the server was started to trim old turns.
            contextPolicy: this.options.trimHistory ? "trim" : "strict",
          },
          abort.signal,
        ),
      );
    } finally {
      sub.dispose();
      release();
    }
    // Counted also when the client went away: /metrics then shows how far decoding got before it stopped.
    this.metrics.answer("chat", result.usage, result.timings.ttftMs, result.timings.tokensPerSecond);
    if (abort.disconnected) return undefined;
    // With tools the engine returns the calls (natively or from its grammar); an answer is the text.
    const toolCalls = result.toolCalls ?? [];
    const finish = toolCalls.length
      ? "tool_calls"
      : stoppedAt !== undefined
        ? "stop"
        : result.stopReason === "maxTokens"
          ? "length"
          : "stop";
    return { result, text: stoppedAt !== undefined ? text : result.text, reasoning, finish, toolCalls };
  }

  /**
   * A plain continuation of `prompt` by the completion model (`completion/complete`), streamed as it is made;
   * deltas of `streamId` go to `onPiece` (cut at the first stop string the engine did not catch).
   * @returns the result, or undefined when the client went away.
   */
  async continue(
    reply: FastifyReply,
    params: Omit<CompleteParams, "streamId">,
    onPiece: (text: string) => void,
  ): Promise<CompleteResult | undefined> {
    const release = this.enter("completion");
    const abort = abortOnDisconnect(reply);
    const streamId = `serve-${randomUUID()}`;
    const sub = this.options.api.onNotification("chat/delta", (d) => {
      if (d.streamId === streamId && d.text) onPiece(d.text);
    });
    try {
      const result = await this.call(() =>
        this.options.api.request("completion/complete", { ...params, streamId }, abort.signal),
      );
      this.metrics.answer("completion", result.usage, result.timings.ttftMs);
      return abort.disconnected ? undefined : result;
    } finally {
      sub.dispose();
      release();
    }
  }

  /** llama-server's `POST /completion`: a continuation of `prompt` (no FIM), streamed event by event. */
  private async continuation(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const body = req.body as schemas.CompletionBody;
    const info = this.model("completion");
    const stops = stopList(body.stop);
    const stream = body.stream === true ? this.openStream(reply) : undefined;
    const event = (content: string) => stream?.event({ index: 0, content, stop: false, tokens: [] });
    let result: CompleteResult | undefined;
    const params = strip({
      prompt: body.prompt,
      // -1 (llama-server's default) is "until the end": bounded here by the completion context.
      maxTokens:
        body.n_predict === undefined || body.n_predict < 0
          ? (this.options.defaultMaxTokens ?? 1024)
          : Math.max(1, body.n_predict),
      temperature: body.temperature,
      topP: body.top_p,
      topK: body.top_k,
      seed: body.seed !== undefined && body.seed >= 0 ? body.seed : undefined,
      ...(stops.length ? { stop: stops } : {}),
    });
    try {
      result = await this.continue(reply, params, event);
    } catch (error) {
      if (stream) return stream.fail(error instanceof ApiError ? error : fromHearthError(error));
      throw error;
    }
    if (!result) return reply;
    const answer = {
      index: 0,
      content: stream ? "" : result.text,
      stop: true,
      model: this.shownName(info),
      stop_type: result.stoppingWord !== undefined ? "word" : result.stopReason === "maxTokens" ? "limit" : "eos",
      stopping_word: result.stoppingWord ?? "",
      tokens_predicted: result.usage.completionTokens,
      tokens_evaluated: result.usage.promptTokens,
      has_new_line: result.text.includes("\n"),
      truncated: false,
      // What was applied (llama-server reports its whole sampler chain; these are the settings Hearth takes).
      generation_settings: strip({
        n_predict: params.maxTokens,
        temperature: params.temperature,
        top_k: params.topK,
        top_p: params.topP,
        seed: params.seed,
        stop: stops,
      }),
      timings: {
        prompt_n: result.usage.promptTokens,
        prompt_ms: result.timings.ttftMs,
        predicted_n: result.usage.completionTokens,
        predicted_ms: Math.max(0, result.timings.totalMs - result.timings.ttftMs),
      },
    };
    if (stream) {
      stream.event(answer);
      return stream.end(false);
    }
    return answer;
  }

  private async completions(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const body = req.body as schemas.CompletionsBody;
    const info = this.model("completion");
    const prompt = Array.isArray(body.prompt) ? body.prompt : [body.prompt];
    if (prompt.length !== 1) throw badRequest("Give one prompt (a string, or an array of one).", "prompt");
    // Without `suffix`: a plain continuation, as OpenAI's and llama-server's /v1/completions do.
    if (body.suffix === undefined || body.suffix === null)
      return this.openAiContinuation(req, reply, body, prompt[0]!, info);
    const result = await this.fim(reply, {
      prefix: prompt[0]!,
      suffix: body.suffix ?? "",
      maxTokens: body.max_tokens === -1 ? (this.options.defaultMaxTokens ?? 128) : (body.max_tokens ?? 16),
    });
    if (!result) return reply;
    const stops = stopList(body.stop);
    const at = firstStop(result.text, stops, 0);
    const text = at === undefined ? result.text : result.text.slice(0, at);
    const finish = at === undefined && result.stopReason === "maxTokens" ? "length" : "stop";
    const id = `cmpl-${req.id}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = {
      prompt_tokens: result.usage.promptTokens,
      completion_tokens: result.usage.completionTokens,
      total_tokens: result.usage.promptTokens + result.usage.completionTokens,
    };
    const choice = (t: string, f: string | null) => ({ index: 0, text: t, logprobs: null, finish_reason: f });
    if (body.stream) {
      // The FIM answer arrives whole from the sidecar (it is short); it is sent as one text event.
      const stream = this.openStream(reply);
      stream.event({
        id,
        object: "text_completion",
        created,
        model: this.shownName(info),
        choices: [choice(text, null)],
      });
      stream.event({
        id,
        object: "text_completion",
        created,
        model: this.shownName(info),
        choices: [choice("", finish)],
      });
      if (body.stream_options?.include_usage) {
        stream.event({ id, object: "text_completion", created, model: this.shownName(info), choices: [], usage });
      }
      return stream.end();
    }
    return {
      id,
      object: "text_completion",
      created,
      model: this.shownName(info),
      choices: [choice(text, finish)],
      usage,
    };
  }

  /** `/v1/completions` without `suffix`: a continuation in OpenAI's shape, streamed chunk by chunk. */
  private async openAiContinuation(
    req: FastifyRequest,
    reply: FastifyReply,
    body: schemas.CompletionsBody,
    prompt: string,
    info: ModelInfo,
  ): Promise<unknown> {
    const id = `cmpl-${req.id}`;
    const created = Math.floor(Date.now() / 1000);
    const model = this.shownName(info);
    const choice = (t: string, f: string | null) => ({ index: 0, text: t, logprobs: null, finish_reason: f });
    const stream = body.stream === true ? this.openStream(reply) : undefined;
    const stops = stopList(body.stop);
    let result: CompleteResult | undefined;
    try {
      result = await this.continue(
        reply,
        strip({
          prompt,
          maxTokens:
            body.max_tokens === -1 || body.max_tokens === null
              ? this.options.defaultMaxTokens
              : (body.max_tokens ?? 16),
          temperature: body.temperature ?? undefined,
          topP: body.top_p ?? undefined,
          topK: body.top_k ?? undefined,
          seed: body.seed ?? undefined,
          ...(stops.length ? { stop: stops } : {}),
        }),
        (text) => stream?.event({ id, object: "text_completion", created, model, choices: [choice(text, null)] }),
      );
    } catch (error) {
      if (stream) return stream.fail(error instanceof ApiError ? error : fromHearthError(error));
      throw error;
    }
    if (!result) return reply;
    const finish = result.stopReason === "maxTokens" ? "length" : "stop";
    const usage = {
      prompt_tokens: result.usage.promptTokens,
      completion_tokens: result.usage.completionTokens,
      total_tokens: result.usage.promptTokens + result.usage.completionTokens,
    };
    if (stream) {
      stream.event({ id, object: "text_completion", created, model, choices: [choice("", finish)] });
      if (body.stream_options?.include_usage)
        stream.event({ id, object: "text_completion", created, model, choices: [], usage });
      return stream.end();
    }
    return { id, object: "text_completion", created, model, choices: [choice(result.text, finish)], usage };
  }

  private async infill(req: FastifyRequest, reply: FastifyReply, withSuffix: boolean): Promise<unknown> {
    const body = req.body as schemas.InfillBody;
    const info = this.model("completion");
    // llama.vscode sends the cursor line's text before the cursor as `prompt`, the lines above as `input_prefix`.
    const prefix = withSuffix ? `${body.input_prefix ?? ""}${body.prompt ?? ""}` : (body.prompt ?? "");
    const context = (body.input_extra ?? [])
      .map((e) => (e.filename ? `${e.filename}\n${e.text ?? ""}` : (e.text ?? "")))
      .join("\n");
    const nPredict =
      body.n_predict === undefined || body.n_predict < 0 ? (this.options.defaultMaxTokens ?? 128) : body.n_predict;
    const result = await this.fim(reply, {
      prefix,
      suffix: withSuffix ? (body.input_suffix ?? "") : "",
      maxTokens: Math.max(1, nPredict),
      ...(context ? { context } : {}),
      ...(body.t_max_predict_ms ? { timeBudgetMs: body.t_max_predict_ms } : {}),
    });
    if (!result) return reply;
    const stops = stopList(body.stop);
    const at = firstStop(result.text, stops, 0);
    const content = at === undefined ? result.text : result.text.slice(0, at);
    const answer = {
      index: 0,
      content,
      stop: true,
      model: this.shownName(info),
      stop_type:
        at !== undefined
          ? "word"
          : result.stopReason === "maxTokens" || result.stopReason === "timeBudget"
            ? "limit"
            : "eos",
      stopping_word: at !== undefined ? (stops.find((s) => result.text.startsWith(s, at)) ?? "") : "",
      tokens_predicted: result.usage.completionTokens,
      tokens_evaluated: result.usage.promptTokens,
      tokens_cached: result.usage.promptTokens - result.usage.evaluatedTokens,
      has_new_line: content.includes("\n"),
      truncated: false,
      generation_settings: { n_predict: Math.max(1, nPredict), temperature: 0, stop: stops },
      timings: {
        prompt_n: result.usage.evaluatedTokens,
        prompt_ms: result.timings.ttftMs,
        predicted_n: result.usage.completionTokens,
        predicted_ms: Math.max(0, result.timings.totalMs - result.timings.ttftMs),
      },
    };
    if (body.stream) {
      const stream = this.openStream(reply);
      stream.event(answer);
      return stream.end(false);
    }
    return answer;
  }

  private async embeddings(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const body = req.body as schemas.EmbeddingsBody;
    const info = this.model("embedding");
    const texts = typeof body.input === "string" ? [body.input] : body.input;
    if (texts.length === 0) throw badRequest("'input' is empty: give a string or an array of strings.", "input");
    const result = await this.embed(reply, texts);
    const base64 = body.encoding_format === "base64";
    return {
      object: "list",
      model: this.shownName(info),
      data: result.vectors.map((v, index) => ({
        object: "embedding",
        index,
        embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v,
      })),
      usage: { prompt_tokens: result.tokens, total_tokens: result.tokens },
    };
  }

  private async rerank(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const body = req.body as schemas.RerankBody;
    const info = this.model("rerank");
    const tei = body.documents === undefined;
    const documents = (body.documents ?? body.texts!).map((d) => (typeof d === "string" ? d : d.text));
    const release = this.enter("rerank");
    const abort = abortOnDisconnect(reply);
    let scores: number[];
    try {
      ({ scores } = await this.call(() =>
        this.options.api.request("rerank/score", { query: body.query, documents }, abort.signal),
      ));
    } finally {
      release();
    }
    const results = scores
      .map((relevance_score, index) => ({
        index,
        relevance_score,
        ...(body.return_documents ? { document: { text: documents[index] } } : {}),
      }))
      .sort((a, b) => b.relevance_score - a.relevance_score)
      .slice(0, body.top_n ?? documents.length);
    // TEI's answer is the bare list, scores as `score`.
    if (tei) {
      return results.map((r) => ({
        index: r.index,
        score: r.relevance_score,
        ...(body.return_text ? { text: documents[r.index] } : {}),
      }));
    }
    return {
      id: `rerank-${req.id}`,
      model: this.shownName(info),
      object: "list",
      results,
      usage: { prompt_tokens: 0, total_tokens: 0 },
    };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Plumbing

  /** One FIM request on the completion role; undefined when the client went away meanwhile. */
  async fim(
    reply: FastifyReply,
    params: { prefix: string; suffix: string; maxTokens: number; context?: string; timeBudgetMs?: number },
  ): Promise<InfillResult | undefined> {
    const release = this.enter("completion");
    const abort = abortOnDisconnect(reply);
    try {
      const result = await this.call(() => this.options.api.request("completion/infill", params, abort.signal));
      this.metrics.answer("completion", result.usage, result.timings.ttftMs);
      return abort.disconnected ? undefined : result;
    } finally {
      release();
    }
  }

  /**
   * Embed `texts` exactly as given (no prefix, no identifier splitting, no cut: the same vectors llama-server
   * gives), holding a place in the embedding queue.
   * @throws ApiError (400 for a text over the context, 429 queue full, …).
   */
  async embed(reply: FastifyReply, texts: string[]): Promise<EmbedResult> {
    const release = this.enter("embedding");
    const abort = abortOnDisconnect(reply);
    try {
      const result = await this.call(() =>
        this.options.api.request("embedding/embed", { texts, kind: "raw" }, abort.signal),
      );
      this.metrics.answer("embedding", { promptTokens: result.tokens, completionTokens: 0 });
      return result;
    } finally {
      release();
    }
  }

  /**
   * The model that serves `role`, whatever name the request gives (as llama-server answers: clients send the name
   * they were configured with; llama.vscode's embeddings send "GPT-4").
   * @throws ApiError 503 (loading), 404 (no model for the role).
   */
  model(role: ModelRole): ModelInfo {
    const info = this.options.models()[role];
    if (!info) throw this.noModel(role);
    return info;
  }

  /** The name a model is listed and answered under: `--alias` for the chat model, else its file name. */
  shownName(info: ModelInfo): string {
    return this.options.alias && (info.role === "chat" || !this.options.models().chat) ? this.options.alias : info.name;
  }

  /** Whether a browser page of `origin` may call: the `--cors` origin (any with "*"), or a page on a loopback host. */
  private originAllowed(origin: string): boolean {
    if (this.options.cors === "*" || origin === this.options.cors) return true;
    try {
      const { protocol, hostname } = new URL(origin);
      return (protocol === "http:" || protocol === "https:") && isLoopback(hostname);
    } catch {
      return false;
    }
  }

  /** The role whose tokenizer `/tokenize` and `/detokenize` use: the chat model's, else the completion model's. */
  private textRole(): ModelRole {
    const models = this.options.models();
    if (models.chat) return "chat";
    if (models.completion) return "completion";
    throw this.noModel("chat");
  }

  private noModel(role: ModelRole): ApiError {
    if (this.options.loading()) {
      return new ApiError(503, `The ${role} model is still loading.`, "unavailable_error", "model_loading", null, {
        "retry-after": "2",
      });
    }
    const flag = {
      chat: "--model",
      completion: "--completion-model",
      embedding: "--embedding-model",
      rerank: "--rerank-model",
      nes: "--nes-model",
    }[role];
    return new ApiError(
      404,
      `This server has no ${role} model: start 'hearth serve' with ${flag} <path.gguf>.`,
      "invalid_request_error",
      "model_not_found",
      "model",
    );
  }

  /** Take a place in `role`'s queue. @returns its release. @throws ApiError 429 with Retry-After when full. */
  enter(role: ModelRole): () => void {
    const n = this.queues.get(role) ?? 0;
    if (n >= this.maxQueue) {
      throw new ApiError(
        429,
        `The ${role} queue is full (${this.maxQueue} requests waiting or running); try again shortly.`,
        "rate_limit_error",
        "queue_full",
        null,
        { "retry-after": "1" },
      );
    }
    this.queues.set(role, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.queues.set(role, (this.queues.get(role) ?? 1) - 1);
    };
  }

  /** Run a sidecar request, its errors turned into HTTP ones. */
  async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw fromHearthError(error);
    }
  }

  /**
   * A stream on `reply`'s raw socket (fastify hands it over: `reply.hijack()`): SSE events (`data: {json}`, OpenAI's
   * and llama.cpp's routes) or NDJSON lines (Ollama's). It opens (200 and its headers) at its first event: an error
   * before that — a prompt over the context, a model that cannot — is still an HTTP error with its status, as
   * llama-server and Ollama answer it.
   */
  openStream(reply: FastifyReply, framing: "sse" | "ndjson" = "sse") {
    const raw = reply.raw;
    let opened = false;
    const open = () => {
      if (opened) return;
      opened = true;
      reply.hijack();
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        "content-type": framing === "sse" ? "text/event-stream; charset=utf-8" : "application/x-ndjson",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-request-id": String(reply.request.id),
      });
    };
    // The request is counted by the onResponse hook, which fastify runs for a hijacked reply too.
    return {
      event: (data: unknown) => {
        open();
        if (raw.writableEnded) return;
        raw.write(framing === "sse" ? `data: ${JSON.stringify(data)}\n\n` : `${JSON.stringify(data)}\n`);
      },
      /** End the stream (with OpenAI's `[DONE]` unless `done` is false: llama.cpp's routes send none). */
      end: (done = true) => {
        open();
        if (!raw.writableEnded) raw.end(done && framing === "sse" ? "data: [DONE]\n\n" : undefined);
        return reply;
      },
      /**
       * An error: before the first event, thrown (the route answers it with its status); after, one `error`
       * event, then the end.
       */
      fail: (error: ApiError): FastifyReply => {
        if (!opened) throw error;
        if (!raw.writableEnded) {
          raw.write(
            framing === "sse"
              ? `data: ${JSON.stringify(error.body())}\n\n`
              : `${JSON.stringify({ error: error.message })}\n`,
          );
          raw.end();
        }
        this.report(reply.request, error);
        return reply;
      },
    };
  }

  private toApiError(error: unknown): ApiError {
    if (error instanceof ApiError) return error;
    const e = error as {
      statusCode?: number;
      code?: string;
      validation?: unknown;
      message?: string;
      validationContext?: string;
    };
    if (e.validation) {
      // ajv's first error only (a nullable field's branches would each add one), e.g. "messages/0/tool_calls must
      // be array"; the field goes in OpenAI's `param` too.
      const first = Array.isArray(e.validation)
        ? (e.validation[0] as { instancePath?: string; message?: string } | undefined)
        : undefined;
      const path = first?.instancePath?.replace(/^\//, "");
      const message = first
        ? `${path || "body"} ${first.message ?? "is invalid"}`
        : (e.message ?? "invalid request").replace(/^body\/?/, "");
      const param = path
        ? path.replace(/\//g, ".")
        : (/^([\w/[\]]+)\s/.exec(message)?.[1]?.replace(/\//g, ".") ?? null);
      return badRequest(`Invalid request: ${message}.`, param);
    }
    if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return new ApiError(
        413,
        `The request body is over the limit of ${this.options.bodyLimit ?? 16 * 1024 * 1024} bytes.`,
        "invalid_request_error",
        "request_too_large",
      );
    }
    if (e.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      return new ApiError(415, "Send the body as application/json.", "invalid_request_error", "unsupported_media_type");
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return badRequest(`Invalid request: ${e.message ?? "bad request"}.`);
    }
    return new ApiError(500, `Internal error: ${e.message ?? String(error)}`, "server_error");
  }

  private sendError(req: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
    if (error.status >= 500) this.report(req, error);
    for (const [k, v] of Object.entries(error.headers)) reply.header(k, v);
    // Ollama's routes answer errors as `{"error": "…"}`, which its clients read.
    if (req.url.startsWith("/api/")) return reply.code(error.status).send({ error: error.message });
    return reply.code(error.status).send(error.body());
  }

  private report(req: FastifyRequest, error: ApiError): void {
    if (this.options.logJson) req.log.error({ status: error.status, err: error.message }, "request failed");
    else this.options.onError?.(`${req.id} ${req.method} ${req.url} → ${error.status}: ${error.message}`);
  }
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * An abort signal for the sidecar request, aborted when the client disconnects before the answer is sent
 * (the sidecar then stops decoding), or by the caller (a stop string).
 */
function abortOnDisconnect(reply: FastifyReply): AbortController & { disconnected: boolean } {
  const abort = Object.assign(new AbortController(), { disconnected: false });
  const onClose = () => {
    if (reply.raw.writableFinished) return;
    abort.disconnected = true;
    abort.abort();
  };
  reply.raw.once("close", onClose);
  return abort;
}
