import * as vscode from "vscode";
import { argsFromOptional, ToolError, type ToolContext, type ToolDefinition } from "../../common/tools/definition";
import { LM_TOOLS } from "../../common/tools/catalog";
import { HearthError } from "../../shared/errors";
import type { IndexController } from "../search/IndexController";
import type { SidecarClient } from "../sidecar/SidecarClient";

/**
 * Hearth's code search as VS Code language-model tools (`vscode.lm.registerTool`), for VS Code's agent mode and
 * any extension through `vscode.lm.invokeTool`: `hearth_searchCodebase` (`#hearthSearch` in a prompt) and
 * `hearth_indexStatus`, each the one definition of `common/tools/` that the agent and `hearth mcp` use too. The
 * index builds on first use, with the status bar's progress. Errors come back as the tool's text (the agent
 * reads them), never as a throw.
 */
export function registerCodebaseTools(index: IndexController, sidecar: SidecarClient): vscode.Disposable[] {
  return Object.entries(LM_TOOLS).map(([name, tool]) =>
    vscode.lm.registerTool<Record<string, unknown>>(name, lmTool(tool, index, sidecar)),
  );
}

/** One definition as a VS Code language-model tool. */
function lmTool(
  tool: ToolDefinition,
  index: IndexController,
  sidecar: SidecarClient,
): vscode.LanguageModelTool<Record<string, unknown>> {
  return {
    prepareInvocation: (options) => ({
      invocationMessage:
        typeof options.input["query"] === "string" ? `${tool.title}: "${options.input["query"]}"` : tool.title,
    }),
    async invoke(options, token) {
      const target = index.target();
      if (!target) return text("No folder is open, so there is no index.");
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      try {
        await sidecar.start();
        const ctx: ToolContext = {
          api: sidecar,
          target,
          signal: abort.signal,
          search: (query, searchOptions, signal) => index.search(query, { ...searchOptions, signal }),
        };
        return text((await tool.run(argsFromOptional(tool, options.input), ctx)).text);
      } catch (error) {
        if (error instanceof ToolError) return text(error.message);
        return text(`Hearth's ${tool.title.toLowerCase()} failed: ${HearthError.from(error).userMessage}`);
      } finally {
        sub.dispose();
      }
    },
  };
}

function text(value: string): vscode.LanguageModelToolResult {
  return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(value)]);
}
