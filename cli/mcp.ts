import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import { readWorkspaceText, ToolError } from "../common/agent/agentTools";
import { hitLocation } from "../common/search/format";
import { HearthError } from "../shared/errors";
import type { SidecarProcess } from "../common/sidecar/SidecarProcess";
import { MAX_QUERY_CHARS } from "../shared/guards";
import type { IndexTarget, SearchMode } from "../shared/protocol";

declare const HEARTH_VERSION: string;

/** Lines `read_range` returns at most. */
export const MAX_RANGE_LINES = 2000;

/** What `hearth mcp` serves. */
export interface McpOptions {
  /** The index target: the folder and where its index lives (the extension's and the CLI's share one). */
  target: IndexTarget;
  /** Log a line to stderr (stdout is the MCP channel). */
  log: (line: string) => void;
}

/**
 * `hearth mcp`: the folder's code index as an MCP server over stdio (the official `@modelcontextprotocol/sdk`),
 * for any agent that speaks MCP (Claude Code, Cline, VS Code's agent mode, llama.vscode's agent). Tools:
 * `search_codebase` (hybrid BM25 + vector search, reranked when a reranker is loaded), `read_range` (lines of a
 * file in the folder), `index_status`, `reindex`. The index is built on the first search when there is none.
 * Arguments are validated by the SDK against each tool's schema (an error result names the field); a path
 * outside the folder, absolute or through `..` or a symlink, is refused. Ends when stdin closes.
 * @returns when the client disconnects.
 */
export async function runMcp(sidecar: SidecarProcess, options: McpOptions): Promise<void> {
  const { target, log } = options;
  const server = new McpServer(
    { name: "hearth", version: typeof HEARTH_VERSION === "string" ? HEARTH_VERSION : "dev" },
    {
      instructions:
        `Search and read the code of ${target.root} with Hearth's local index: search_codebase first, then ` +
        "read_range for the lines around a hit.",
    },
  );
  let built: Promise<void> | undefined;
  /** Build the index once when it does not exist (or was interrupted), before the first search. */
  const ensureIndex = () =>
    (built ??= (async () => {
      const status = await sidecar.request("index/status", target);
      if (status.exists && status.complete) return;
      log(`indexing ${target.root}…`);
      const r = await sidecar.request("index/build", target);
      log(`indexed ${r.files} files (${r.chunks} chunks)`);
    })().catch((error: unknown) => {
      built = undefined;
      throw error;
    }));
  const fail = (error: unknown) => ({
    isError: true,
    content: [{ type: "text" as const, text: HearthError.from(error).userMessage }],
  });

  server.registerTool(
    "search_codebase",
    {
      title: "Search the codebase",
      description:
        "Find the code chunks (functions, classes, blocks) of the workspace that best match a natural-language " +
        "or keyword query. Returns each hit's path, line range, enclosing symbol, scores and text.",
      inputSchema: {
        query: z.string().min(1).max(MAX_QUERY_CHARS).describe("What to look for, in words or identifiers"),
        top_k: z.number().int().min(1).max(50).optional().describe("How many hits (default 8)"),
        mode: z.enum(["lexical", "vector", "hybrid"]).optional().describe("Default: hybrid with embeddings"),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ query, top_k, mode }) => {
      try {
        await ensureIndex();
        const r = await sidecar.request("index/search", {
          ...target,
          query,
          topK: top_k ?? 8,
          ...(mode ? { mode: mode as SearchMode } : {}),
        });
        const hits = r.hits.map((h) => ({
          path: h.path,
          startLine: h.startLine,
          endLine: h.endLine,
          ...(h.symbol ? { symbol: h.symbol } : {}),
          score: h.score,
          scores: h.scores,
          text: h.text,
        }));
        const text = hits.length
          ? hits.map((h) => `${hitLocation(h)}${h.symbol ? ` ${h.symbol}` : ""}\n${h.text}`).join("\n\n")
          : "No hits.";
        return {
          content: [{ type: "text", text }],
          structuredContent: { hits, mode: r.mode, reranked: r.reranked, ...(r.partial ? { partial: true } : {}) },
        };
      } catch (error) {
        return fail(error);
      }
    },
  );

  server.registerTool(
    "read_range",
    {
      title: "Read lines of a file",
      description: `Lines start_line..end_line (1-based, inclusive, at most ${MAX_RANGE_LINES}) of a file in the workspace.`,
      inputSchema: {
        path: z.string().min(1).max(4096).describe("Path relative to the workspace folder"),
        start_line: z.number().int().min(1),
        end_line: z.number().int().min(1),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ path: rel, start_line, end_line }) => {
      if (end_line < start_line) return fail(new Error("end_line must not be before start_line."));
      if (end_line - start_line + 1 > MAX_RANGE_LINES) {
        return fail(new Error(`Ask for at most ${MAX_RANGE_LINES} lines at a time.`));
      }
      try {
        // The agent's reader: confined to the folder, no secrets, binary or huge files.
        const { text } = await readWorkspaceText(target.root, rel);
        return {
          content: [
            {
              type: "text",
              text: text
                .split("\n")
                .slice(start_line - 1, end_line)
                .join("\n"),
            },
          ],
        };
      } catch (error) {
        return fail(
          error instanceof ToolError ? error : new Error(`Cannot read '${rel}': ${(error as Error).message}`),
        );
      }
    },
  );

  server.registerTool(
    "index_status",
    {
      title: "Index status",
      description: "Whether the workspace has an index, how many files and chunks it holds, and its embedding model.",
      inputSchema: {},
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async () => {
      try {
        const s = await sidecar.request("index/status", target);
        return { content: [{ type: "text", text: JSON.stringify(s) }], structuredContent: { ...s } };
      } catch (error) {
        return fail(error);
      }
    },
  );

  server.registerTool(
    "reindex",
    {
      title: "Update the index",
      description: "Bring the index up to date with the files on disk (unchanged files are not embedded again).",
      inputSchema: {},
      annotations: { readOnlyHint: false, idempotentHint: true, openWorldHint: false },
    },
    async () => {
      try {
        const r = await sidecar.request("index/build", target);
        const summary = {
          files: r.files,
          chunks: r.chunks,
          indexedFiles: r.indexedFiles,
          unchangedFiles: r.unchangedFiles,
          removedFiles: r.removedFiles,
          skipped: r.skipped.length,
        };
        built = Promise.resolve();
        return { content: [{ type: "text", text: JSON.stringify(summary) }], structuredContent: summary };
      } catch (error) {
        return fail(error);
      }
    },
  );

  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once("end", () => resolve());
  });
  await server.connect(transport);
  log(`serving ${target.root} over stdio (index in ${target.storageDir})`);
  await closed;
  await server.close().catch(() => undefined);
}
