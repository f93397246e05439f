/**
 * JSON schemas of the request bodies `hearth serve` accepts (checked by fastify's ajv before a handler runs; a
 * body that does not match is a 400 naming the field), with the TypeScript shape each one guarantees. Fields
 * other tools send that Hearth does not use are allowed and ignored, as llama-server and vLLM do.
 * Sources: OpenAI's API reference; llama.cpp tools/server/README.md (`/infill`, `/completion`, `/tokenize`).
 */

const text = { type: "string", maxLength: 16 * 1024 * 1024 } as const;
const count = { type: "integer", minimum: 0, maximum: 1_000_000 } as const;
const nullable = <T extends object>(schema: T) => ({ anyOf: [schema, { type: "null" }] });
const stop = nullable({ anyOf: [{ type: "string" }, { type: "array", items: { type: "string" }, maxItems: 16 }] });
const sampling = {
  // Any name (or none): it maps to the model serving the route, as with llama-server.
  model: nullable({ type: "string" }),
  // -1: no limit of the request's own (llama-server's n_predict -1; llama.vscode's chat edit sends it).
  max_tokens: nullable({ anyOf: [{ type: "integer", minimum: 1, maximum: 1_000_000 }, { const: -1 }] }),
  temperature: nullable({ type: "number", minimum: 0, maximum: 2 }),
  top_p: nullable({ type: "number", minimum: 0, maximum: 1 }),
  top_k: nullable(count),
  seed: nullable({ type: "integer", minimum: 0 }),
  stop,
  stream: nullable({ type: "boolean" }),
  stream_options: nullable({ type: "object", properties: { include_usage: { type: "boolean" } } }),
} as const;

/** `POST /v1/chat/completions`. */
export const chatCompletions = {
  type: "object",
  required: ["messages"],
  properties: {
    ...sampling,
    max_completion_tokens: nullable({ type: "integer", minimum: 1, maximum: 1_000_000 }),
    messages: {
      type: "array",
      minItems: 1,
      maxItems: 100_000,
      items: {
        type: "object",
        required: ["role"],
        properties: {
          role: { type: "string" },
          // An assistant turn's earlier calls: their shape is read (names and arguments), so it is checked.
          tool_calls: nullable({
            type: "array",
            maxItems: 128,
            items: {
              type: "object",
              properties: {
                id: { type: "string" },
                type: { type: "string" },
                function: {
                  type: "object",
                  properties: { name: { type: "string" }, arguments: { type: "string" } },
                },
              },
            },
          }),
          tool_call_id: nullable({ type: "string" }),
          name: nullable({ type: "string" }),
          content: nullable({
            anyOf: [
              text,
              {
                type: "array",
                items: { type: "object", required: ["type"], properties: { type: { type: "string" }, text } },
              },
            ],
          }),
        },
      },
    },
    tools: nullable({
      type: "array",
      maxItems: 128,
      items: {
        type: "object",
        required: ["function"],
        properties: {
          type: { type: "string" },
          function: {
            type: "object",
            required: ["name"],
            properties: { name: { type: "string" }, description: { type: "string" }, parameters: { type: "object" } },
          },
        },
      },
    }),
    tool_choice: {},
    response_format: nullable({
      type: "object",
      required: ["type"],
      properties: {
        type: { enum: ["text", "json_object", "json_schema"] },
        json_schema: { type: "object", properties: { name: { type: "string" }, schema: { type: "object" } } },
        // llama-server's extension: `json_object` with the schema beside it.
        schema: { type: "object" },
      },
    }),
    // llama-server's body fields: a JSON schema for the answer, or a GBNF grammar (refused: see the route).
    json_schema: { type: "object" },
    grammar: { type: "string" },
  },
} as const;

export interface ChatBody {
  model?: string | null;
  messages: Array<{
    role: string;
    content?: string | Array<{ type: string; text?: string }> | null;
    tool_calls?: Array<{ function?: { name?: string; arguments?: string } }>;
    tool_call_id?: string;
    name?: string;
  }>;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  tools?: unknown[] | null;
  tool_choice?: unknown;
  response_format?: {
    type: "text" | "json_object" | "json_schema";
    json_schema?: { name?: string; schema?: object };
    schema?: object;
  } | null;
  json_schema?: object;
  grammar?: string;
}

/** `POST /v1/completions` (with `suffix`: fill-in-the-middle). */
export const completions = {
  type: "object",
  required: ["prompt"],
  properties: {
    ...sampling,
    prompt: { anyOf: [text, { type: "array", items: text, minItems: 1 }] },
    suffix: nullable(text),
  },
} as const;

export interface CompletionsBody {
  model?: string | null;
  prompt: string | string[];
  suffix?: string | null;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
}

/** llama.cpp's `POST /infill` (as llama.vscode and llama.vim send it). */
export const infill = {
  type: "object",
  properties: {
    model: nullable({ type: "string" }),
    input_prefix: text,
    input_suffix: text,
    input_extra: {
      type: "array",
      maxItems: 1024,
      // llama-server refuses a chunk without its text (or with a filename that is not a string).
      items: { type: "object", required: ["text"], properties: { filename: { type: "string" }, text } },
    },
    prompt: text,
    n_predict: { type: "integer", minimum: -1, maximum: 1_000_000 },
    t_max_prompt_ms: { type: "integer", minimum: 0 },
    t_max_predict_ms: { type: "integer", minimum: 0 },
    cache_prompt: { type: "boolean" },
    stop: { type: "array", items: { type: "string" }, maxItems: 16 },
    stream: { type: "boolean" },
  },
} as const;

export interface InfillBody {
  model?: string | null;
  input_prefix?: string;
  input_suffix?: string;
  input_extra?: Array<{ filename?: string; text?: string }>;
  prompt?: string;
  n_predict?: number;
  t_max_predict_ms?: number;
  stop?: string[];
  stream?: boolean;
}

/** llama.cpp's `POST /completion` (a continuation of `prompt`). */
export const completion = {
  type: "object",
  required: ["prompt"],
  properties: {
    ...infill.properties,
    temperature: { type: "number", minimum: 0, maximum: 2 },
    top_k: { type: "integer", minimum: 0, maximum: 1_000_000 },
    top_p: { type: "number", minimum: 0, maximum: 1 },
    seed: { type: "integer", minimum: -1 },
  },
} as const;

export interface CompletionBody extends InfillBody {
  prompt: string;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  seed?: number;
}

/** `POST /v1/embeddings`. */
export const embeddings = {
  type: "object",
  required: ["input"],
  properties: {
    model: nullable({ type: "string" }),
    input: { anyOf: [text, { type: "array", items: text, maxItems: 2048 }] },
    encoding_format: { enum: ["float", "base64"] },
  },
} as const;

export interface EmbeddingsBody {
  model?: string | null;
  input: string | string[];
  encoding_format?: "float" | "base64";
}

const rerankDocuments = {
  type: "array",
  minItems: 1,
  maxItems: 2048,
  items: { anyOf: [text, { type: "object", required: ["text"], properties: { text } }] },
} as const;

/**
 * `POST /v1/rerank`: llama-server's and Jina's shape (`documents`), or Hugging Face TEI's (`texts`, answered as a
 * bare array of `{index, score}`).
 */
export const rerank = {
  type: "object",
  required: ["query"],
  oneOf: [{ required: ["documents"] }, { required: ["texts"] }],
  properties: {
    model: nullable({ type: "string" }),
    query: { type: "string", minLength: 1 },
    documents: rerankDocuments,
    texts: rerankDocuments,
    top_n: { type: "integer", minimum: 1 },
    return_documents: { type: "boolean" },
    return_text: { type: "boolean" },
  },
} as const;

export interface RerankBody {
  model?: string | null;
  query: string;
  documents?: Array<string | { text: string }>;
  texts?: Array<string | { text: string }>;
  top_n?: number;
  return_documents?: boolean;
  return_text?: boolean;
}

/** llama.cpp's `POST /tokenize`. */
export const tokenize = {
  type: "object",
  required: ["content"],
  properties: {
    content: text,
    add_special: { type: "boolean" },
    parse_special: { type: "boolean" },
    with_pieces: { type: "boolean" },
  },
} as const;

export interface TokenizeBody {
  content: string;
  add_special?: boolean;
  parse_special?: boolean;
  with_pieces?: boolean;
}

/** llama.cpp's `POST /detokenize`. */
export const detokenize = {
  type: "object",
  required: ["tokens"],
  properties: { tokens: { type: "array", maxItems: 1_000_000, items: { type: "integer", minimum: 0 } } },
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Ollama's API (docs.ollama.com/api; ../shared/design/ENGINE-PROTOCOLS.md). Fields Hearth does not use
// (`keep_alive`, `think`, `context`, most `options`) are allowed and ignored, as Ollama ignores what a model lacks.

/** Ollama's `options` (Modelfile parameters): the sampling ones Hearth applies; the rest are accepted. */
const ollamaOptions = {
  type: "object",
  properties: {
    // -1: no limit of the request's own; -2: fill the context (both Hearth's default limit here).
    num_predict: { type: "integer", minimum: -2, maximum: 1_000_000 },
    temperature: { type: "number", minimum: 0, maximum: 2 },
    top_k: count,
    top_p: { type: "number", minimum: 0, maximum: 1 },
    seed: { type: "integer" },
    stop: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" }, maxItems: 16 }] },
    num_ctx: count,
  },
} as const;

/** Ollama's `format`: "json" or a JSON schema ("" is none). */
const ollamaFormat = { anyOf: [{ type: "string", enum: ["", "json"] }, { type: "object" }] } as const;

/** Ollama's model name: `name` is its older spelling (Continue's `/api/show` sends it). */
const ollamaModel = { type: "string", maxLength: 1024 } as const;

export interface OllamaOptions {
  num_predict?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  seed?: number;
  stop?: string | string[];
  num_ctx?: number;
}

/** `POST /api/chat`. */
export const ollamaChat = {
  type: "object",
  properties: {
    model: ollamaModel,
    messages: {
      type: "array",
      maxItems: 100_000,
      items: {
        type: "object",
        required: ["role"],
        properties: {
          role: { type: "string" },
          content: nullable(text),
          images: nullable({ type: "array", maxItems: 64 }),
          tool_calls: nullable({
            type: "array",
            maxItems: 128,
            items: {
              type: "object",
              properties: {
                function: {
                  type: "object",
                  properties: {
                    name: { type: "string" },
                    arguments: { anyOf: [{ type: "object" }, { type: "string" }] },
                  },
                },
              },
            },
          }),
          tool_name: nullable({ type: "string" }),
        },
      },
    },
    tools: chatCompletions.properties.tools,
    format: ollamaFormat,
    options: ollamaOptions,
    stream: { type: "boolean" },
  },
} as const;

export interface OllamaChatBody {
  model?: string;
  messages?: Array<{
    role: string;
    content?: string | null;
    images?: unknown[] | null;
    tool_calls?: Array<{ function?: { name?: string; arguments?: object | string } }> | null;
    tool_name?: string | null;
  }>;
  tools?: unknown[] | null;
  format?: string | object;
  options?: OllamaOptions;
  stream?: boolean;
}

/** `POST /api/generate` (with `suffix`: fill-in-the-middle; with `raw`: the prompt as it is). */
export const ollamaGenerate = {
  type: "object",
  properties: {
    model: ollamaModel,
    prompt: text,
    suffix: text,
    system: text,
    template: text,
    raw: { type: "boolean" },
    images: nullable({ type: "array", maxItems: 64 }),
    format: ollamaFormat,
    options: ollamaOptions,
    stream: { type: "boolean" },
  },
} as const;

export interface OllamaGenerateBody {
  model?: string;
  prompt?: string;
  suffix?: string;
  system?: string;
  template?: string;
  raw?: boolean;
  images?: unknown[] | null;
  format?: string | object;
  options?: OllamaOptions;
  stream?: boolean;
}

/** `POST /api/embed`. */
export const ollamaEmbed = {
  type: "object",
  required: ["input"],
  properties: {
    model: ollamaModel,
    input: embeddings.properties.input,
    truncate: { type: "boolean" },
    dimensions: { type: "integer", minimum: 1, maximum: 1_000_000 },
  },
} as const;

export interface OllamaEmbedBody {
  model?: string;
  input: string | string[];
  truncate?: boolean;
  dimensions?: number;
}

/** `POST /api/embeddings` (Ollama's older embedding route: one `prompt`). */
export const ollamaEmbeddings = {
  type: "object",
  required: ["prompt"],
  properties: { model: ollamaModel, prompt: text },
} as const;

/** `POST /api/show`. */
export const ollamaShow = {
  type: "object",
  properties: { model: ollamaModel, name: ollamaModel, verbose: { type: "boolean" } },
} as const;
