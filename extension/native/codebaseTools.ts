import * as vscode from "vscode";
import { hitLocation } from "../../common/search/format";
import { HearthError } from "../../shared/errors";
import type { SearchMode } from "../../shared/protocol";
import type { IndexController } from "../search/IndexController";
import type { SidecarClient } from "../sidecar/SidecarClient";

/** Input of `hearth_searchCodebase` (the schema is in package.json's `contributes.languageModelTools`). */
export interface SearchCodebaseInput {
  query: string;
  topK?: number;
  mode?: SearchMode;
}

/**
 * Hearth's code search as VS Code language-model tools (`vscode.lm.registerTool`), for VS Code's agent mode and
 * any extension through `vscode.lm.invokeTool`: `hearth_searchCodebase` (hits with path, line range, symbol,
 * scores and text; `#hearthSearch` in a prompt) and `hearth_indexStatus`. The index builds on first use, with
 * the status bar's progress. Errors come back as the tool's text (the agent reads them), never as a throw.
 */
export function registerCodebaseTools(index: IndexController, sidecar: SidecarClient): vscode.Disposable[] {
  const search: vscode.LanguageModelTool<SearchCodebaseInput> = {
    prepareInvocation: (options) => ({ invocationMessage: `Searching the codebase for "${options.input.query}"` }),
    async invoke(options, token) {
      const { query, topK, mode } = options.input;
      if (typeof query !== "string" || !query.trim()) return text("Give a non-empty 'query'.");
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      try {
        const r = await index.search(query, {
          topK: Math.min(50, Math.max(1, Math.floor(topK ?? 8))),
          ...(mode ? { mode } : {}),
          signal: abort.signal,
        });
        if (!r.hits.length) return text(`No code matches "${query}".`);
        const parts = r.hits.map((h) => {
          const head = `${hitLocation(h)}${h.symbol ? ` ${h.symbol}` : ""} (score ${h.score.toFixed(3)})`;
          return `${head}\n\`\`\`${h.language}\n${h.text}\n\`\`\``;
        });
        return text(parts.join("\n\n"));
      } catch (error) {
        return text(`Hearth's code search failed: ${HearthError.from(error).userMessage}`);
      } finally {
        sub.dispose();
      }
    },
  };
  const status: vscode.LanguageModelTool<Record<string, never>> = {
    async invoke() {
      const target = index.target();
      if (!target) return text("No folder is open, so there is no index.");
      try {
        await sidecar.start();
        const s = await sidecar.request("index/status", target);
        return text(JSON.stringify({ root: target.root, ...s }));
      } catch (error) {
        return text(`Hearth's index status failed: ${HearthError.from(error).userMessage}`);
      }
    },
  };
  return [
    vscode.lm.registerTool("hearth_searchCodebase", search),
    vscode.lm.registerTool("hearth_indexStatus", status),
  ];
}

function text(value: string): vscode.LanguageModelToolResult {
  return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(value)]);
}
