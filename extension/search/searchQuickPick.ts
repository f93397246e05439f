import * as path from "node:path";
import * as vscode from "vscode";
import { describeScores, hitLocation, searchMethod, snippet } from "../../common/search/format";
import { HearthError } from "../../shared/errors";
import type { SearchHit } from "../../shared/protocol";
import type { IndexController } from "./IndexController";

type HitItem = vscode.QuickPickItem & { hit?: SearchHit };

/** Open a search hit's file with its line range selected. `preview`: a preview tab that keeps focus here. */
export async function openHit(
  root: string,
  hit: Pick<SearchHit, "path" | "startLine" | "endLine">,
  preview = false,
): Promise<void> {
  const uri = vscode.Uri.file(path.join(root, hit.path));
  const range = new vscode.Range(hit.startLine - 1, 0, hit.endLine - 1, Number.MAX_SAFE_INTEGER);
  await vscode.window.showTextDocument(uri, {
    selection: preview ? new vscode.Range(range.start, range.start) : range,
    preview,
    preserveFocus: preview,
  });
  const editor = vscode.window.activeTextEditor;
  if (editor && preview) editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

/**
 * "Hearth: Search Code": a quick pick whose results follow the typed query (debounced 250 ms, earlier
 * requests cancelled), each showing path:lines, symbol, why it ranked there (its scores) and the first code
 * line; moving through results previews them in the editor; Enter jumps to the range.
 */
export async function searchCodeQuickPick(index: IndexController, initial = ""): Promise<void> {
  const target = index.target();
  if (!target) return void vscode.window.showInformationMessage("Hearth: open a folder to search its code.");
  const qp = vscode.window.createQuickPick<HitItem>();
  qp.title = "Hearth: Search Code";
  qp.placeholder = "Describe what you are looking for (e.g. 'where is the config parsed'), or type an identifier";
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  qp.value = initial;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inflight: AbortController | undefined;
  let seq = 0;

  const run = async (query: string) => {
    inflight?.abort();
    if (!query.trim()) {
      qp.items = [];
      qp.busy = false;
      return;
    }
    const mine = ++seq;
    inflight = new AbortController();
    qp.busy = true;
    try {
      const result = await index.search(query, { signal: inflight.signal });
      if (mine !== seq) return;
      qp.items = result.hits.map((hit) => ({
        label: `$(symbol-${hit.symbol ? "method" : "file"}) ${hit.symbol ?? path.basename(hit.path)}`,
        description: hitLocation(hit),
        detail: `${describeScores(hit.scores)}  —  ${snippet(hit.text, 1)[0]?.trim() ?? ""}`,
        // Results are already ranked by the index: keep its order and show every hit.
        alwaysShow: true,
        hit,
      }));
      qp.title = `Hearth: Search Code — ${searchMethod(result)}, ${result.timings.totalMs.toFixed(0)} ms`;
      if (!result.hits.length) qp.items = [{ label: "No results", alwaysShow: true }];
    } catch (error) {
      if (mine !== seq) return;
      const e = HearthError.from(error);
      qp.items = [{ label: "$(warning) Search failed", detail: e.userMessage, alwaysShow: true }];
    } finally {
      if (mine === seq) qp.busy = false;
    }
  };

  qp.onDidChangeValue((value) => {
    clearTimeout(timer);
    timer = setTimeout(() => void run(value), 250);
  });
  qp.onDidChangeActive((items) => {
    const hit = items[0]?.hit;
    if (hit) void openHit(target.root, hit, true);
  });
  qp.onDidAccept(() => {
    const hit = qp.selectedItems[0]?.hit;
    qp.hide();
    if (hit) void openHit(target.root, hit);
  });
  qp.onDidHide(() => {
    clearTimeout(timer);
    inflight?.abort();
    qp.dispose();
  });
  qp.show();
  if (initial) await run(initial);
}
