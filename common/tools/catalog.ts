/**
 * Which surface offers which tool: each entry is one definition of `common/tools/`, offered as it is.
 * - the agent: `common/agent/agentTools.ts` (`READ_TOOLS`, `EDIT_TOOLS`);
 * - `hearth mcp`: {@link MCP_TOOLS};
 * - VS Code's language-model tools: {@link LM_TOOLS}, keyed by the names package.json's
 *   `contributes.languageModelTools` declares (`test/unit/toolDefinitions.test.ts` checks their `inputSchema`).
 */
import { INDEX_STATUS, REINDEX } from "./indexTools";
import { GREP, LIST_FILES, READ_FILE, SEARCH_CODEBASE } from "./readTools";

/** The tools `hearth mcp` offers. */
export const MCP_TOOLS = [SEARCH_CODEBASE, READ_FILE, LIST_FILES, GREP, INDEX_STATUS, REINDEX] as const;

/** VS Code's language-model tools by their contributed names. */
export const LM_TOOLS = { hearth_searchCodebase: SEARCH_CODEBASE, hearth_indexStatus: INDEX_STATUS } as const;
