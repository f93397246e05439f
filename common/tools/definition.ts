/**
 * One definition per tool (Continue's `core/tools/definitions/` idea): its name, title, description, the JSON
 * Schema of its arguments, its limits, the permission it needs and its run function — written once here and
 * adapted for each surface that offers it: the agent (`common/agent/agentTools.ts`: `forAgent`), `hearth mcp`
 * (`cli/mcp.ts`) and VS Code's language-model tools (`extension/native/codebaseTools.ts`, whose package.json
 * `inputSchema` a unit test checks against {@link optionalArgsSchema}).
 */
import { Ajv, type ValidateFunction } from "ajv";
import type { SidecarApi } from "../sidecar/SidecarApi";
import type { IndexSearchResult, IndexTarget, SearchMode } from "../../shared/protocol";

/** A change an edit tool proposes; nothing is written unless the host's review accepts it. */
export interface ProposedChange {
  /** Relative to the workspace folder. */
  path: string;
  before: string;
  after: string;
  /** Unified diff of the change (`--- /dev/null` for a new file). */
  diff: string;
  newFile: boolean;
  /** Shown with the review when the file configures commands that run later (`executionWarning`). */
  warning?: string;
}

/**
 * How a review ended: `accepted` (the tool writes the changes), `applied` (the host wrote them itself, e.g. VS
 * Code's one-undo-step `WorkspaceEdit`, and saved them), `rejected` (nothing is written).
 */
export type ReviewDecision = "accepted" | "applied" | "rejected";

/** What a tool sees: the workspace folder (every path is confined to it) and the sidecar. */
export interface ToolContext {
  api: SidecarApi;
  /** The workspace folder and its index. */
  target: IndexTarget;
  signal: AbortSignal;
  /**
   * The user's review of the changes one call proposes (one entry per file, shown together as one review).
   * Absent: edits are never written (the model is told so).
   */
  review?: (changes: ProposedChange[]) => Promise<ReviewDecision>;
  /**
   * Search the host's index (VS Code: building it first, with progress; `hearth mcp`: building it on the first
   * search); absent: `index/search` on `target`.
   */
  search?: (query: string, options: ToolSearchOptions, signal: AbortSignal) => Promise<IndexSearchResult>;
  /** What `run_command` may do here; absent: it refuses every command. */
  commands?: CommandPolicy;
  /**
   * Ask the user whether `read_file` may read a secrets file (`.env`, keys, `.npmrc`): resolves true to read it.
   * Absent: secrets files are never read.
   */
  confirmSecret?: (rel: string) => Promise<boolean>;
}

/**
 * The rules `run_command` keeps: never in an untrusted workspace; each command shown in full and confirmed by
 * the user unless it is on the allowlist; a timeout and an output cap.
 */
export interface CommandPolicy {
  /** The workspace is trusted (VS Code's workspace trust; the CLI: the user passed `--allow run`). */
  trusted: boolean;
  /** Ask the user to run `command` (shown in full). @returns true to run it. */
  confirm(command: string): Promise<boolean>;
  /**
   * Commands run without asking: an entry matches the command itself or the command followed by arguments
   * (`npm test` allows `npm test -- --run`), never a command with shell operators (`;`, `&`, `|`, `>`, `<`, `$`,
   * backquote, newline) in it.
   */
  allowlist?: string[];
  /** Default `COMMAND_TIMEOUT_MS` (`common/agent/runCommand.ts`). */
  timeoutMs?: number;
}

/** What a tool may do; `hearth agent --allow` and the chat's agent mode grant them by name. */
export type ToolPermission = "read" | "search" | "edit" | "run" | "tools";

/** A tool failure the model is told about (as the call's result), not a crash of the loop. */
export class ToolError extends Error {}

/** Characters of a tool result the model gets at most. */
export const MAX_RESULT_CHARS = 8_000;
/** Bytes of a file `read_file` and `grep` read at most. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Files `grep` and `list_files` visit at most. */
export const MAX_FILES_VISITED = 5_000;

/** What `search_codebase` asks a host's search for. */
export interface ToolSearchOptions {
  /** Hits wanted, 1..50. */
  topK: number;
  /** Absent: the index's default (hybrid with embeddings, else lexical). */
  mode?: SearchMode;
}

/** JSON Schema of a tool's arguments, in the grammar's form: every property required, an optional one nullable. */
export interface ToolParameters {
  type: "object";
  properties: Record<string, object>;
  required: string[];
}

/** What a tool run returns: the text the model reads, and the same as data for surfaces that take it (MCP). */
export interface ToolOutput {
  text: string;
  data?: Record<string, unknown>;
}

/** A tool, once, for every surface. */
export interface ToolDefinition {
  /** snake_case, the same on every surface (VS Code's LM tool adds the `hearth_` prefix its registry wants). */
  name: string;
  /** A few words for a UI (MCP's `title`). */
  title: string;
  /** One or two sentences for the model. */
  description: string;
  /**
   * JSON Schema of the arguments, in the form a grammar needs: every property is listed as required (the grammar
   * writes each one) and an optional one is nullable (`oneOf: [schema, {type: "null"}]`), null meaning "not
   * given". Numbers are `number`, not `integer`: node-llama-cpp's integer grammar admits an exponent ("3e-1"), so
   * a count or a line is read as a number and rounded down. Surfaces without a grammar (MCP, VS Code) see
   * {@link optionalArgsSchema} of it.
   */
  parameters: ToolParameters;
  /**
   * The permission it needs: `read` (files), `search` (the index), `edit` (reviewed changes), `run` (confirmed
   * shell commands), `tools` (other extensions' and MCP servers' tools, confirmed).
   */
  permission: ToolPermission;
  /** It changes nothing (MCP's `readOnlyHint`). */
  readOnly: boolean;
  /**
   * Run it with arguments valid against {@link parameters}.
   * @throws ToolError with a sentence for the model (a path outside the folder, a binary file, a bad regex).
   */
  run(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput>;
}

/** A nullable property's non-null schema, or undefined when the property is not nullable. */
function nonNull(schema: object): object | undefined {
  const alternatives = (schema as { oneOf?: object[] }).oneOf;
  if (!alternatives) return undefined;
  const rest = alternatives.filter((s) => (s as { type?: unknown }).type !== "null");
  return rest.length === alternatives.length ? undefined : rest.length === 1 ? rest[0] : { oneOf: rest };
}

/**
 * The arguments' schema for surfaces without a grammar (MCP, VS Code's LM tools): each nullable property becomes
 * an optional one of its non-null type; no other property is allowed.
 */
export function optionalArgsSchema(parameters: ToolParameters): {
  type: "object";
  properties: Record<string, object>;
  required: string[];
  additionalProperties: false;
} {
  const properties: Record<string, object> = {};
  const required: string[] = [];
  for (const [name, schema] of Object.entries(parameters.properties)) {
    const optional = nonNull(schema);
    properties[name] = optional ?? schema;
    if (!optional && parameters.required.includes(name)) required.push(name);
  }
  return { type: "object", properties, required, additionalProperties: false };
}

const ajv = new Ajv({ strict: false, allErrors: false });
const optionalValidators = new WeakMap<ToolDefinition, ValidateFunction>();

/**
 * Arguments sent in the optional form ({@link optionalArgsSchema}) checked and turned into the definition's form
 * (an absent optional property is null), for {@link ToolDefinition.run}.
 * @throws ToolError naming the field and what is wrong with it.
 */
export function argsFromOptional(tool: ToolDefinition, args: unknown): Record<string, unknown> {
  let validate = optionalValidators.get(tool);
  if (!validate) {
    validate = ajv.compile(optionalArgsSchema(tool.parameters));
    optionalValidators.set(tool, validate);
  }
  if (!validate(args ?? {}))
    throw new ToolError(`Invalid arguments for ${tool.name}: ${ajv.errorsText(validate.errors)}.`);
  return withAbsentAsNull(tool.parameters, (args ?? {}) as Record<string, unknown>);
}

/**
 * `args` with each nullable property it leaves out set to null: what a grammar would have written, from a
 * native tool call (a remote engine's model) that omitted an optional argument. Other properties as they are.
 */
export function withAbsentAsNull(parameters: ToolParameters, args: Record<string, unknown>): Record<string, unknown> {
  const filled = { ...args };
  for (const [name, schema] of Object.entries(parameters.properties)) {
    if (!(name in filled) && nonNull(schema) !== undefined) filled[name] = null;
  }
  return filled;
}

/** A result cut to {@link MAX_RESULT_CHARS}, saying so. */
export function capResult(text: string): string {
  return text.length <= MAX_RESULT_CHARS
    ? text
    : `${text.slice(0, MAX_RESULT_CHARS)}\n[… ${text.length - MAX_RESULT_CHARS} more characters left out]`;
}
