import {
  ENGINE_KINDS,
  ErrorCodes,
  FUSION_METHODS,
  GPU_SETTINGS,
  MAX_CHAT_TOOLS,
  MAX_EMBED_TEXTS,
  MODEL_ROLES,
  SEARCH_MODES,
  type EngineKind,
  type EngineModelsParams,
  type EngineSpec,
  type FusionMethod,
} from "./protocol";
import type {
  IndexBuildParams,
  IndexDiscoveryOptions,
  IndexDropParams,
  IndexSearchParams,
  IndexTarget,
  IndexUpdateParams,
  SearchMode,
  ChatMessage,
  ChatTool,
  EmbedParams,
  RerankParams,
  TokenizeParams,
  ChatSendParams,
  GenerationParams,
  GpuSetting,
  InfillParams,
  ModelListParams,
  ModelLoadParams,
  ModelRole,
  ModelSpec,
  RuntimeConfigureParams,
} from "./protocol";
import { HearthError } from "./errors";

/*
 * Runtime guards for every request the sidecar accepts. JSON-RPC gives us `unknown`; a malformed message must
 * produce an InvalidParams error that names the field, never a crash deep inside llama.cpp.
 */

function fail(field: string, expected: string): never {
  throw new HearthError(ErrorCodes.InvalidParams, `Invalid params: '${field}' must be ${expected}.`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalNumber(obj: Record<string, unknown>, key: string, field: string, min: number, max: number) {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) fail(field, `a number in [${min}, ${max}]`);
  return v;
}

function requireString(obj: Record<string, unknown>, key: string, field: string): string {
  const v = obj[key];
  if (typeof v !== "string" || v.length === 0) fail(field, "a non-empty string");
  return v;
}

function parseRole(value: unknown): ModelRole {
  if (!MODEL_ROLES.includes(value as ModelRole)) fail("role", `one of ${MODEL_ROLES.join(", ")}`);
  return value as ModelRole;
}

/** Checks a {@link ModelSpec}. Throws HearthError(InvalidParams). */
export function parseModelSpec(value: unknown, field = "model"): ModelSpec {
  if (!isObject(value)) fail(field, "an object {uri, sha256?, engine?}");
  const engine = value["engine"] === undefined ? undefined : parseEngineSpec(value["engine"], `${field}.engine`);
  // A remote engine's only model may be asked for with an empty id.
  const uri = engine && value["uri"] === "" ? "" : requireString(value, "uri", `${field}.uri`);
  const sha = value["sha256"];
  if (sha !== undefined && (typeof sha !== "string" || !/^[0-9a-f]{64}$/i.test(sha))) {
    fail(`${field}.sha256`, "64 hex digits");
  }
  return { uri, sha256: typeof sha === "string" ? sha.toLowerCase() : undefined, ...(engine ? { engine } : {}) };
}

/** Checks a remote engine: an http(s) base URL, a known kind, a string API key. */
export function parseEngineSpec(value: unknown, field = "engine"): EngineSpec {
  if (!isObject(value)) fail(field, "an object {url, kind?, apiKey?}");
  const url = requireString(value, "url", `${field}.url`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    fail(`${field}.url`, "an http:// or https:// URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") fail(`${field}.url`, "an http:// or https:// URL");
  const kind = value["kind"];
  if (kind !== undefined && !ENGINE_KINDS.includes(kind as EngineKind)) {
    fail(`${field}.kind`, `one of ${ENGINE_KINDS.join(", ")}`);
  }
  const apiKey = value["apiKey"];
  if (apiKey !== undefined && typeof apiKey !== "string") fail(`${field}.apiKey`, "a string");
  return {
    // Without a trailing slash or a trailing /v1: paths are appended to it.
    url: url.replace(/\/+$/, "").replace(/\/v1$/, ""),
    ...(kind ? { kind: kind as EngineKind } : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

/** Checks `model/load` params. Throws HearthError(InvalidParams). */
export function parseModelLoadParams(value: unknown): ModelLoadParams {
  if (!isObject(value)) fail("params", "an object");
  const progressId = value["progressId"];
  if (progressId !== undefined && typeof progressId !== "string") fail("progressId", "a string");
  return {
    role: parseRole(value["role"]),
    model: parseModelSpec(value["model"]),
    contextSize: optionalNumber(value, "contextSize", "contextSize", 16, 1 << 20),
    progressId,
    batchSize: optionalNumber(value, "batchSize", "batchSize", 1, 1 << 16),
    prefixes: parsePrefixes(value["prefixes"]),
  };
}

function parsePrefixes(value: unknown): ModelLoadParams["prefixes"] {
  if (value === undefined) return undefined;
  if (!isObject(value)) fail("prefixes", "an object {query?, document?}");
  for (const k of ["query", "document"] as const) {
    if (value[k] !== undefined && typeof value[k] !== "string") fail(`prefixes.${k}`, "a string");
  }
  return { query: value["query"] as string | undefined, document: value["document"] as string | undefined };
}

/** Checks `model/unload` params. */
export function parseModelUnloadParams(value: unknown): { role: ModelRole } {
  if (!isObject(value)) fail("params", "an object");
  return { role: parseRole(value["role"]) };
}

/** Checks `model/list` params. */
export function parseModelListParams(value: unknown): ModelListParams {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) fail("params", "an object");
  const folders = value["folders"];
  if (folders !== undefined && (!Array.isArray(folders) || folders.some((f) => typeof f !== "string"))) {
    fail("folders", "an array of strings");
  }
  const home = value["home"];
  if (home !== undefined && typeof home !== "string") fail("home", "a string");
  return { folders: folders as string[] | undefined, home };
}

/** Checks generation params; every field optional. */
export function parseGenerationParams(value: unknown): GenerationParams {
  if (value === undefined) return {};
  if (!isObject(value)) fail("params", "an object");
  return {
    temperature: optionalNumber(value, "temperature", "params.temperature", 0, 5),
    topP: optionalNumber(value, "topP", "params.topP", 0, 1),
    topK: optionalNumber(value, "topK", "params.topK", 0, 100_000),
    maxTokens: optionalNumber(value, "maxTokens", "params.maxTokens", 1, 1 << 20),
    seed: optionalNumber(value, "seed", "params.seed", 0, Number.MAX_SAFE_INTEGER),
  };
}

/** Checks `chat/send` params: a streamId, a non-empty message list ending with the user's turn. */
export function parseChatSendParams(value: unknown): ChatSendParams {
  if (!isObject(value)) fail("params", "an object");
  const streamId = requireString(value, "streamId", "streamId");
  const messages = value["messages"];
  if (!Array.isArray(messages) || messages.length === 0) fail("messages", "a non-empty array");
  const parsed: ChatMessage[] = messages.map((m, i) => {
    if (!isObject(m) || (m["role"] !== "user" && m["role"] !== "assistant") || typeof m["content"] !== "string") {
      fail(`messages[${i}]`, "{role: 'user'|'assistant', content: string}");
    }
    return { role: m["role"], content: m["content"] };
  });
  if (parsed[parsed.length - 1]?.role !== "user") fail("messages", "a list whose last message is the user's");
  if (parsed.length > MAX_CHAT_MESSAGES) fail("messages", `at most ${MAX_CHAT_MESSAGES.toLocaleString("en")} messages`);
  const system = value["system"];
  if (system !== undefined && typeof system !== "string") fail("system", "a string");
  const chars = parsed.reduce((n, m) => n + m.content.length, system?.length ?? 0);
  if (chars > MAX_CHAT_CHARS) {
    fail(
      "messages",
      `at most ${MAX_CHAT_CHARS.toLocaleString("en")} characters with the system prompt, not ${chars.toLocaleString("en")}`,
    );
  }
  const responseSchema = value["responseSchema"];
  if (responseSchema !== undefined) checkJsonSchema(responseSchema, "responseSchema");
  const tools = value["tools"];
  if (tools !== undefined) {
    if (!Array.isArray(tools) || tools.length > MAX_CHAT_TOOLS) fail("tools", `an array of at most ${MAX_CHAT_TOOLS}`);
    tools.forEach((t, i) => {
      if (!isObject(t) || typeof t["name"] !== "string" || !t["name"]) fail(`tools[${i}].name`, "a non-empty string");
      if (t["description"] !== undefined && typeof t["description"] !== "string")
        fail(`tools[${i}].description`, "a string");
      if (!isObject(t["parameters"])) fail(`tools[${i}].parameters`, "a JSON schema object");
    });
  }
  const toolChoice = value["toolChoice"];
  if (toolChoice !== undefined && toolChoice !== "auto" && toolChoice !== "required")
    fail("toolChoice", "'auto' or 'required'");
  return {
    streamId,
    messages: parsed,
    system,
    params: parseGenerationParams(value["params"]),
    ...(responseSchema ? { responseSchema } : {}),
    ...(tools ? { tools: tools as ChatTool[] } : {}),
    ...(toolChoice ? { toolChoice } : {}),
  };
}

/**
 * Bounds of a `chat/send` request, checked before anything is tokenised: far more than any context window holds
 * (what does not fit is dropped oldest first, or refused as PromptTooLong), small enough that reading it stays
 * cheap.
 */
export const MAX_CHAT_CHARS = 16 * 1024 * 1024;
export const MAX_CHAT_MESSAGES = 100_000;

/** Checks `runtime/configure` params. */
export function parseRuntimeConfigureParams(value: unknown): RuntimeConfigureParams {
  if (!isObject(value)) fail("params", "an object");
  const gpu = value["gpu"];
  if (gpu !== undefined && !GPU_SETTINGS.includes(gpu as GpuSetting)) fail("gpu", `one of ${GPU_SETTINGS.join(", ")}`);
  return { gpu: gpu as GpuSetting | undefined, threads: optionalNumber(value, "threads", "threads", 0, 1024) };
}

/** Checks `completion/infill` params. */
export function parseInfillParams(value: unknown): InfillParams {
  if (!isObject(value)) fail("params", "an object");
  if (typeof value["prefix"] !== "string") fail("prefix", "a string");
  if (typeof value["suffix"] !== "string") fail("suffix", "a string");
  if (value["singleLine"] !== undefined && typeof value["singleLine"] !== "boolean") fail("singleLine", "a boolean");
  if (value["context"] !== undefined && typeof value["context"] !== "string") fail("context", "a string");
  if (value["language"] !== undefined && typeof value["language"] !== "string") fail("language", "a string");
  return {
    prefix: value["prefix"],
    suffix: value["suffix"],
    prefixTokens: optionalNumber(value, "prefixTokens", "prefixTokens", 1, 1 << 20),
    suffixTokens: optionalNumber(value, "suffixTokens", "suffixTokens", 0, 1 << 20),
    maxTokens: optionalNumber(value, "maxTokens", "maxTokens", 1, 4096),
    singleLine: value["singleLine"] as boolean | undefined,
    timeBudgetMs: optionalNumber(value, "timeBudgetMs", "timeBudgetMs", 1, 600_000),
    context: value["context"] as string | undefined,
    contextTokens: optionalNumber(value, "contextTokens", "contextTokens", 0, 1 << 20),
    language: value["language"] as string | undefined,
  };
}

function optionalStrings(obj: Record<string, unknown>, key: string): string[] | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) fail(key, "an array of strings");
  return v as string[];
}

/** Checks the {@link IndexTarget} part of every `index/*` request. Throws HearthError(InvalidParams). */
export function parseIndexTarget(value: unknown): IndexTarget {
  if (!isObject(value)) fail("params", "an object");
  return { root: requireString(value, "root", "root"), storageDir: requireString(value, "storageDir", "storageDir") };
}

function parseDiscovery(value: Record<string, unknown>): IndexDiscoveryOptions {
  return {
    exclude: optionalStrings(value, "exclude"),
    maxFileBytes: optionalNumber(value, "maxFileBytes", "maxFileBytes", 1, 1 << 30),
    chunkTokens: optionalNumber(value, "chunkTokens", "chunkTokens", 16, 8192),
    overlapTokens: optionalNumber(value, "overlapTokens", "overlapTokens", 0, 4096),
    batchSize: optionalNumber(value, "batchSize", "batchSize", 1, 4096),
  };
}

/** Checks `index/build` params. */
export function parseIndexBuildParams(value: unknown): IndexBuildParams {
  const target = parseIndexTarget(value);
  const v = value as Record<string, unknown>;
  if (v["progressId"] !== undefined && typeof v["progressId"] !== "string") fail("progressId", "a string");
  if (v["force"] !== undefined && typeof v["force"] !== "boolean") fail("force", "a boolean");
  return {
    ...target,
    ...parseDiscovery(v),
    progressId: v["progressId"] as string | undefined,
    force: v["force"] as boolean | undefined,
  };
}

/** Checks `index/update` params. */
export function parseIndexUpdateParams(value: unknown): IndexUpdateParams {
  const target = parseIndexTarget(value);
  const v = value as Record<string, unknown>;
  return {
    ...target,
    ...parseDiscovery(v),
    changed: optionalStrings(v, "changed"),
    deleted: optionalStrings(v, "deleted"),
  };
}

/** The longest `index/search` query, in UTF-16 code units. */
export const MAX_QUERY_CHARS = 8_192;

/** Checks `index/search` params. Throws HearthError(InvalidParams) naming the field. */
export function parseIndexSearchParams(value: unknown): IndexSearchParams {
  const target = parseIndexTarget(value);
  const v = value as Record<string, unknown>;
  if (typeof v["query"] !== "string") fail("query", "a string");
  // An empty query has nothing to match (LanceDB answered it with a raw error in vector and hybrid modes); a
  // huge one is no search a person typed.
  if (!v["query"].trim()) fail("query", "a non-empty string: type what to search for");
  if (v["query"].length > MAX_QUERY_CHARS) fail("query", `at most ${MAX_QUERY_CHARS} characters`);
  if (v["mode"] !== undefined && !SEARCH_MODES.includes(v["mode"] as SearchMode))
    fail("mode", `one of ${SEARCH_MODES.join(", ")}`);
  if (v["rerank"] !== undefined && typeof v["rerank"] !== "boolean") fail("rerank", "a boolean");
  if (v["fusion"] !== undefined && !FUSION_METHODS.includes(v["fusion"] as FusionMethod))
    fail("fusion", `one of ${FUSION_METHODS.join(", ")}`);
  return {
    ...target,
    query: v["query"],
    mode: v["mode"] as SearchMode | undefined,
    rerank: v["rerank"] as boolean | undefined,
    topK: optionalNumber(v, "topK", "topK", 1, 1000),
    rerankTopN: optionalNumber(v, "rerankTopN", "rerankTopN", 1, 200),
    candidates: optionalNumber(v, "candidates", "candidates", 1, 1000),
    fusion: v["fusion"] as FusionMethod | undefined,
    vectorWeight: optionalNumber(v, "vectorWeight", "vectorWeight", 0, 100),
    rerankWeight: optionalNumber(v, "rerankWeight", "rerankWeight", 0, 1),
    rerankBudgetMs: optionalNumber(v, "rerankBudgetMs", "rerankBudgetMs", 0, 600_000),
  };
}

/** Checks `index/drop` params. */
export function parseIndexDropParams(value: unknown): IndexDropParams {
  const target = parseIndexTarget(value);
  const which = (value as Record<string, unknown>)["which"];
  if (which !== "stale" && which !== "all") fail("which", "'stale' or 'all'");
  return { ...target, which };
}

const SCHEMA_TYPES = ["object", "array", "string", "number", "integer", "boolean", "null"];

/**
 * Checks that a value is a JSON schema node-llama-cpp's grammar can express: `type` among
 * {@link SCHEMA_TYPES} (or a list of them), or `enum` / `const` / `oneOf`; `properties` and `items` checked
 * recursively. Throws HearthError(InvalidParams) naming the path of the bad node.
 */
export function checkJsonSchema(schema: unknown, field: string): void {
  if (!isObject(schema)) fail(field, "a JSON schema object");
  if ("const" in schema || "enum" in schema) return;
  if (Array.isArray(schema["oneOf"])) {
    schema["oneOf"].forEach((s, i) => checkJsonSchema(s, `${field}.oneOf[${i}]`));
    return;
  }
  const types = Array.isArray(schema["type"]) ? schema["type"] : [schema["type"]];
  if (types.length === 0 || types.some((t) => typeof t !== "string" || !SCHEMA_TYPES.includes(t))) {
    fail(`${field}.type`, `one of ${SCHEMA_TYPES.join(", ")} (or use enum / const / oneOf)`);
  }
  if (schema["properties"] !== undefined) {
    if (!isObject(schema["properties"])) fail(`${field}.properties`, "an object");
    for (const [k, v] of Object.entries(schema["properties"])) checkJsonSchema(v, `${field}.properties.${k}`);
  }
  if (schema["items"] !== undefined) checkJsonSchema(schema["items"], `${field}.items`);
}

/** Checks `engine/models` params. */
export function parseEngineModelsParams(value: unknown): EngineModelsParams {
  if (!isObject(value)) fail("params", "an object {engine}");
  return { engine: parseEngineSpec(value["engine"]) };
}

/** The most characters one `embedding/embed` or `rerank/score` request may carry in all. */
export const MAX_EMBED_CHARS = 16 * 1024 * 1024;

/** A list of 1 to {@link MAX_EMBED_TEXTS} strings, {@link MAX_EMBED_CHARS} in all (with `extra` characters). */
function parseTexts(value: unknown, field: string, extra = 0): string[] {
  if (!Array.isArray(value) || value.length === 0) fail(field, "a non-empty array of strings");
  if (value.length > MAX_EMBED_TEXTS) fail(field, `at most ${MAX_EMBED_TEXTS} items, not ${value.length}`);
  let chars = extra;
  value.forEach((t, i) => {
    if (typeof t !== "string") fail(`${field}[${i}]`, "a string");
    chars += t.length;
  });
  if (chars > MAX_EMBED_CHARS) fail(field, `at most ${MAX_EMBED_CHARS.toLocaleString("en")} characters in all`);
  return value as string[];
}

/** Checks `embedding/embed` params. Throws HearthError(InvalidParams) naming the field. */
export function parseEmbedParams(value: unknown): EmbedParams {
  if (!isObject(value)) fail("params", "an object");
  const texts = parseTexts(value["texts"], "texts");
  if (value["kind"] !== undefined && value["kind"] !== "query" && value["kind"] !== "document") {
    fail("kind", "'query' or 'document'");
  }
  return { texts, kind: value["kind"] as EmbedParams["kind"] };
}

/** Checks `rerank/score` params. Throws HearthError(InvalidParams) naming the field. */
export function parseRerankParams(value: unknown): RerankParams {
  if (!isObject(value)) fail("params", "an object");
  const query = requireString(value, "query", "query");
  if (!query.trim()) fail("query", "a non-empty string");
  return { query, documents: parseTexts(value["documents"], "documents", query.length) };
}

/** The longest text `model/tokenize` takes, in UTF-16 code units. */
export const MAX_TOKENIZE_CHARS = 4 * 1024 * 1024;

/** Checks `model/tokenize` params. Throws HearthError(InvalidParams) naming the field. */
export function parseTokenizeParams(value: unknown): TokenizeParams {
  if (!isObject(value)) fail("params", "an object");
  const role = parseRole(value["role"]);
  const text = requireString(value, "text", "text");
  if (text.length > MAX_TOKENIZE_CHARS) fail("text", `at most ${MAX_TOKENIZE_CHARS.toLocaleString("en")} characters`);
  if (value["special"] !== undefined && typeof value["special"] !== "boolean") fail("special", "a boolean");
  return { role, text, special: value["special"] as boolean | undefined };
}
