/*
 * Runtime guards for every request the sidecar accepts. JSON-RPC gives us `unknown`; a malformed message must
 * produce an InvalidParams error that names the field, never a crash deep inside llama.cpp.
 *
 * One vocabulary: each method's params are a JSON Schema checked by ajv (the validator that also serves fastify,
 * the agent, the tools and node-llama-cpp's grammars). Each schema node says in words what its value must be
 * (the `expected` annotation, a string or one per failing keyword), so an error reads
 * `Invalid params: 'params.temperature' must be a number in [0, 5].` What JSON Schema does not express (a total
 * size over several fields, a URL's scheme, the last message's role) is checked in code after the schema, in the
 * same words.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import {
  ENGINE_KINDS,
  ErrorCodes,
  FUSION_METHODS,
  GPU_SETTINGS,
  MAX_CHAT_TOOLS,
  MAX_DETOKENIZE_TOKENS,
  MAX_DISCOVER_PORTS,
  MAX_EMBED_TEXTS,
  MODEL_ROLES,
  NES_FORMATS,
  SEARCH_MODES,
  type ChatSendParams,
  type ChatTool,
  type CompleteParams,
  type EmbedParams,
  type EngineDiscoverParams,
  type EngineKind,
  type EngineModelsParams,
  type EngineSpec,
  type GenerationParams,
  type IndexBuildParams,
  type IndexDropParams,
  type IndexSearchParams,
  type IndexTarget,
  type IndexUpdateParams,
  type InfillParams,
  type ModelDownloadParams,
  type ModelListParams,
  type SetupPlanParams,
  type ModelLoadParams,
  type ModelRole,
  type ModelSpec,
  type NesPredictParams,
  type RerankParams,
  type RuntimeConfigureParams,
  type TokenizeParams,
  type DetokenizeParams,
} from "./protocol";
import { HearthError } from "./errors";

/**
 * Bounds of a `chat/send` request, checked before anything is tokenised: far more than any context window holds
 * (what does not fit is dropped oldest first, or refused as PromptTooLong), small enough that reading it stays
 * cheap.
 */
export const MAX_CHAT_CHARS = 16 * 1024 * 1024;
export const MAX_CHAT_MESSAGES = 100_000;
/** The longest `index/search` query, in characters (Unicode code points, as JSON Schema's `maxLength` counts). */
export const MAX_QUERY_CHARS = 8_192;
/** The most characters one `embedding/embed` or `rerank/score` request may carry in all. */
export const MAX_EMBED_CHARS = 16 * 1024 * 1024;
/** The longest text `model/tokenize` takes, in characters (Unicode code points). */
export const MAX_TOKENIZE_CHARS = 4 * 1024 * 1024;

/** What a schema node's value must be, in words: one text, or one per JSON Schema keyword (`default` for the rest). */
type Expected = string | Record<string, string>;

const ajv = new Ajv({ allErrors: false, strict: false, verbose: true });
ajv.addKeyword({ keyword: "expected", schemaType: ["string", "object"] });

function fail(field: string, expected: string): never {
  throw new HearthError(ErrorCodes.InvalidParams, `Invalid params: '${field}' must be ${expected}.`, undefined, {
    field,
  });
}

/** A JSON pointer (`/messages/0/content`) as the guards name fields (`messages[0].content`). */
function fieldName(pointer: string, prefix: string | undefined): string {
  const parts = pointer
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let name = prefix ?? "";
  for (const p of parts) name += /^\d+$/.test(p) ? `[${p}]` : name ? `.${p}` : p;
  return name || "params";
}

/** The words of `expected` for `keyword`. */
function words(expected: Expected | undefined, keyword: string): string {
  if (typeof expected === "string") return expected;
  return expected?.[keyword] ?? expected?.["default"] ?? `valid (${keyword})`;
}

/** The guard's sentence for ajv's first error. */
function explain(error: ErrorObject, prefix: string | undefined): never {
  if (error.keyword === "required") {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    const property = (error.parentSchema as { properties?: Record<string, { expected?: Expected }> }).properties?.[
      missing
    ];
    fail(fieldName(`${error.instancePath}/${missing}`, prefix), words(property?.expected, "type"));
  }
  fail(
    fieldName(error.instancePath, prefix),
    words((error.parentSchema as { expected?: Expected }).expected, error.keyword),
  );
}

/**
 * A checker for `schema` (compiled on first use): returns the value typed as `T` when it is valid — an object keeps
 * only the properties its schema names (a client's extra fields go no further) — else throws.
 * Its `prefix` argument is the field name of the checked value when it is part of something larger (`params`,
 * `model.engine`).
 * @throws HearthError(InvalidParams) naming the first bad field.
 */
export function checker<T>(schema: object): (value: unknown, prefix?: string) => T {
  let validate: ValidateFunction | undefined;
  const names = Object.keys((schema as { properties?: object }).properties ?? {});
  return (value, prefix) => {
    validate ??= ajv.compile(schema);
    if (!validate(value)) explain(validate.errors![0]!, prefix);
    if (!names.length || typeof value !== "object" || value === null) return value as T;
    const given = value as Record<string, unknown>;
    return Object.fromEntries(names.filter((k) => given[k] !== undefined).map((k) => [k, given[k]])) as T;
  };
}

// Schema nodes with their words.
const object = (expected: Expected, properties: Record<string, object>, required: string[] = []) => ({
  type: "object",
  properties,
  required,
  expected,
});
const string = { type: "string", expected: "a string" };
const nonEmptyString = { type: "string", minLength: 1, expected: "a non-empty string" };
const boolean = { type: "boolean", expected: "a boolean" };
const strings = { type: "array", items: string, expected: "an array of strings" };
const number = (min: number, max: number) => ({
  type: "number",
  minimum: min,
  maximum: max,
  expected: `a number in [${min}, ${max}]`,
});
const oneOf = (values: readonly string[], expected = `one of ${values.join(", ")}`) => ({ enum: values, expected });
const role = oneOf(MODEL_ROLES);

const ENGINE_SPEC = object(
  "an object {url, kind?, apiKey?}",
  {
    url: nonEmptyString,
    kind: oneOf(ENGINE_KINDS),
    apiKey: string,
  },
  ["url"],
);

const MODEL_SPEC = object(
  "an object {uri, sha256?, engine?}",
  {
    uri: string,
    sha256: { type: "string", pattern: "^[0-9a-fA-F]{64}$", expected: "64 hex digits" },
    engine: ENGINE_SPEC,
  },
  ["uri"],
);

const GENERATION = {
  temperature: number(0, 5),
  topP: number(0, 1),
  topK: number(0, 100_000),
  maxTokens: number(1, 1 << 20),
  seed: number(0, Number.MAX_SAFE_INTEGER),
};

const INDEX_TARGET = { root: nonEmptyString, storageDir: nonEmptyString };
const DISCOVERY = {
  exclude: strings,
  maxFileBytes: number(1, 1 << 30),
  chunkTokens: number(16, 8192),
  overlapTokens: number(0, 4096),
  batchSize: number(1, 4096),
};

const texts = (what: string) => ({
  type: "array",
  minItems: 1,
  maxItems: MAX_EMBED_TEXTS,
  // An empty text has no tokens to embed or score (it gave a vector of length 0).
  items: nonEmptyString,
  expected: { default: `a non-empty array of ${what}`, maxItems: `at most ${MAX_EMBED_TEXTS} items` },
});

/** A remote engine's URL normalised: no trailing slash or `/v1` (paths are appended to it). */
function engineSpec(value: Record<string, unknown>, field: string): EngineSpec {
  const url = value["url"] as string;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== "http:" && parsed?.protocol !== "https:") fail(`${field}.url`, "an http:// or https:// URL");
  const kind = value["kind"] as EngineKind | undefined;
  const apiKey = value["apiKey"] as string | undefined;
  return {
    url: url.replace(/\/+$/, "").replace(/\/v1$/, ""),
    ...(kind ? { kind } : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

const checkEngineSpec = checker<Record<string, unknown>>(ENGINE_SPEC);
const checkModelSpec = checker<Record<string, unknown>>(MODEL_SPEC);

/** Checks a {@link ModelSpec}. Throws HearthError(InvalidParams). */
export function parseModelSpec(value: unknown, field = "model"): ModelSpec {
  const spec = checkModelSpec(value, field);
  const engine = spec["engine"] ? engineSpec(spec["engine"] as Record<string, unknown>, `${field}.engine`) : undefined;
  // A remote engine's only model may be asked for with an empty id; a local one needs a path or URI.
  if (!engine && spec["uri"] === "") fail(`${field}.uri`, "a non-empty string");
  const sha = spec["sha256"] as string | undefined;
  return { uri: spec["uri"] as string, sha256: sha?.toLowerCase(), ...(engine ? { engine } : {}) };
}

/** Checks a remote engine: an http(s) base URL, a known kind, a string API key. */
export function parseEngineSpec(value: unknown, field = "engine"): EngineSpec {
  return engineSpec(checkEngineSpec(value, field), field);
}

const checkModelLoad = checker<Record<string, unknown>>(
  object(
    "an object",
    {
      role,
      model: MODEL_SPEC,
      contextSize: number(16, 1 << 20),
      progressId: string,
      batchSize: number(1, 1 << 16),
      prefixes: object("an object {query?, document?}", { query: string, document: string }),
    },
    ["role", "model"],
  ),
);

/** Checks `model/load` params. Throws HearthError(InvalidParams). */
export function parseModelLoadParams(value: unknown): ModelLoadParams {
  const v = checkModelLoad(value);
  const prefixes = v["prefixes"] as ModelLoadParams["prefixes"];
  return {
    role: v["role"] as ModelRole,
    model: parseModelSpec(v["model"]),
    contextSize: v["contextSize"] as number | undefined,
    progressId: v["progressId"] as string | undefined,
    batchSize: v["batchSize"] as number | undefined,
    prefixes: prefixes && { query: prefixes.query, document: prefixes.document },
  };
}

const checkModelUnload = checker<{ role: ModelRole }>(object("an object", { role }, ["role"]));

/** Checks `model/unload` params. */
export function parseModelUnloadParams(value: unknown): { role: ModelRole } {
  return { role: checkModelUnload(value).role };
}

const checkModelList = checker<ModelListParams>(object("an object", { folders: strings, home: string }));

/** Checks `model/list` params. */
export function parseModelListParams(value: unknown): ModelListParams {
  if (value === undefined || value === null) return {};
  return checkModelList(value);
}

const TIB = 1024 ** 4;
const checkSetupPlan = checker<SetupPlanParams>(
  object("an object", {
    catalog: { type: "string", minLength: 1, maxLength: 4096, expected: "a catalog URL or file path" },
    ramBytes: { type: "integer", minimum: 0, maximum: 64 * TIB, expected: "a byte count (0 to 64 TiB)" },
    vramBytes: { type: "integer", minimum: 0, maximum: 64 * TIB, expected: "a byte count (0 to 64 TiB)" },
    folders: { ...strings, maxItems: 16, expected: { default: "an array of strings", maxItems: "at most 16 folders" } },
    includeLocal: boolean,
    discoverEngines: boolean,
    enginePorts: {
      type: "array",
      maxItems: MAX_DISCOVER_PORTS,
      items: { type: "integer", minimum: 1, maximum: 65535, expected: "a port number (1 to 65535)" },
      expected: { default: "an array of port numbers", maxItems: `at most ${MAX_DISCOVER_PORTS} ports` },
    },
    home: string,
    contextSizes: {
      type: "object",
      propertyNames: { enum: MODEL_ROLES },
      additionalProperties: { type: "integer", minimum: 64, maximum: 1048576 },
      expected: "an object of context windows per role (64 to 1,048,576 tokens)",
    },
  }),
);

/** Checks `setup/plan` params (all optional). */
export function parseSetupPlanParams(value: unknown): SetupPlanParams {
  if (value === undefined || value === null) return {};
  return checkSetupPlan(value);
}

const checkModelDownload = checker<ModelDownloadParams>(
  object(
    "an object {uri, sha256?, sizeBytes?, progressId?}",
    {
      uri: {
        type: "string",
        pattern: "^(hf:|huggingface:|https?://)",
        maxLength: 4096,
        expected: "an hf: URI or an http(s) URL",
      },
      sha256: { type: "string", pattern: "^[0-9a-fA-F]{64}$", expected: "64 hex digits" },
      sizeBytes: { type: "integer", minimum: 1, maximum: 64 * TIB, expected: "a byte count" },
      progressId: string,
    },
    ["uri"],
  ),
);

/** Checks `model/download` params. */
export function parseModelDownloadParams(value: unknown): ModelDownloadParams {
  const v = checkModelDownload(value);
  return v.sha256 ? { ...v, sha256: v.sha256.toLowerCase() } : v;
}

const checkGeneration = checker<GenerationParams>(object("an object", GENERATION));

/** Checks generation params; every field optional. */
export function parseGenerationParams(value: unknown): GenerationParams {
  if (value === undefined) return {};
  return checkGeneration(value, "params");
}

const checkChatSend = checker<ChatSendParams & Record<string, unknown>>(
  object(
    "an object",
    {
      streamId: nonEmptyString,
      messages: {
        type: "array",
        minItems: 1,
        maxItems: MAX_CHAT_MESSAGES,
        items: object(
          "{role: 'user'|'assistant', content: string}",
          {
            role: oneOf(["user", "assistant"], "'user' or 'assistant'"),
            content: string,
          },
          ["role", "content"],
        ),
        expected: {
          default: "a non-empty array",
          maxItems: `at most ${MAX_CHAT_MESSAGES.toLocaleString("en")} messages`,
        },
      },
      system: string,
      params: object("an object", GENERATION),
      responseSchema: { type: "object", expected: "a JSON schema object" },
      tools: {
        type: "array",
        maxItems: MAX_CHAT_TOOLS,
        items: object(
          "an object {name, description?, parameters}",
          {
            name: nonEmptyString,
            description: string,
            parameters: { type: "object", expected: "a JSON schema object" },
          },
          ["name", "parameters"],
        ),
        expected: `an array of at most ${MAX_CHAT_TOOLS}`,
      },
      contextPolicy: oneOf(["trim", "strict"], "'trim' or 'strict'"),
      draftFromPrompt: boolean,
      toolChoice: {
        anyOf: [
          { enum: ["auto", "required"] },
          { type: "object", required: ["name"], properties: { name: { type: "string", minLength: 1 } } },
        ],
        expected: "'auto', 'required' or {name}",
      },
    },
    ["streamId", "messages"],
  ),
);

/** Checks `chat/send` params: a streamId, a non-empty message list ending with the user's turn. */
export function parseChatSendParams(value: unknown): ChatSendParams {
  const v = checkChatSend(value);
  const messages = v.messages.map((m) => ({ role: m.role, content: m.content }));
  if (messages[messages.length - 1]?.role !== "user") fail("messages", "a list whose last message is the user's");
  const chars = messages.reduce((n, m) => n + m.content.length, v.system?.length ?? 0);
  if (chars > MAX_CHAT_CHARS) {
    fail(
      "messages",
      `at most ${MAX_CHAT_CHARS.toLocaleString("en")} characters with the system prompt, not ${chars.toLocaleString("en")}`,
    );
  }
  if (v.responseSchema !== undefined) checkJsonSchema(v.responseSchema, "responseSchema");
  // A tool's parameters become a grammar on the embedded engine (and are sent on to a remote one as they are):
  // the same bounds, whichever features they use.
  v.tools?.forEach((t, i) => checkSchemaBounds(t.parameters, `tools[${i}].parameters`));
  return {
    streamId: v.streamId,
    messages,
    system: v.system,
    params: parseGenerationParams(v.params),
    ...(v.responseSchema ? { responseSchema: v.responseSchema } : {}),
    ...(v.tools ? { tools: v.tools as ChatTool[] } : {}),
    ...(v.toolChoice
      ? { toolChoice: typeof v.toolChoice === "object" ? { name: v.toolChoice.name } : v.toolChoice }
      : {}),
    ...(v.contextPolicy ? { contextPolicy: v.contextPolicy } : {}),
    ...(v.draftFromPrompt ? { draftFromPrompt: true } : {}),
  };
}

const checkRuntimeConfigure = checker<RuntimeConfigureParams>(
  object("an object", { gpu: oneOf(GPU_SETTINGS), threads: number(0, 1024) }),
);

/** Checks `runtime/configure` params. */
export function parseRuntimeConfigureParams(value: unknown): RuntimeConfigureParams {
  return checkRuntimeConfigure(value);
}

const checkInfill = checker<InfillParams>(
  object(
    "an object",
    {
      prefix: string,
      suffix: string,
      prefixTokens: number(1, 1 << 20),
      suffixTokens: number(0, 1 << 20),
      maxTokens: number(1, 4096),
      singleLine: boolean,
      timeBudgetMs: number(1, 600_000),
      context: string,
      contextTokens: number(0, 1 << 20),
      language: string,
    },
    ["prefix", "suffix"],
  ),
);

const checkComplete = checker<CompleteParams>(
  object(
    "an object {prompt, maxTokens?, temperature?, topP?, topK?, seed?, stop?, streamId?}",
    {
      streamId: string,
      prompt: {
        type: "string",
        maxLength: MAX_CHAT_CHARS,
        expected: `a string of at most ${MAX_CHAT_CHARS} characters`,
      },
      maxTokens: number(1, 1 << 20),
      temperature: number(0, 2),
      topP: number(0, 1),
      topK: number(0, 1 << 20),
      seed: number(0, Number.MAX_SAFE_INTEGER),
      stop: {
        ...strings,
        maxItems: 16,
        expected: { default: "an array of strings", maxItems: "at most 16 stop strings" },
      },
    },
    ["prompt"],
  ),
);

/** Checks `completion/complete` params. */
export function parseCompleteParams(value: unknown): CompleteParams {
  return checkComplete(value);
}

/** Characters of the document one `nes/predict` request may carry (a source file; larger ones get no next edit). */
export const MAX_NES_DOCUMENT_CHARS = 1024 * 1024;
/** Recent edits one `nes/predict` request may carry, and characters of each side of one. */
export const MAX_NES_EVENTS = 32;
export const MAX_NES_EVENT_CHARS = 16 * 1024;

const boundedText = (max: number) => ({
  type: "string",
  maxLength: max,
  expected: `a string of at most ${max.toLocaleString("en")} characters`,
});

const checkNesPredict = checker<NesPredictParams>(
  object(
    "an object {path, text, line, column, history?, original?, format?, windowRadius?, maxTokens?, timeBudgetMs?, speculate?, streamId?}",
    {
      streamId: string,
      path: { ...boundedText(4096), minLength: 1 },
      text: boundedText(MAX_NES_DOCUMENT_CHARS),
      line: { type: "integer", minimum: 0, maximum: 1 << 24, expected: "a 0-based line number" },
      column: { type: "integer", minimum: 0, maximum: 1 << 24, expected: "a 0-based column" },
      history: {
        type: "array",
        maxItems: MAX_NES_EVENTS,
        items: object(
          "an object {path, original, updated, line?, at?}",
          {
            path: boundedText(4096),
            original: boundedText(MAX_NES_EVENT_CHARS),
            updated: boundedText(MAX_NES_EVENT_CHARS),
            line: { type: "integer", minimum: 0, maximum: 1 << 24, expected: "a 0-based line number" },
            at: number(0, Number.MAX_SAFE_INTEGER),
          },
          ["path", "original", "updated"],
        ),
        expected: { default: "an array of edits", maxItems: `at most ${MAX_NES_EVENTS} edits` },
      },
      original: boundedText(MAX_NES_DOCUMENT_CHARS),
      format: oneOf([...NES_FORMATS, "auto"]),
      windowRadius: { type: "integer", minimum: 1, maximum: 200, expected: "an integer in [1, 200]" },
      maxTokens: { type: "integer", minimum: 1, maximum: 8192, expected: "an integer in [1, 8192]" },
      timeBudgetMs: number(1, 120_000),
      speculate: boolean,
    },
    ["path", "text", "line", "column"],
  ),
);

/** Checks `nes/predict` params. Throws HearthError(InvalidParams) naming the field. */
export function parseNesPredictParams(value: unknown): NesPredictParams {
  return checkNesPredict(value);
}

/** Checks `completion/infill` params. */
export function parseInfillParams(value: unknown): InfillParams {
  return checkInfill(value);
}

const checkIndexTarget = checker<IndexTarget>(object("an object", INDEX_TARGET, ["root", "storageDir"]));

/** Checks the {@link IndexTarget} part of every `index/*` request. Throws HearthError(InvalidParams). */
export function parseIndexTarget(value: unknown): IndexTarget {
  return checkIndexTarget(value);
}

const checkIndexBuild = checker<IndexBuildParams>(
  object("an object", { ...INDEX_TARGET, ...DISCOVERY, progressId: string, force: boolean }, ["root", "storageDir"]),
);

/** Checks `index/build` params. */
export function parseIndexBuildParams(value: unknown): IndexBuildParams {
  return checkIndexBuild(value);
}

const checkIndexUpdate = checker<IndexUpdateParams>(
  object("an object", { ...INDEX_TARGET, ...DISCOVERY, changed: strings, deleted: strings }, ["root", "storageDir"]),
);

/** Checks `index/update` params. */
export function parseIndexUpdateParams(value: unknown): IndexUpdateParams {
  return checkIndexUpdate(value);
}

const checkIndexSearch = checker<IndexSearchParams>(
  object(
    "an object",
    {
      ...INDEX_TARGET,
      // An empty query has nothing to match (LanceDB answered it with a raw error in vector and hybrid modes); a
      // huge one is no search a person typed.
      query: {
        type: "string",
        pattern: "\\S",
        maxLength: MAX_QUERY_CHARS,
        expected: {
          type: "a string",
          pattern: "a non-empty string: type what to search for",
          maxLength: `at most ${MAX_QUERY_CHARS} characters`,
        },
      },
      mode: oneOf(SEARCH_MODES),
      rerank: boolean,
      topK: number(1, 1000),
      rerankTopN: number(1, 200),
      candidates: number(1, 1000),
      fusion: oneOf(FUSION_METHODS),
      vectorWeight: number(0, 100),
      rerankWeight: number(0, 1),
      rerankBudgetMs: number(0, 600_000),
    },
    ["root", "storageDir", "query"],
  ),
);

/** Checks `index/search` params. Throws HearthError(InvalidParams) naming the field. */
export function parseIndexSearchParams(value: unknown): IndexSearchParams {
  return checkIndexSearch(value);
}

const checkIndexDrop = checker<IndexDropParams>(
  object("an object", { ...INDEX_TARGET, which: oneOf(["stale", "all"], "'stale' or 'all'") }, [
    "root",
    "storageDir",
    "which",
  ]),
);

/** Checks `index/drop` params. */
export function parseIndexDropParams(value: unknown): IndexDropParams {
  return checkIndexDrop(value);
}

const checkEngineModels = checker<{ engine: unknown }>(
  object("an object {engine}", { engine: ENGINE_SPEC }, ["engine"]),
);

/** Checks `engine/models` params. */
export function parseEngineModelsParams(value: unknown): EngineModelsParams {
  return { engine: engineSpec(checkEngineModels(value).engine as Record<string, unknown>, "engine") };
}

const checkEngineDiscover = checker<EngineDiscoverParams>(
  object("an object", {
    ports: {
      type: "array",
      maxItems: MAX_DISCOVER_PORTS,
      items: { type: "integer", minimum: 1, maximum: 65535, expected: "a port number (1 to 65535)" },
      expected: { default: "an array of port numbers", maxItems: `at most ${MAX_DISCOVER_PORTS} ports` },
    },
  }),
);

/** Checks `engine/discover` params (none, or the ports to probe). */
export function parseEngineDiscoverParams(value: unknown): EngineDiscoverParams {
  if (value === undefined || value === null) return {};
  const v = checkEngineDiscover(value);
  return v.ports ? { ports: v.ports } : {};
}

/** `texts` of at most {@link MAX_EMBED_CHARS} characters in all (with `extra` characters). */
function capTexts(texts: string[], field: string, extra = 0): string[] {
  const chars = texts.reduce((n, t) => n + t.length, extra);
  if (chars > MAX_EMBED_CHARS) fail(field, `at most ${MAX_EMBED_CHARS.toLocaleString("en")} characters in all`);
  return texts;
}

const checkEmbed = checker<EmbedParams>(
  object(
    "an object",
    { texts: texts("strings"), kind: oneOf(["query", "document", "raw"], "'query', 'document' or 'raw'") },
    ["texts"],
  ),
);

/** Checks `embedding/embed` params. Throws HearthError(InvalidParams) naming the field. */
export function parseEmbedParams(value: unknown): EmbedParams {
  const v = checkEmbed(value);
  return { texts: capTexts(v.texts, "texts"), kind: v.kind };
}

const checkRerank = checker<RerankParams>(
  object(
    "an object",
    {
      query: { type: "string", pattern: "\\S", expected: "a non-empty string" },
      documents: texts("strings"),
    },
    ["query", "documents"],
  ),
);

/** Checks `rerank/score` params. Throws HearthError(InvalidParams) naming the field. */
export function parseRerankParams(value: unknown): RerankParams {
  const v = checkRerank(value);
  return { query: v.query, documents: capTexts(v.documents, "documents", v.query.length) };
}

const checkTokenize = checker<TokenizeParams>(
  object(
    "an object",
    {
      role,
      text: {
        type: "string",
        minLength: 1,
        maxLength: MAX_TOKENIZE_CHARS,
        expected: {
          default: "a non-empty string",
          maxLength: `at most ${MAX_TOKENIZE_CHARS.toLocaleString("en")} characters`,
        },
      },
      special: boolean,
      addBos: boolean,
      pieces: boolean,
    },
    ["role", "text"],
  ),
);

/** Checks `model/tokenize` params. Throws HearthError(InvalidParams) naming the field. */
export function parseTokenizeParams(value: unknown): TokenizeParams {
  return checkTokenize(value);
}

const checkDetokenize = checker<DetokenizeParams>(
  object(
    "an object",
    {
      role,
      tokens: {
        type: "array",
        maxItems: MAX_DETOKENIZE_TOKENS,
        items: { type: "integer", minimum: 0, maximum: 2 ** 31 - 1, expected: "a token id" },
        expected: {
          default: "an array of token ids",
          maxItems: `at most ${MAX_DETOKENIZE_TOKENS.toLocaleString("en")} token ids`,
        },
      },
    },
    ["role", "tokens"],
  ),
);

/**
 * Checks `model/detokenize` params (ids beyond the vocabulary are refused by the engine, naming the first).
 * Throws HearthError(InvalidParams) naming the field.
 */
export function parseDetokenizeParams(value: unknown): DetokenizeParams {
  return checkDetokenize(value);
}

const SCHEMA_TYPES = ["object", "array", "string", "number", "integer", "boolean", "null"];

/**
 * Bounds of a JSON schema a request carries (a response format, a tool's parameters), which the embedded engine
 * compiles into a grammar: its JSON text, its nesting and an `enum`'s values. Far above any real tool or format,
 * low enough that compiling one stays cheap and a grammar's per-token cost stays small (a 100,000-value enum cost
 * about 12 s per token).
 */
export const MAX_SCHEMA_CHARS = 64 * 1024;
export const MAX_SCHEMA_DEPTH = 32;
export const MAX_SCHEMA_ENUM = 1_000;

/**
 * Checks that a value is a JSON schema node-llama-cpp's grammar can express, within the bounds above: `type`
 * among {@link SCHEMA_TYPES} (or a list of them), or `enum` (at most {@link MAX_SCHEMA_ENUM} values) / `const` /
 * `oneOf`; `properties` and `items` checked recursively, at most {@link MAX_SCHEMA_DEPTH} deep; at most
 * {@link MAX_SCHEMA_CHARS} characters of JSON in all. (A check of a schema, not of params: it walks the schema the
 * request carries.) Throws HearthError(InvalidParams) naming the path of the bad node.
 */
export function checkJsonSchema(schema: unknown, field: string): void {
  const chars = JSON.stringify(schema)?.length ?? 0;
  if (chars > MAX_SCHEMA_CHARS) {
    fail(
      field,
      `a JSON schema of at most ${MAX_SCHEMA_CHARS.toLocaleString("en")} characters, not ${chars.toLocaleString("en")}`,
    );
  }
  checkSchemaNode(schema, field, 0);
}

/**
 * The bounds of {@link checkJsonSchema} alone, on any JSON schema: its size, its nesting (of any JSON value) and
 * every `enum`'s length. Throws HearthError(InvalidParams) naming the path of the bad node.
 */
export function checkSchemaBounds(schema: unknown, field: string): void {
  const chars = JSON.stringify(schema)?.length ?? 0;
  if (chars > MAX_SCHEMA_CHARS) {
    fail(
      field,
      `a JSON schema of at most ${MAX_SCHEMA_CHARS.toLocaleString("en")} characters, not ${chars.toLocaleString("en")}`,
    );
  }
  const walk = (value: unknown, path: string, depth: number): void => {
    if (typeof value !== "object" || value === null) return;
    if (depth > MAX_SCHEMA_DEPTH * 2) fail(path, `at most ${MAX_SCHEMA_DEPTH} levels deep`);
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${path}[${i}]`, depth + 1));
    const node = value as Record<string, unknown>;
    if (Array.isArray(node["enum"]) && node["enum"].length > MAX_SCHEMA_ENUM)
      fail(`${path}.enum`, `at most ${MAX_SCHEMA_ENUM} values`);
    for (const [k, v] of Object.entries(node)) walk(v, `${path}.${k}`, depth + 1);
  };
  walk(schema, field, 0);
}

function checkSchemaNode(schema: unknown, field: string, depth: number): void {
  if (depth > MAX_SCHEMA_DEPTH) fail(field, `at most ${MAX_SCHEMA_DEPTH} levels deep`);
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) fail(field, "a JSON schema object");
  const node = schema as Record<string, unknown>;
  if ("enum" in node) {
    if (!Array.isArray(node["enum"]) || node["enum"].length === 0) fail(`${field}.enum`, "a non-empty array");
    if (node["enum"].length > MAX_SCHEMA_ENUM) fail(`${field}.enum`, `at most ${MAX_SCHEMA_ENUM} values`);
    return;
  }
  if ("const" in node) return;
  if (Array.isArray(node["oneOf"])) {
    node["oneOf"].forEach((s, i) => checkSchemaNode(s, `${field}.oneOf[${i}]`, depth + 1));
    return;
  }
  const types = Array.isArray(node["type"]) ? node["type"] : [node["type"]];
  if (types.length === 0 || types.some((t) => typeof t !== "string" || !SCHEMA_TYPES.includes(t))) {
    fail(`${field}.type`, `one of ${SCHEMA_TYPES.join(", ")} (or use enum / const / oneOf)`);
  }
  if (node["properties"] !== undefined) {
    const properties = node["properties"];
    if (typeof properties !== "object" || properties === null || Array.isArray(properties))
      fail(`${field}.properties`, "an object");
    for (const [k, v] of Object.entries(properties)) checkSchemaNode(v, `${field}.properties.${k}`, depth + 1);
  }
  if (node["items"] !== undefined) checkSchemaNode(node["items"], `${field}.items`, depth + 1);
}
