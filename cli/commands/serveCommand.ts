import type { ModelRoleSpec } from "../../common/models/ModelRoles";
import type { ModelRole } from "../../shared/protocol";
import { settingDefault } from "../../shared/settings";
import { defineCommand } from "../command";
import { ENGINE_OPTIONS, MODEL_OPTIONS, num, RUNTIME_OPTIONS, SEARCH_MODEL_OPTIONS, UsageError } from "../options";
import { runServe } from "../serve";
import { CliSession } from "../session";

/** `hearth serve`: the loaded models over HTTP for other tools. */
export const serveCommand = defineCommand({
  name: "serve",
  modelRole: "chat",
  usage: `[--model <chat.gguf>] [--completion-model <fim.gguf>] [--embedding-model <m>] [--rerank-model <m>]
[--host 127.0.0.1] [--port ${settingDefault("server.port")}] [--api-key-env VAR] [--max-queue ${settingDefault("server.maxQueue")}] [--cors <origin>] [--log-json]`,
  summary: "serve the loaded models over HTTP (OpenAI-, llama.cpp- and Ollama-compatible routes)",
  description: `Serve the loaded models over HTTP until Ctrl-C: OpenAI-compatible (/v1/models, /v1/chat/completions,
/v1/completions with suffix = FIM, /v1/embeddings, /v1/rerank), llama.cpp-compatible (/infill, /completion,
/props, /tokenize, /detokenize, /health) and Ollama-compatible (/api/tags, /api/chat, /api/generate, /api/embed,
…), plus /metrics. Loopback only unless --api-key-env names the variable holding a key clients must send as
'Authorization: Bearer <key>'.`,
  options: {
    ...MODEL_OPTIONS,
    "completion-model": {
      type: "string",
      arg: "<fim.gguf>",
      help: "the FIM model of /infill and /v1/completions' suffix",
    },
    ...SEARCH_MODEL_OPTIONS,
    host: { type: "string", arg: "<addr>", help: "address to listen on (default 127.0.0.1)" },
    port: { type: "string", arg: "<n>", help: `port to listen on (default ${settingDefault("server.port")})` },
    "api-key-env": {
      type: "string",
      arg: "<VAR>",
      help: "environment variable holding the key clients must send (required off loopback)",
    },
    "max-queue": {
      type: "string",
      arg: "<n>",
      help: `requests waiting or running per model before 429 (default ${settingDefault("server.maxQueue")})`,
    },
    cors: { type: "string", arg: "<origin>", help: "an origin browsers may call from" },
    "trim-history": {
      type: "boolean",
      help: "leave the oldest turns out of a chat over the context window (default: 400 with the counts, as llama-server)",
    },
    "n-predict": {
      type: "string",
      arg: "<n>",
      help: "tokens a request generates at most when it sets no limit of its own (llama-server's -n)",
    },
    alias: {
      type: "string",
      arg: "<name>",
      help: "the name the chat model is listed and answered under (any requested name is served)",
    },
    "log-json": { type: "boolean", help: "one JSON log line per request on stderr" },
    ...ENGINE_OPTIONS,
    ...RUNTIME_OPTIONS,
  },
  maxPositionals: 0,
  async run(values) {
    const apiKeyEnv = values["api-key-env"];
    const serveKey = apiKeyEnv ? process.env[apiKeyEnv] : undefined;
    if (apiKeyEnv && !serveKey)
      throw new UsageError(`--api-key-env ${apiKeyEnv}: that environment variable is empty or not set`);
    const port = num(values.port, "port", true) ?? settingDefault("server.port");
    const maxQueue = num(values["max-queue"], "max-queue", true) ?? settingDefault("server.maxQueue");
    const defaultMaxTokens = num(values["n-predict"], "n-predict", true);
    const session = new CliSession(values, { oneShot: true });
    const engineUrl = values["engine-url"];
    const contextSize = session.contextSize;
    const wanted: Array<[ModelRole, ModelRoleSpec]> = [];
    if (values.model || engineUrl) {
      wanted.push([
        "chat",
        { model: session.modelSpec(values.model, engineUrl), ...(contextSize ? { contextSize } : {}) },
      ]);
    }
    if (values["completion-model"]) {
      wanted.push([
        "completion",
        {
          model: session.modelSpec(values["completion-model"], undefined),
          contextSize: contextSize ?? settingDefault("completion.contextSize"),
        },
      ]);
    }
    wanted.push(...session.searchRoles());
    if (!wanted.length)
      throw new UsageError(
        "serve needs at least one model: --model <chat.gguf>, --completion-model, --embedding-model or --rerank-model",
      );
    return session.run(async () => {
      await session.sidecar.start();
      return await runServe(session.sidecar, session.roles, {
        host: values.host ?? "127.0.0.1",
        port,
        ...(serveKey ? { apiKey: serveKey } : {}),
        ...(values.cors ? { cors: values.cors } : {}),
        ...(values.alias ? { alias: values.alias } : {}),
        ...(values["trim-history"] ? { trimHistory: true } : {}),
        ...(defaultMaxTokens !== undefined && defaultMaxTokens > 0 ? { defaultMaxTokens } : {}),
        maxQueue,
        logJson: values["log-json"] ?? false,
        roles: wanted,
      });
    });
  },
});
