/**
 * The read-only tools over the workspace and its index: `search_codebase`, `read_file`, `list_files`, `grep`.
 * Each is defined once here (see `definition.ts`) and offered by the agent, `hearth mcp` and VS Code's LM tools.
 */
import ignore from "ignore";
import { SEARCH_MODES } from "../../shared/protocol";
import { isIgnoredPath, isSecretsPath } from "../../shared/workspaceFiles";
import { hitLocation } from "../search/format";
import { MAX_FILE_BYTES, MAX_FILES_VISITED, ToolError, type ToolDefinition } from "./definition";
import { grepFiles } from "./grepWorker";
import { readText, resolveIn, walk } from "./workspaceAccess";

/** Hits `search_codebase` returns when the call does not say. */
export const DEFAULT_TOOL_TOP_K = 8;
/** Characters of a `search_codebase` query at most. */
export const MAX_TOOL_QUERY_CHARS = 1_000;
/** Lines `read_file` returns at most per call. */
export const MAX_READ_LINES = 2_000;

// null for "not given" (see ToolDefinition.parameters).
const nullable = (schema: object) => ({ oneOf: [schema, { type: "null" }] });

/** `search_codebase`: the index's best chunks for a query (hybrid BM25 + vector, reranked when a reranker is loaded). */
export const SEARCH_CODEBASE: ToolDefinition = {
  name: "search_codebase",
  title: "Search the codebase",
  description:
    "Find the code chunks (functions, classes, blocks) of the workspace that best match a query in words or " +
    "identifiers. Returns each hit's path, line range, enclosing symbol and text.",
  parameters: {
    type: "object",
    properties: {
      query: {
        type: "string",
        minLength: 1,
        maxLength: MAX_TOOL_QUERY_CHARS,
        description: "What to look for, in words or identifiers",
      },
      top_k: nullable({
        type: "number",
        minimum: 1,
        maximum: 50,
        description: `How many chunks to return (1 to 50, default ${DEFAULT_TOOL_TOP_K})`,
      }),
      mode: nullable({
        type: "string",
        enum: [...SEARCH_MODES],
        description: "lexical, vector or hybrid (default: hybrid with an embedding model, else lexical)",
      }),
    },
    required: ["query", "top_k", "mode"],
  },
  permission: "search",
  readOnly: true,
  async run(args, ctx) {
    const query = String(args["query"] ?? "").trim();
    if (!query) throw new ToolError("Give a non-empty query.");
    const topK = Math.min(
      50,
      Math.max(1, Math.floor(Number(args["top_k"] ?? DEFAULT_TOOL_TOP_K)) || DEFAULT_TOOL_TOP_K),
    );
    const mode = SEARCH_MODES.find((m) => m === args["mode"]);
    const options = { topK, ...(mode ? { mode } : {}) };
    const r = ctx.search
      ? await ctx.search(query, options, ctx.signal)
      : await ctx.api.request("index/search", { ...ctx.target, query, ...options }, ctx.signal);
    const hits = r.hits.map((h) => ({
      path: h.path,
      startLine: h.startLine,
      endLine: h.endLine,
      ...(h.symbol ? { symbol: h.symbol } : {}),
      language: h.language,
      score: h.score,
      scores: h.scores,
      text: h.text,
    }));
    const text = hits.length
      ? hits.map((h) => `${hitLocation(h)}${h.symbol ? ` ${h.symbol}` : ""}\n${h.text}`).join("\n\n")
      : `No code matches "${query}".`;
    return { text, data: { hits, mode: r.mode, reranked: r.reranked, ...(r.partial ? { partial: true } : {}) } };
  },
};

/** `read_file`: numbered lines of a workspace file (a secrets file only on the user's yes). */
export const READ_FILE: ToolDefinition = {
  name: "read_file",
  title: "Read lines of a file",
  description: `Read lines of a workspace file (1-based, inclusive; null for the start or the end; at most ${MAX_READ_LINES} lines).`,
  parameters: {
    type: "object",
    properties: {
      path: { type: "string", minLength: 1, maxLength: 1024, description: "Path relative to the workspace folder" },
      start_line: nullable({ type: "number", minimum: 1, description: "First line (default 1)" }),
      end_line: nullable({ type: "number", minimum: 1, description: "Last line (default the file's last)" }),
    },
    required: ["path", "start_line", "end_line"],
  },
  permission: "read",
  readOnly: true,
  async run(args, ctx) {
    const { file, rel } = resolveIn(ctx.target.root, args["path"], true);
    if ((await isSecretsPath(ctx.target.root, rel)) && !(ctx.confirmSecret && (await ctx.confirmSecret(rel)))) {
      throw new ToolError(`'${rel}' may hold secrets; Hearth reads it only when the user allows it, and did not.`);
    }
    const lines = (await readText(file, rel)).split("\n");
    const note = (await isIgnoredPath(ctx.target.root, rel))
      ? `(${rel} is ignored by .gitignore or .hearthignore: not one of the project's sources)\n`
      : "";
    const start = Math.max(1, Math.floor(Number(args["start_line"] ?? 1)) || 1);
    const end = Math.min(lines.length, Math.floor(Number(args["end_line"] ?? lines.length)) || lines.length);
    if (end < start) throw new ToolError(`'${rel}' has ${lines.length} lines; ask for lines inside it.`);
    const last = Math.min(end, start + MAX_READ_LINES - 1);
    const more =
      last < end ? `\n[lines ${last + 1}-${end} left out: ask for at most ${MAX_READ_LINES} lines at a time]` : "";
    const text =
      note +
      lines
        .slice(start - 1, last)
        .map((l, i) => `${start + i}: ${l}`)
        .join("\n") +
      more;
    return { text, data: { path: rel, startLine: start, endLine: last, lines: lines.slice(start - 1, last) } };
  },
};

/** `list_files`: the workspace's files under a folder, matching a glob, under the workspace-file policy. */
export const LIST_FILES: ToolDefinition = {
  name: "list_files",
  title: "List files",
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
  readOnly: true,
  async run(args, ctx) {
    const dir = String(args["dir"] ?? "")
      .replace(/^\.?\/*$/, "")
      .replace(/\/+$/, "");
    if (dir) resolveIn(ctx.target.root, dir);
    const glob = typeof args["glob"] === "string" && args["glob"].trim() ? args["glob"].trim() : undefined;
    // gitignore's pattern rules are the glob: '*.ts' anywhere, 'src/**/x.ts' from the root.
    const matcher = glob ? ignore().add(glob) : undefined;
    const files = (await walk(ctx.target.root, dir, MAX_FILES_VISITED))
      .filter((f) => !matcher || matcher.ignores(f))
      .slice(0, 500);
    return {
      text: files.length ? files.join("\n") : `No files under '${dir || "."}'${glob ? ` match '${glob}'` : ""}.`,
      data: { files },
    };
  },
};

/** `grep`: lines matching a regular expression in the workspace's files (at most 100). */
export const GREP: ToolDefinition = {
  name: "grep",
  title: "Grep the workspace",
  description: "Lines matching a regular expression in the workspace's files (at most 100 matches).",
  parameters: { type: "object", properties: { pattern: { type: "string", maxLength: 200 } }, required: ["pattern"] },
  permission: "read",
  readOnly: true,
  async run(args, ctx) {
    const pattern = String(args["pattern"] ?? "");
    // In a worker with a deadline: a pattern that backtracks catastrophically must not hold the host's thread.
    const files = await walk(ctx.target.root, "", MAX_FILES_VISITED);
    const matches = await grepFiles(ctx.target.root, files, pattern, {
      max: 100,
      maxBytes: MAX_FILE_BYTES,
      signal: ctx.signal,
    });
    return { text: matches.length ? matches.join("\n") : `No line matches /${pattern}/.`, data: { matches } };
  },
};
