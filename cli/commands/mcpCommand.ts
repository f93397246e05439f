import path from "node:path";
import { defaultIndexDir } from "../../common/search/format";
import { defineCommand } from "../command";
import { runMcp } from "../mcp";
import { ENGINE_OPTIONS, INDEX_DIR_OPTIONS, RUNTIME_OPTIONS, SEARCH_MODEL_OPTIONS } from "../options";
import { CliSession } from "../session";
import { terminalSafe } from "../terminal";

/** `hearth mcp`: a folder's code index as an MCP server over stdio. */
export const mcpCommand = defineCommand({
  name: "mcp",
  usage: "[<dir>] [--embedding-model <m>] [--rerank-model <m>] [--index-dir <dir>]",
  summary: "a folder's code index as an MCP server over stdio, for agents",
  description: `The folder's code index (default: the current one) as an MCP server over stdio, for agents: tools
search_codebase, read_file, list_files, grep, index_status, reindex (the agent's own tool definitions). Builds the
index on the first search.`,
  options: {
    ...INDEX_DIR_OPTIONS,
    ...SEARCH_MODEL_OPTIONS,
    "engine-kind": ENGINE_OPTIONS["engine-kind"],
    "engine-key-env": ENGINE_OPTIONS["engine-key-env"],
    ...RUNTIME_OPTIONS,
  },
  maxPositionals: 1,
  async run(values, [dir]) {
    const root = path.resolve(dir ?? process.cwd());
    const storageDir = path.resolve(values["index-dir"] ?? defaultIndexDir(root));
    const session = new CliSession(values, { oneShot: true });
    return session.run(async () => {
      await session.startWithSearchRoles();
      await runMcp(session.sidecar, {
        target: { root, storageDir },
        log: (line) => process.stderr.write(`hearth mcp: ${terminalSafe(line)}\n`),
      });
      return 0;
    });
  },
});
