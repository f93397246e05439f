/**
 * The CLI's option vocabulary: each flag defined once (type, short form, argument name, help line) in a group,
 * and each command (`cli/commands/*Command.ts`) takes the groups it reads. Parsing is strict per command: a flag
 * the command does not take is an error naming the command (and the commands that do take it).
 * (The layout follows node-llama-cpp's `src/cli/commands/*Command.ts`: one module per command owning its options.)
 */
import { settingDefault } from "../shared/settings";
import { ENGINE_KINDS, GPU_SETTINGS, type GenerationParams } from "../shared/protocol";
import { DEFAULT_MODELS } from "../common/models/modelArgs";

/** One flag: how `node:util` `parseArgs` reads it, plus its line of help. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** The argument's name in help, e.g. `<n>`; absent for booleans. */
  arg?: string;
  /** One line (or a few, joined by `\n`) of help; defaults are interpolated from package.json's settings. */
  help: string;
}

/** A command's flags by long name (without `--`). */
export type OptionSpecs = Record<string, OptionSpec>;

/** The parsed values of a set of flags: a string (or strings), a boolean, or undefined when not given. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]?: O[K] extends { type: "boolean" } ? boolean : O[K] extends { multiple: true } ? string[] : string;
};

/** A mistake in the command line: printed as one line on stderr, exit code 2, nothing started. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The number a flag holds, undefined when the flag was not given. @throws UsageError when it is not one. */
export function num(value: string | undefined, name: string, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n)))
    throw new UsageError(`--${name} must be ${integer ? "an integer" : "a number"}, got '${value}'`);
  return n;
}

/** `value` when it is one of `allowed`. @throws UsageError listing them. */
export function oneOf<T extends string>(value: string | undefined, name: string, allowed: readonly T[]): T | undefined {
  if (value !== undefined && !allowed.includes(value as T))
    throw new UsageError(`--${name} must be one of ${allowed.join(", ")}`);
  return value as T | undefined;
}

/** Flags of every command that starts the sidecar: where models live, threads, backend, log. */
export const RUNTIME_OPTIONS = {
  threads: { type: "string", arg: "<n>", help: "CPU threads (default: 1 on ≤2 cores, else half the cores, max 8)" },
  gpu: {
    type: "string",
    arg: `<${GPU_SETTINGS.join("|")}>`,
    help: `compute backend (default ${settingDefault("gpu")})`,
  },
  "context-size": {
    type: "string",
    arg: "<n>",
    help: `context window in tokens (default min(model, ${settingDefault("contextSize")}))`,
  },
  "models-dir": {
    type: "string",
    arg: "<dir>",
    help: "where hf:/URL models are downloaded and bare names are found\n(default $HEARTH_MODELS_DIR or ~/.cache/hearth/models)",
  },
  "no-download": { type: "boolean", help: "never download; fail if the model is not on disk" },
  verbose: { type: "boolean", short: "v", help: "print the sidecar's log to stderr" },
} as const satisfies OptionSpecs;

/** The chat (or FIM) model, local or on an engine. */
export const MODEL_OPTIONS = {
  model: {
    type: "string",
    short: "m",
    arg: "<path|hf:uri>",
    help: `the model (a .gguf path, a file name in --models-dir, an hf: URI or URL;\nchat's default: ${DEFAULT_MODELS.chat}, downloaded once); with --engine-url its model id`,
  },
} as const satisfies OptionSpecs;

/** A remote engine for the chat / completion role, and the engines' API key. */
export const ENGINE_OPTIONS = {
  "engine-url": {
    type: "string",
    arg: "<url>",
    help: "run on the engine at this base URL (llama-server, Ollama, vLLM, LM Studio, any\nOpenAI-compatible server); --model is then its model id, optional when it serves one",
  },
  "engine-kind": {
    type: "string",
    arg: `<${ENGINE_KINDS.join("|")}>`,
    help: "the engine's kind (default: detected by probing)",
  },
  "engine-key-env": {
    type: "string",
    arg: "<NAME>",
    help: "environment variable holding the engines' API key (default HEARTH_ENGINE_API_KEY);\nsent only to the engine URLs given here, never printed",
  },
} as const satisfies OptionSpecs;

/** Sampling of generated text. */
export const GENERATION_OPTIONS = {
  "max-tokens": {
    type: "string",
    arg: "<n>",
    help: `maximum tokens to generate (default ${settingDefault("chat.maxTokens")})`,
  },
  temperature: {
    type: "string",
    arg: "<x>",
    help: `sampling temperature, 0 = greedy (default ${settingDefault("chat.temperature")})`,
  },
  "top-p": { type: "string", arg: "<x>", help: `nucleus sampling mass (default ${settingDefault("chat.topP")})` },
  "top-k": { type: "string", arg: "<n>", help: `top-k sampling (default ${settingDefault("chat.topK")})` },
  seed: { type: "string", arg: "<n>", help: "sampling seed" },
} as const satisfies OptionSpecs;

/** The embedding and rerank models of code search, local or on engines. */
export const SEARCH_MODEL_OPTIONS = {
  "embedding-model": {
    type: "string",
    arg: "<m>",
    help: "embedding GGUF (path, file name in --models-dir, hf: URI or URL); with\n--embedding-engine-url its model id",
  },
  "rerank-model": {
    type: "string",
    arg: "<m>",
    help: "reranker GGUF (cross-encoder with a classification head); with --rerank-engine-url its id",
  },
  "embedding-engine-url": { type: "string", arg: "<url>", help: "embeddings from the engine at this base URL" },
  "rerank-engine-url": { type: "string", arg: "<url>", help: "rerank on the engine at this base URL" },
} as const satisfies OptionSpecs;

/** Where a folder's index lives. */
export const INDEX_DIR_OPTIONS = {
  "index-dir": {
    type: "string",
    arg: "<dir>",
    help: "where the index lives (default $HEARTH_INDEX_DIR or ~/.cache/hearth/index/<dir>-<hash>)",
  },
} as const satisfies OptionSpecs;

/** How an index is built. */
export const INDEX_BUILD_OPTIONS = {
  force: { type: "boolean", help: "re-chunk and re-embed every file" },
  "max-file-bytes": {
    type: "string",
    arg: "<n>",
    help: `skip larger files (default ${settingDefault("index.maxFileBytes")})`,
  },
  "batch-size": {
    type: "string",
    arg: "<n>",
    help: `chunks embedded and written per batch (default ${settingDefault("index.batchSize")})`,
  },
} as const satisfies OptionSpecs;

/** `--json`: machine-readable output. */
export const JSON_OPTION = {
  json: { type: "boolean", help: "print JSON instead of text" },
} as const satisfies OptionSpecs;

/** `--prompts-dir`: where prompt files are read from. */
export const PROMPTS_DIR_OPTION = {
  "prompts-dir": { type: "string", arg: "<dir>", help: "prompt files' folder (default ./.hearth/prompts)" },
} as const satisfies OptionSpecs;

/** The sampling parameters the generation flags give (absent ones left out). @throws UsageError on a bad number. */
export function generationParams(values: OptionValues<typeof GENERATION_OPTIONS>): GenerationParams {
  const params: GenerationParams = {
    maxTokens: num(values["max-tokens"], "max-tokens", true),
    temperature: num(values.temperature, "temperature"),
    topP: num(values["top-p"], "top-p"),
    topK: num(values["top-k"], "top-k", true),
    seed: num(values.seed, "seed", true),
  };
  for (const key of Object.keys(params) as (keyof GenerationParams)[])
    if (params[key] === undefined) delete params[key];
  return params;
}

/** The help lines of a set of flags, aligned: `  -m, --model <path|hf:uri>   help…`. */
export function optionsHelp(options: OptionSpecs): string {
  const rows = Object.entries(options).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : "    "}--${name}${o.arg ? ` ${o.arg}` : ""}${o.multiple ? "..." : ""}`,
    o.help,
  ]);
  const width = Math.min(34, Math.max(...rows.map(([flag]) => flag!.length)) + 2);
  return rows
    .map(([flag, help]) => {
      const lines = help!.split("\n");
      const head = flag!.length + 2 > width ? `  ${flag}\n  ${" ".repeat(width)}` : `  ${flag!.padEnd(width)}`;
      return head + lines.join(`\n  ${" ".repeat(width)}`);
    })
    .join("\n");
}
