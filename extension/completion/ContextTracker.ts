import * as vscode from "vscode";
import type { ContextSnippet } from "../../common/completion/CompletionEngine";

interface Entry {
  uri: string;
  start: number;
  end: number;
}

const RING_SIZE = 8;
const MAX_LINES = 30;
const IMPORT_LINE =
  /^\s*(import\b|export\s+\*?\s*\{?.*\bfrom\b|from\s+\S+\s+import\b|#include\b|using\s+[\w.]+;|require\(|use\s+[\w:]+)/;

/**
 * Recently edited and viewed ranges of files, kept in a small ring buffer (newest first, one entry per
 * overlapping range), offered to the completion model as context from other files — plus the current file's
 * imports when the prompt window no longer reaches the top of the file.
 */
export class ContextTracker implements vscode.Disposable {
  private ring: Entry[] = [];
  private readonly subscriptions: vscode.Disposable[];

  constructor() {
    this.subscriptions = [
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.scheme !== "file" && e.document.uri.scheme !== "untitled") return;
        for (const change of e.contentChanges) {
          this.remember(e.document.uri.toString(), change.range.start.line - 3, change.range.start.line + 3);
        }
      }),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => {
        const range = e.visibleRanges[0];
        if (range && e.textEditor.document.uri.scheme === "file") {
          this.remember(e.textEditor.document.uri.toString(), range.start.line, range.end.line);
        }
      }),
    ];
  }

  /** Record a line range (clamped to MAX_LINES around its middle), replacing overlapping entries of the file. */
  remember(uri: string, start: number, end: number): void {
    if (end - start > MAX_LINES) {
      const mid = Math.floor((start + end) / 2);
      start = mid - MAX_LINES / 2;
      end = mid + MAX_LINES / 2;
    }
    const entry = { uri, start: Math.max(0, start), end };
    this.ring = [entry, ...this.ring.filter((r) => r.uri !== uri || r.end < entry.start || r.start > entry.end)].slice(
      0,
      RING_SIZE,
    );
  }

  /**
   * Snippets for a completion in `document`: ranges of other open files, newest first, and the document's import
   * lines when the prompt starts below them (`promptStartOffset` > 0).
   */
  snippets(document: vscode.TextDocument, promptStartOffset: number): ContextSnippet[] {
    const out: ContextSnippet[] = [];
    const current = document.uri.toString();
    for (const entry of this.ring) {
      if (entry.uri === current) continue;
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === entry.uri);
      if (!doc) continue;
      const end = Math.min(entry.end, doc.lineCount - 1);
      if (end < entry.start) continue;
      const text = doc.getText(new vscode.Range(entry.start, 0, end, doc.lineAt(end).text.length)).trim();
      if (text) out.push({ path: vscode.workspace.asRelativePath(doc.uri), text });
    }
    if (promptStartOffset > 0) {
      const head = document.getText(new vscode.Range(0, 0, Math.min(document.lineCount, 200), 0)).split("\n");
      const imports = head.filter((l) => IMPORT_LINE.test(l));
      if (imports.length)
        out.push({ path: `${vscode.workspace.asRelativePath(document.uri)} (imports)`, text: imports.join("\n") });
    }
    return out.reverse(); // Newest last: nearest to the cursor in the prompt.
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
  }
}
