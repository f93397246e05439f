import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { SidecarProcess } from "../common/sidecar/SidecarProcess";
import { argsFromOptional, optionalArgsSchema, ToolError, type ToolContext } from "../common/tools/definition";
import { MCP_TOOLS } from "../common/tools/catalog";
import { REINDEX } from "../common/tools/indexTools";
import { HearthError } from "../shared/errors";
import { checkedMcpInput } from "./mcpInput";
import type { IndexProgressParams, IndexTarget } from "../shared/protocol";

declare const HEARTH_VERSION: string;

/** What `hearth mcp` serves. */
export interface McpOptions {
  /** The index target: the folder and where its index lives (the extension's and the CLI's share one). */
  target: IndexTarget;
  /** Log a line to stderr (stdout is the MCP channel). */
  log: (line: string) => void;
}

/**
 * `hearth mcp`: the folder's code index as an MCP server over stdio (the official `@modelcontextprotocol/sdk`'s
 * low-level `Server`, which takes each tool's JSON Schema as it is), for any agent that speaks MCP (Claude Code,
 * Cline, VS Code's agent mode, llama.vscode's agent). Tools ({@link MCP_TOOLS}): `search_codebase` (hybrid BM25 +
 * vector search, reranked when a reranker is loaded), `read_file`, `list_files`, `grep`, `index_status`,
 * `reindex`. The index is built on the first search when there is none. Arguments are validated with ajv against
 * each tool's schema (an error result names the field); a path outside the folder, absolute or through `..` or a
 * symlink, or a secrets file is refused. Ends when stdin closes.
 * @returns when the client disconnects.
 */
export async function runMcp(sidecar: SidecarProcess, options: McpOptions): Promise<void> {
  const { target, log } = options;
  const server = new Server(
    { name: "hearth", version: typeof HEARTH_VERSION === "string" ? HEARTH_VERSION : "dev" },
    {
      capabilities: { tools: {} },
      instructions:
        `Search and read the code of ${target.root} with Hearth's local index: search_codebase first, then ` +
        "read_file for the lines around a hit.",
    },
  );
  let built: Promise<void> | undefined;
  /** Progress of the build in flight, for whichever requests wait on it (each with its client's progress token). */
  const listeners = new Set<(p: IndexProgressParams) => void>();
  /**
   * Build the index once when it does not exist (or was interrupted), before the first search. Its progress goes to
   * `onProgress` (and to every other request waiting on the same build).
   */
  const ensureIndex = (onProgress?: (p: IndexProgressParams) => void) => {
    if (onProgress) listeners.add(onProgress);
    const build = (built ??= (async () => {
      const status = await sidecar.request("index/status", target);
      if (status.exists && status.complete) return;
      log(`indexing ${target.root}…`);
      const progressId = `mcp-${Date.now()}`;
      const sub = sidecar.onNotification("index/progress", (p) => {
        if (p.progressId === progressId) for (const listener of listeners) listener(p);
      });
      try {
        const r = await sidecar.request("index/build", { ...target, progressId });
        log(`indexed ${r.files} files (${r.chunks} chunks)`);
      } finally {
        sub.dispose();
      }
    })().catch((error: unknown) => {
      built = undefined;
      throw error;
    }));
    return build.finally(() => {
      if (onProgress) listeners.delete(onProgress);
    });
  };

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: MCP_TOOLS.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: optionalArgsSchema(t.parameters),
      annotations: { readOnlyHint: t.readOnly, ...(t.readOnly ? {} : { idempotentHint: true }), openWorldHint: false },
    })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = MCP_TOOLS.find((t) => t.name === request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool '${request.params.name}'.`);
    const ctx: ToolContext = {
      api: sidecar,
      target,
      signal: extra.signal,
      search: async (query, options, signal) => {
        // A first search may build the index (minutes on a large folder): the client hears its progress, which
        // also keeps an MCP client's request timeout from running out meanwhile (MCP's notifications/progress).
        const token = request.params._meta?.progressToken;
        await ensureIndex(
          token === undefined
            ? undefined
            : (p) =>
                void extra
                  .sendNotification({
                    method: "notifications/progress",
                    params: {
                      progressToken: token,
                      progress: p.filesDone,
                      total: p.filesTotal,
                      message: `indexing ${target.root}: ${p.phase}, ${p.filesDone}/${p.filesTotal} files`,
                    },
                  })
                  .catch(() => undefined),
        );
        return sidecar.request("index/search", { ...target, query, ...options }, signal);
      },
    };
    try {
      const output = await tool.run(argsFromOptional(tool, request.params.arguments), ctx);
      if (tool === REINDEX) built = Promise.resolve();
      return {
        content: [{ type: "text" as const, text: output.text }],
        ...(output.data ? { structuredContent: output.data } : {}),
      };
    } catch (error) {
      const text = error instanceof ToolError ? error.message : HearthError.from(error).userMessage;
      return { isError: true, content: [{ type: "text" as const, text }] };
    }
  });

  const transport = new StdioServerTransport(checkedMcpInput(process.stdin, process.stdout, log), process.stdout);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once("end", () => resolve());
  });
  await server.connect(transport);
  log(`serving ${target.root} over stdio (index in ${target.storageDir})`);
  await closed;
  await server.close().catch(() => undefined);
}
