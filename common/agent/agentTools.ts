import { promises as fs } from "node:fs";
import ignore from "ignore";
import path from "node:path";
import { unifiedDiff } from "../actions/proposal";
import { insideRoot } from "../../shared/workspacePath";
import { writeFileAtomic } from "../chat/atomicWrite";
import { hitLocation } from "../search/format";
import {
  isIgnored,
  isIgnoredPath,
  isSecretsFile,
  mayWalkFolder,
  readRules,
  rulesDownTo,
  type Rules,
} from "../../shared/workspaceFiles";
import type { SidecarApi } from "../sidecar/SidecarApi";
import type { IndexSearchResult, IndexTarget } from "../../shared/protocol";

/** A change an edit tool proposes; nothing is written unless the host's review accepts it. */
export interface ProposedChange {
  /** Relative to the workspace folder. */
  path: string;
  before: string;
  after: string;
  /** Unified diff of the change (`--- /dev/null` for a new file). */
  diff: string;
  newFile: boolean;
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
  /** Search the host's index (VS Code: building it first); absent: `index/search` on `target`. */
  search?: (query: string, signal: AbortSignal) => Promise<IndexSearchResult>;
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
  /** Default {@link COMMAND_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/** A tool the agent may call: a JSON schema for its arguments, a one-line description, a capped result. */
export interface AgentTool {
  name: string;
  /** One line for the model. */
  description: string;
  /**
   * JSON schema of the arguments. Every property is listed as required (the grammar writes each one); an
   * optional one is nullable (`type: ["integer", "null"]`), the model writing null for "not given".
   */
  parameters: { type: "object"; properties: Record<string, object>; required: string[] };
  /**
   * The permission it needs: `read` (files), `search` (the index), `edit` (reviewed changes), `run` (confirmed
   * shell commands), `tools` (other extensions' and MCP servers' tools, confirmed).
   */
  permission: AgentPermission;
  /**
   * Run it. @returns the result text, at most {@link MAX_RESULT_CHARS} (longer results are cut with a note).
   * @throws ToolError with a sentence for the model (a path outside the folder, a binary file, a bad regex).
   */
  run(args: Record<string, unknown>, ctx: ToolContext): Promise<string>;
}

/** What a tool may do; `hearth agent --allow` and the chat's agent mode grant them by name. */
export type AgentPermission = "read" | "search" | "edit" | "run" | "tools";

/** A tool failure the model is told about (as the call's result), not a crash of the loop. */
export class ToolError extends Error {}

/** Characters of a tool result the model gets at most. */
export const MAX_RESULT_CHARS = 8_000;
/** Bytes of a file `read_file` and `grep` read at most. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Files `grep` and `list_files` visit at most. */
export const MAX_FILES_VISITED = 5_000;

function resolve(ctx: ToolContext, rel: unknown): { file: string; rel: string } {
  return resolveIn(ctx.target.root, rel);
}

/**
 * `rel` under the workspace folder `root`, confined to it (`insideRoot`: no `..`, absolute path or symlink out)
 * and not a secrets file. @throws ToolError saying which.
 */
function resolveIn(root: string, rel: unknown, allowSecret = false): { file: string; rel: string } {
  if (typeof rel !== "string" || !rel) throw new ToolError("Give a path relative to the workspace folder.");
  const clean = rel.replace(/^\.\/+/, "");
  const file = insideRoot(root, clean);
  if (!file) throw new ToolError(`'${rel}' is outside the workspace folder; use a path inside it.`);
  if (!allowSecret && isSecretsFile(clean)) throw new ToolError(`'${rel}' may hold secrets; Hearth does not read it.`);
  return { file, rel: clean };
}

/**
 * The text of a workspace file for a tool (the agent's, `hearth mcp`'s): confined to `root`, not a secrets,
 * binary, missing or over-{@link MAX_FILE_BYTES} file. @throws ToolError with the sentence to show.
 */
export async function readWorkspaceText(root: string, relPath: unknown): Promise<{ rel: string; text: string }> {
  const { file, rel } = resolveIn(root, relPath);
  return { rel, text: await readText(file, rel) };
}

async function readText(file: string, rel: string): Promise<string> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat) throw new ToolError(`'${rel}' does not exist.`);
  if (!stat.isFile()) throw new ToolError(`'${rel}' is not a file.`);
  if (stat.size > MAX_FILE_BYTES) throw new ToolError(`'${rel}' is over ${MAX_FILE_BYTES} bytes; read a range of it.`);
  const text = await fs.readFile(file, "utf8");
  if (text.includes("\u0000")) throw new ToolError(`'${rel}' is a binary file.`);
  return text;
}

/**
 * Files under `dir` (relative paths) under the workspace-file policy (`shared/workspaceFiles.ts`: never-walked
 * folders, secrets files, `.gitignore` / `.hearthignore`); at most `limit`.
 */
async function walk(root: string, dir: string, limit: number): Promise<string[]> {
  const out: string[] = [];
  const queue: Array<{ dir: string; rules: Rules[] }> = [{ dir, rules: await rulesDownTo(root, dir) }];
  while (queue.length && out.length < limit) {
    const current = queue.shift()!;
    const entries = await fs.readdir(path.join(root, current.dir), { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = current.dir ? `${current.dir}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!mayWalkFolder(e.name) || isIgnored(current.rules, rel, true)) continue;
        const own = await readRules(path.join(root, rel), rel);
        queue.push({ dir: rel, rules: own ? [...current.rules, own] : current.rules });
      } else if (e.isFile() && !isSecretsFile(rel) && !isIgnored(current.rules, rel, false)) out.push(rel);
      if (out.length >= limit) break;
    }
  }
  return out;
}

// A number, not an integer: node-llama-cpp's integer grammar admits an exponent ("3e-1"), so a line number is
// read as a number and rounded down; null for "not given".
const nullableLine = { oneOf: [{ type: "number" }, { type: "null" }] };

/** The agent's read-only tools: search the index, read a file's lines, list files, grep. */
export const READ_TOOLS: AgentTool[] = [
  {
    name: "search_codebase",
    description: "Find code chunks matching a query in words or identifiers (the workspace's local index).",
    parameters: { type: "object", properties: { query: { type: "string", maxLength: 200 } }, required: ["query"] },
    permission: "search",
    async run(args, ctx) {
      const query = String(args["query"] ?? "").trim();
      if (!query) throw new ToolError("Give a non-empty query.");
      const r = ctx.search
        ? await ctx.search(query, ctx.signal)
        : await ctx.api.request("index/search", { ...ctx.target, query, topK: 5 }, ctx.signal);
      if (!r.hits.length) return `No code matches "${query}".`;
      return r.hits.map((h) => `${hitLocation(h)}${h.symbol ? ` ${h.symbol}` : ""}\n${h.text}`).join("\n\n");
    },
  },
  {
    name: "read_file",
    description: "Read lines of a file (1-based, inclusive; null for the start or the end).",
    parameters: {
      type: "object",
      properties: { path: { type: "string", maxLength: 300 }, start_line: nullableLine, end_line: nullableLine },
      required: ["path", "start_line", "end_line"],
    },
    permission: "read",
    async run(args, ctx) {
      const { file, rel } = resolveIn(ctx.target.root, args["path"], true);
      if (isSecretsFile(rel) && !(ctx.confirmSecret && (await ctx.confirmSecret(rel)))) {
        throw new ToolError(`'${rel}' may hold secrets; Hearth reads it only when the user allows it, and did not.`);
      }
      const lines = (await readText(file, rel)).split("\n");
      const note = (await isIgnoredPath(ctx.target.root, rel))
        ? `(${rel} is ignored by .gitignore or .hearthignore: not one of the project's sources)\n`
        : "";
      const start = Math.max(1, Math.floor(Number(args["start_line"] ?? 1)) || 1);
      const end = Math.min(lines.length, Math.floor(Number(args["end_line"] ?? lines.length)) || lines.length);
      if (end < start) throw new ToolError(`'${rel}' has ${lines.length} lines; ask for lines inside it.`);
      return (
        note +
        lines
          .slice(start - 1, end)
          .map((l, i) => `${start + i}: ${l}`)
          .join("\n")
      );
    },
  },
  {
    name: "list_files",
    description:
      "List the files under a folder ('' for all) matching a glob (null for any, e.g. '*.ts', 'src/**/*.test.js'), skipping dependencies and ignored files.",
    parameters: {
      type: "object",
      properties: {
        dir: { type: "string", maxLength: 300 },
        glob: { oneOf: [{ type: "string", maxLength: 200 }, { type: "null" }] },
      },
      required: ["dir", "glob"],
    },
    permission: "read",
    async run(args, ctx) {
      const dir = String(args["dir"] ?? "")
        .replace(/^\.?\/*$/, "")
        .replace(/\/+$/, "");
      if (dir) resolve(ctx, dir);
      const glob = typeof args["glob"] === "string" && args["glob"].trim() ? args["glob"].trim() : undefined;
      // gitignore's pattern rules are the glob: '*.ts' anywhere, 'src/**/x.ts' from the root.
      const matcher = glob ? ignore().add(glob) : undefined;
      const files = (await walk(ctx.target.root, dir, MAX_FILES_VISITED))
        .filter((f) => !matcher || matcher.ignores(f))
        .slice(0, 500);
      return files.length ? files.join("\n") : `No files under '${dir || "."}'${glob ? ` match '${glob}'` : ""}.`;
    },
  },
  {
    name: "grep",
    description: "Lines matching a regular expression in the workspace's files (at most 100 matches).",
    parameters: { type: "object", properties: { pattern: { type: "string", maxLength: 200 } }, required: ["pattern"] },
    permission: "read",
    async run(args, ctx) {
      let re: RegExp;
      try {
        re = new RegExp(String(args["pattern"] ?? ""));
      } catch (error) {
        throw new ToolError(`Not a regular expression: ${(error as Error).message}`);
      }
      const matches: string[] = [];
      for (const rel of await walk(ctx.target.root, "", MAX_FILES_VISITED)) {
        if (ctx.signal.aborted || matches.length >= 100) break;
        const file = path.join(ctx.target.root, rel);
        const text = await readText(file, rel).catch(() => undefined);
        if (text === undefined) continue;
        text.split("\n").forEach((line, i) => {
          if (matches.length < 100 && re.test(line)) matches.push(`${rel}:${i + 1}: ${line.slice(0, 300)}`);
        });
      }
      return matches.length ? matches.join("\n") : `No line matches /${re.source}/.`;
    },
  },
];

/** A result cut to {@link MAX_RESULT_CHARS}, saying so. */
export function capResult(text: string): string {
  return text.length <= MAX_RESULT_CHARS
    ? text
    : `${text.slice(0, MAX_RESULT_CHARS)}\n[… ${text.length - MAX_RESULT_CHARS} more characters left out]`;
}

/** Characters of text an edit tool takes per argument. */
export const MAX_EDIT_CHARS = 4_000;

/** Put the changes of one call through the host's review, as one; write them all only when accepted. */
async function reviewed(ctx: ToolContext, changes: ProposedChange[]): Promise<string> {
  const names = changes.map((c) => c.path).join(", ");
  if (!ctx.review) return "The edit was not applied: nobody can review it here.";
  const decision = await ctx.review(changes);
  if (decision === "rejected") return `The user rejected the change to ${names}; nothing was written.`;
  const counts: string[] = [];
  for (const change of changes) {
    const lines = change.diff.split("\n");
    const added = lines.filter((l) => l.startsWith("+") && !l.startsWith("+++")).length;
    const removed = lines.filter((l) => l.startsWith("-") && !l.startsWith("---")).length;
    counts.push(`${change.path} (+${added} −${removed} lines)`);
    if (decision === "applied") continue;
    // Resolved again at write time: a symlink swapped in since the proposal cannot lead the write out.
    const { file } = resolve(ctx, change.path);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, change.after);
  }
  return `The user accepted the change; written: ${counts.join(", ")}.`;
}

/** Edits one `propose_edit` call may carry (one review). */
export const MAX_EDITS_PER_CALL = 8;

/**
 * The agent's edit tools: each call proposes changes that become one reviewed diff (`ToolContext.review`);
 * nothing is written before the user accepts it.
 */
export const EDIT_TOOLS: AgentTool[] = [
  {
    name: "propose_edit",
    description:
      "Replace exact, unique pieces of files' text with new text; all edits of one call are shown to the user as one change to accept.",
    parameters: {
      type: "object",
      properties: {
        edits: {
          type: "array",
          minItems: 1,
          maxItems: MAX_EDITS_PER_CALL,
          items: {
            type: "object",
            properties: {
              path: { type: "string", maxLength: 300 },
              old_text: { type: "string", maxLength: MAX_EDIT_CHARS },
              new_text: { type: "string", maxLength: MAX_EDIT_CHARS },
            },
            required: ["path", "old_text", "new_text"],
          },
        },
      },
      required: ["edits"],
    },
    permission: "edit",
    async run(args, ctx) {
      const edits = Array.isArray(args["edits"]) ? (args["edits"] as Array<Record<string, unknown>>) : [];
      if (!edits.length) throw new ToolError("Give at least one edit: {path, old_text, new_text}.");
      // Edits of one file apply in order to its text; each file becomes one change of the review.
      const files = new Map<string, { before: string; after: string }>();
      for (const [i, edit] of edits.entries()) {
        const { file, rel } = resolve(ctx, edit["path"]);
        const current = files.get(rel) ?? { before: await readText(file, rel), after: "" };
        const text = files.has(rel) ? current.after : current.before;
        const oldText = String(edit["old_text"] ?? "");
        const which = edits.length > 1 ? `edit ${i + 1}: ` : "";
        if (!oldText) throw new ToolError(`${which}give the exact text to replace in old_text.`);
        const count = text.split(oldText).length - 1;
        if (count !== 1) {
          throw new ToolError(
            which +
              (count
                ? `old_text occurs ${count} times in ${rel}; include more lines so it is unique.`
                : `old_text is not in ${rel}; read the file and copy the text exactly.`),
          );
        }
        files.set(rel, { before: current.before, after: text.replace(oldText, () => String(edit["new_text"] ?? "")) });
      }
      return reviewed(
        ctx,
        [...files].map(([rel, { before, after }]) => ({
          path: rel,
          before,
          after,
          diff: unifiedDiff(rel, before, after),
          newFile: false,
        })),
      );
    },
  },
  {
    name: "create_file",
    description: "Create a new file with the given content (shown to the user to accept).",
    parameters: {
      type: "object",
      properties: { path: { type: "string", maxLength: 300 }, content: { type: "string", maxLength: MAX_EDIT_CHARS } },
      required: ["path", "content"],
    },
    permission: "edit",
    async run(args, ctx) {
      const { file, rel } = resolve(ctx, args["path"]);
      if (
        await fs.stat(file).then(
          () => true,
          () => false,
        )
      ) {
        throw new ToolError(`${rel} already exists; use propose_edit to change it.`);
      }
      const content = String(args["content"] ?? "");
      const after = content.endsWith("\n") ? content : `${content}\n`;
      return reviewed(ctx, [
        { path: rel, before: "", after, diff: unifiedDiff(rel, "", after, { newFile: true }), newFile: true },
      ]);
    },
  },
];
