import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyReply } from "fastify";
import type {
  CompleteParams,
  CompleteResult,
  EmbedResult,
  InfillResult,
  ModelInfo,
  ModelRole,
} from "../../shared/protocol";
import { checkJsonSchema } from "../../shared/guards";
import { l2Normalize } from "../../shared/vectors";
import { ApiError, badRequest, checkClientField } from "./openaiErrors";
import { chatMessages, firstStop, stopList, strip, type ChatAnswer, type ChatRequest } from "./requests";
import * as schemas from "./schemas";
import { chatTools } from "./tools";

/**
 * The version `GET /api/version` reports: the Ollama API release whose routes and fields these answer (clients such
 * as VS Code's Ollama provider refuse servers older than the version they need).
 */
export const OLLAMA_API_VERSION = "0.13.0";

/** A stream `openStream` opens (the NDJSON framing here). */
export interface ServeStream {
  event(data: unknown): void;
  end(done?: boolean): FastifyReply;
  fail(error: ApiError): FastifyReply;
}

/** What the Ollama routes need of the server they are registered on (`HearthServer`). */
export interface OllamaHost {
  readonly options: { models(): Partial<Record<ModelRole, ModelInfo>>; defaultMaxTokens?: number };
  /** @throws ApiError 503 loading, 404 no model for the role. */
  model(role: ModelRole): ModelInfo;
  shownName(info: ModelInfo): string;
  runChat(
    reply: FastifyReply,
    request: ChatRequest,
    onDelta: (delta: { content?: string; reasoning?: string }) => void,
  ): Promise<ChatAnswer | undefined>;
  continue(
    reply: FastifyReply,
    params: Omit<CompleteParams, "streamId">,
    onPiece: (text: string) => void,
  ): Promise<CompleteResult | undefined>;
  fim(
    reply: FastifyReply,
    params: { prefix: string; suffix: string; maxTokens: number },
  ): Promise<InfillResult | undefined>;
  embed(reply: FastifyReply, texts: string[]): Promise<EmbedResult>;
  openStream(reply: FastifyReply, framing: "ndjson"): ServeStream;
}

/** The roles an Ollama client can use: Ollama has no rerank, and the next-edit model is not a general one. */
const OLLAMA_ROLES: ModelRole[] = ["chat", "completion", "embedding"];

/** Model-management routes of Ollama that a server of already-loaded models does not have. */
const MANAGEMENT_ROUTES = ["/api/pull", "/api/push", "/api/create", "/api/copy", "/api/delete", "/api/blobs/:digest"];

/**
 * Ollama's API on `hearth serve`, for the tools that speak only Ollama (Open WebUI, Zed, JetBrains, VS Code's Ollama
 * provider, Continue's Ollama provider): `GET /`, `/api/version`, `/api/tags`, `/api/ps`, `POST /api/show`,
 * `/api/chat` and `/api/generate` (NDJSON streams by default, `stream: false` for one object; `suffix` is FIM on
 * the completion model, `raw` a plain continuation, `format` "json" or a schema, `options` num_predict / temperature
 * / top_k / top_p / seed / stop), `/api/embed` and the older `/api/embeddings`. Errors are `{"error": "…"}` with the
 * HTTP status (the server's error handler writes that shape for `/api/` routes); an error after a stream began is
 * one `{"error"}` line, as Ollama ends a stream.
 *
 * Model names follow the server's one policy: any name maps to the model that serves the route (a name of a
 * listed model, with or without `:latest`, picks that model where the route can use it); only `/api/show` asks
 * about one model by name and answers 404 for a name it does not list.
 * Differences from Ollama, each deliberate (docs/serving.md): models are the ones the server was started with (no
 * pull/create/delete: 501 naming `hearth models`); `num_ctx` and `keep_alive` are ignored (the window is set at
 * load); an input over the embedding model's window is refused with 400 rather than cut (`truncate` is ignored);
 * `template`, `images` and `context` are refused or ignored as documented.
 * Sources: docs.ollama.com/api, ../shared/design/ENGINE-PROTOCOLS.md; Continue's core/llm/llms/Ollama.ts for what a
 * client reads (`parameters` for num_ctx, `.Suffix` in `template` for FIM).
 */
export function registerOllamaRoutes(app: FastifyInstance, host: OllamaHost): void {
  const started = new Date().toISOString();

  app.get("/", async (_req, reply) => reply.type("text/plain; charset=utf-8").send("Ollama is running"));
  app.get("/api/version", async () => ({ version: OLLAMA_API_VERSION }));

  app.get("/api/tags", async () => ({
    models: served(host).map(({ info }) => ({
      name: host.shownName(info),
      model: host.shownName(info),
      modified_at: started,
      size: info.sizeBytes,
      digest: digest(info),
      details: details(info),
      capabilities: capabilities(info),
    })),
  }));

  app.get("/api/ps", async () => ({
    models: served(host).map(({ info }) => ({
      name: host.shownName(info),
      model: host.shownName(info),
      size: info.sizeBytes,
      digest: digest(info),
      details: details(info),
      // Loaded until the server stops.
      expires_at: "9999-12-31T23:59:59Z",
      size_vram: info.memory?.placement === "gpu" ? info.memory.weightsBytes + info.memory.contextBytes : 0,
      context_length: info.contextSize,
    })),
  }));

  app.post("/api/show", { schema: { body: schemas.ollamaShow } }, async (req) => {
    const body = req.body as { model?: string; name?: string };
    const name = body.model ?? body.name;
    if (!name) throw badRequest("Give the model's name in 'model'.", "model");
    const info = served(host).find((m) => sameName(name, host.shownName(m.info)))?.info;
    if (!info) throw new ApiError(404, `model '${name}' not found`, "invalid_request_error", "model_not_found");
    const arch = info.architecture || "unknown";
    return {
      modelfile: `# Served by Hearth\nFROM ${info.name}\n`,
      // Continue reads num_ctx from here.
      parameters: `num_ctx ${info.contextSize}`,
      // Continue decides FIM from `.Suffix` in the template; Hearth applies the model's own template either way.
      template: info.role === "completion" && info.infillSupported ? "{{ .Prompt }}{{ .Suffix }}" : "{{ .Prompt }}",
      details: details(info),
      model_info: strip({
        "general.architecture": arch,
        [`${arch}.context_length`]: info.trainContextSize,
        [`${arch}.embedding_length`]: info.embeddingDimensions,
      }),
      capabilities: capabilities(info),
      modified_at: started,
    };
  });

  for (const route of MANAGEMENT_ROUTES) {
    app.all(route, async () => {
      throw new ApiError(
        501,
        "hearth serve serves the models it was started with: manage models with 'hearth models', then restart 'hearth serve'.",
        "invalid_request_error",
        "not_supported",
      );
    });
  }

  app.post("/api/chat", { schema: { body: schemas.ollamaChat } }, async (req, reply) => {
    const body = req.body as schemas.OllamaChatBody;
    const info = host.model("chat");
    const model = host.shownName(info);
    // No messages: Ollama loads the model and answers at once (clients use it to warm a model up).
    if (!body.messages?.length) {
      return { model, created_at: now(), message: { role: "assistant", content: "" }, done: true, done_reason: "load" };
    }
    const { system, messages } = chatMessages(openAiMessages(body.messages));
    const plan = body.tools?.length ? chatTools(body.tools, "auto") : undefined;
    const responseSchema = formatSchema(body.format);
    if (plan && responseSchema) throw badRequest("Give 'tools' or a JSON 'format', not both.", "format");
    const request: ChatRequest = {
      system,
      messages,
      ...sampling(body.options, host.options.defaultMaxTokens),
      ...(responseSchema ? { responseSchema } : {}),
      ...(plan ? { tools: plan } : {}),
    };
    const stream = body.stream !== false ? host.openStream(reply, "ndjson") : undefined;
    let answer: ChatAnswer | undefined;
    try {
      answer = await host.runChat(reply, request, (d) =>
        stream?.event({
          model,
          created_at: now(),
          message: { role: "assistant", content: d.content ?? "", ...(d.reasoning ? { thinking: d.reasoning } : {}) },
          done: false,
        }),
      );
    } catch (error) {
      if (stream && error instanceof ApiError) return stream.fail(error);
      throw error;
    }
    if (!answer) return reply;
    const toolCalls = answer.toolCalls.map((c, index) => ({
      ...(c.id ? { id: c.id } : {}),
      function: { index, name: c.name, arguments: parseArguments(c.arguments) },
    }));
    const message = {
      role: "assistant",
      content: stream ? "" : answer.text,
      ...(!stream && answer.reasoning ? { thinking: answer.reasoning } : {}),
      ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
    };
    const last = {
      model,
      created_at: now(),
      message,
      done: true,
      done_reason: answer.finish === "length" ? "length" : "stop",
      ...durations(answer.result.usage, answer.result.timings),
    };
    if (!stream) return last;
    stream.event(last);
    return stream.end(false);
  });

  app.post("/api/generate", { schema: { body: schemas.ollamaGenerate } }, async (req, reply) => {
    const body = req.body as schemas.OllamaGenerateBody;
    if (body.images?.length) throw badRequest("Images are not served: Hearth's models here are text only.", "images");
    if (body.template) {
      throw badRequest(
        "A custom 'template' is not served: send the templated prompt with 'raw': true, or the plain prompt without it.",
        "template",
      );
    }
    const fim = body.suffix !== undefined && body.suffix !== "";
    const role = generateRole(host, body.model, fim || body.raw === true);
    const info = host.model(role);
    const model = host.shownName(info);
    if (!body.prompt && !fim) {
      return { model, created_at: now(), response: "", done: true, done_reason: "load" };
    }
    const prompt = body.prompt ?? "";
    const { params, stops } = sampling(body.options, host.options.defaultMaxTokens);
    const stream = body.stream !== false ? host.openStream(reply, "ndjson") : undefined;
    const piece = (response: string) => stream?.event({ model, created_at: now(), response, done: false });
    const finish = (text: string, doneReason: string, extra: Record<string, number>): unknown => {
      const last = {
        model,
        created_at: now(),
        response: stream ? "" : text,
        done: true,
        done_reason: doneReason,
        ...extra,
      };
      if (!stream) return last;
      stream.event(last);
      return stream.end(false);
    };
    try {
      if (role === "chat") {
        if (fim || body.raw) throw badRequest("FIM and raw prompts need the completion model (--completion-model).");
        const responseSchema = formatSchema(body.format);
        const answer = await host.runChat(
          reply,
          {
            system: body.system ?? "",
            messages: [{ role: "user", content: prompt }],
            params,
            stops,
            ...(responseSchema ? { responseSchema } : {}),
          },
          (d) => d.content && piece(d.content),
        );
        if (!answer) return reply;
        return finish(
          answer.text,
          answer.finish === "length" ? "length" : "stop",
          durations(answer.result.usage, answer.result.timings),
        );
      }
      if (formatSchema(body.format)) {
        throw badRequest("'format' needs the chat model: the completion model continues text as it is.", "format");
      }
      if (fim) {
        const result = await host.fim(reply, {
          // Ollama's `system` has no place in a FIM prompt: it goes before the prefix, as context.
          prefix: body.system ? `${body.system}\n${prompt}` : prompt,
          suffix: body.suffix!,
          maxTokens: params.maxTokens ?? 128,
        });
        if (!result) return reply;
        const at = firstStop(result.text, stops, 0);
        const text = at === undefined ? result.text : result.text.slice(0, at);
        if (text) piece(text);
        const limited = at === undefined && (result.stopReason === "maxTokens" || result.stopReason === "timeBudget");
        return finish(text, limited ? "length" : "stop", durations(result.usage, result.timings));
      }
      const result = await host.continue(
        reply,
        strip({
          prompt: body.system ? `${body.system}\n${prompt}` : prompt,
          maxTokens: params.maxTokens,
          temperature: params.temperature,
          topP: params.topP,
          topK: params.topK,
          seed: params.seed,
          ...(stops.length ? { stop: stops } : {}),
        }),
        (text) => piece(text),
      );
      if (!result) return reply;
      return finish(
        result.text,
        result.stopReason === "maxTokens" ? "length" : "stop",
        durations(result.usage, result.timings),
      );
    } catch (error) {
      if (stream && error instanceof ApiError) return stream.fail(error);
      throw error;
    }
  });

  app.post("/api/embed", { schema: { body: schemas.ollamaEmbed } }, async (req, reply) => {
    const body = req.body as schemas.OllamaEmbedBody;
    const info = host.model("embedding");
    const texts = typeof body.input === "string" ? [body.input] : body.input;
    const t0 = performance.now();
    const result = texts.length ? await host.embed(reply, texts) : { vectors: [], tokens: 0, dimensions: 0 };
    const dimensions = body.dimensions;
    if (dimensions !== undefined && result.vectors.length && dimensions > result.dimensions) {
      throw badRequest(
        `The model's vectors have ${result.dimensions} dimensions, fewer than ${dimensions}.`,
        "dimensions",
      );
    }
    return {
      model: host.shownName(info),
      // Fewer dimensions: the first ones, normalised again (Matryoshka truncation, as Ollama does).
      embeddings: dimensions
        ? result.vectors.map((v) => Array.from(l2Normalize(Float32Array.from(v.slice(0, dimensions)))))
        : result.vectors,
      total_duration: Math.round((performance.now() - t0) * 1e6),
      load_duration: 0,
      prompt_eval_count: result.tokens,
    };
  });

  app.post("/api/embeddings", { schema: { body: schemas.ollamaEmbeddings } }, async (req, reply) => {
    const body = req.body as { prompt: string };
    host.model("embedding");
    if (!body.prompt) return { embedding: [] };
    const result = await host.embed(reply, [body.prompt]);
    return { embedding: result.vectors[0] };
  });
}

/** The served models an Ollama client sees, chat first. */
function served(host: OllamaHost): Array<{ role: ModelRole; info: ModelInfo }> {
  const models = host.options.models();
  return OLLAMA_ROLES.flatMap((role) => (models[role] ? [{ role, info: models[role] }] : []));
}

/** Whether a client's model name names `listed` (Ollama's clients add `:latest` to a name without a tag). */
function sameName(given: string, listed: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/:latest$/, "");
  return norm(given) === norm(listed);
}

/**
 * Which role answers `/api/generate`: the named model's when it is the chat or completion model; else the
 * completion model for FIM and raw prompts, the chat model for a prompt to answer (each falling back to the other
 * when only one is loaded).
 */
function generateRole(host: OllamaHost, name: string | undefined, textOnly: boolean): ModelRole {
  const models = host.options.models();
  if (name) {
    for (const role of ["chat", "completion"] as const) {
      const info = models[role];
      if (info && sameName(name, host.shownName(info)))
        return textOnly && role === "chat" && models.completion ? "completion" : role;
    }
  }
  if (textOnly) return models.completion || !models.chat ? "completion" : "chat";
  return models.chat || !models.completion ? "chat" : "completion";
}

/** Ollama's messages in OpenAI's shape (tool-call arguments as JSON text), for the shared `chatMessages`. */
function openAiMessages(messages: NonNullable<schemas.OllamaChatBody["messages"]>): schemas.ChatBody["messages"] {
  return messages.map((m, i) => {
    if (m.images?.length)
      throw badRequest("Images are not served: Hearth's models here are text only.", `messages[${i}].images`);
    return {
      role: m.role,
      content: m.content ?? "",
      ...(m.tool_calls?.length
        ? {
            tool_calls: m.tool_calls.map((c) => ({
              function: {
                name: c.function?.name ?? "",
                arguments:
                  typeof c.function?.arguments === "string"
                    ? c.function.arguments
                    : JSON.stringify(c.function?.arguments ?? {}),
              },
            })),
          }
        : {}),
      ...(m.tool_name ? { name: m.tool_name } : {}),
    };
  });
}

/**
 * Ollama's `options` as Hearth's sampling parameters and stop strings (num_predict absent or ≤ 0: the server's
 * `defaultMaxTokens`, else Hearth's default limit).
 */
function sampling(
  options: schemas.OllamaOptions | undefined,
  defaultMaxTokens: number | undefined,
): Pick<ChatRequest, "params" | "stops"> {
  const o = options ?? {};
  return {
    params: strip({
      maxTokens: o.num_predict !== undefined && o.num_predict > 0 ? o.num_predict : defaultMaxTokens,
      temperature: o.temperature,
      topP: o.top_p,
      topK: o.top_k,
      seed: o.seed !== undefined && o.seed >= 0 ? o.seed : undefined,
    }),
    stops: stopList(o.stop),
  };
}

/**
 * Ollama's `format` as a JSON schema: "json" is any object (under a grammar, as Ollama does), an object is the
 * schema itself (checked against the shared bounds); "" or absent is text.
 * @throws ApiError 400 naming `format` for a schema over the bounds.
 */
function formatSchema(format: string | object | undefined): object | undefined {
  if (format === undefined || format === "") return undefined;
  if (format === "json") return { type: "object", additionalProperties: true };
  checkClientField(() => checkJsonSchema(format, "format"));
  return format as object;
}

/** Ollama's timing fields (nanoseconds) from Hearth's usage and timings (ms). */
function durations(
  usage: { promptTokens: number; completionTokens: number },
  timings: { totalMs: number; ttftMs: number },
): Record<string, number> {
  const ns = (ms: number) => Math.round(ms * 1e6);
  return {
    total_duration: ns(timings.totalMs),
    load_duration: 0,
    prompt_eval_count: usage.promptTokens,
    prompt_eval_duration: ns(timings.ttftMs),
    eval_count: usage.completionTokens,
    eval_duration: ns(Math.max(0, timings.totalMs - timings.ttftMs)),
  };
}

/** A tool call's arguments as the object Ollama sends (the JSON text parsed; `{}` when it is not an object). */
function parseArguments(text: string): object {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

function details(info: ModelInfo) {
  const family = info.architecture || "unknown";
  return strip({
    parent_model: "",
    format: "gguf",
    family,
    families: [family],
    parameter_size: "",
    quantization_level: "",
    context_length: info.contextSize,
    embedding_length: info.embeddingDimensions,
  });
}

/** Ollama's capability names for what Hearth serves with this model. */
function capabilities(info: ModelInfo): string[] {
  if (info.role === "embedding") return ["embedding"];
  if (info.role === "completion") return info.infillSupported ? ["completion", "insert"] : ["completion"];
  // Every chat model takes tools here: natively, or under a grammar built from their schemas.
  return ["completion", "tools"];
}

/** A stable digest for a served model (Ollama's is its manifest's; here the role and file). */
function digest(info: ModelInfo): string {
  return createHash("sha256").update(`${info.role}\0${info.path}`).digest("hex");
}

function now(): string {
  return new Date().toISOString();
}
