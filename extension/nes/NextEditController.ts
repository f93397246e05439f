import { createHash } from "node:crypto";
import * as vscode from "vscode";
import { LRUCache } from "lru-cache";
import { EditHistory, type ChangeSource } from "../../common/nes/history";
import type { ModelRoles } from "../../common/models/ModelRoles";
import { HearthError } from "../../shared/errors";
import type { NesEdit, NesPredictResult } from "../../shared/protocol";
import { readConfig } from "../config";
import { roleModelSpec } from "../models/engineSpec";
import type { SidecarClient } from "../sidecar/SidecarClient";

/** The context key the Tab and Escape bindings read: "jump" (a hint elsewhere), "accept" (at the edit), or "". */
export const NES_HINT_CONTEXT = "hearth.nesHint";
/** Lines of the window the sidecar uses (Sweep's 21-line window): the cache key covers exactly these. */
const WINDOW_RADIUS = 10;
/** Predictions kept (by window, cursor line and history). */
const CACHE_ENTRIES = 64;
/** The debounce grows up to this many times the setting while keystrokes keep cancelling requests. */
const MAX_DEBOUNCE_FACTOR = 4;

/** A predicted edit waiting to be shown or accepted, with what it was made against. */
interface Pending {
  uri: string;
  version: number;
  edit: NesEdit;
  /** The lines the edit replaces, as they were (checked again before applying). */
  replaced: string[];
}

/** A ranged suggestion at the cursor (single-line range, possibly multi-line text), stable-API only. */
export interface RangedSuggestion {
  range: vscode.Range;
  text: string;
}

/**
 * Next-edit suggestions in VS Code, on stable API only. Recent edits are tracked cheaply ({@link EditHistory}). A
 * prediction never delays plain completions: the inline-completion provider answers at once from a cache keyed by
 * the window and history, and starts a prediction in the background when it has none (debounced, the older one
 * cancelled); when it comes back for a document and cursor that have not moved, VS Code is asked to query again.
 *
 * - An edit of the cursor line (or lines inserted just below it) is an `InlineCompletionItem` whose range is the
 *   cursor line: VS Code previews the replacement as ghost text, Tab accepts it.
 * - An edit elsewhere is a jump hint: a decoration at the target lines showing the change. Tab (bound only while
 *   the `hearth.nesHint` context key is set, and never over a visible inline or suggest widget) moves there; Tab
 *   again applies it, if those lines are still as they were; Escape dismisses. Any change of the document drops a
 *   hint: a suggestion is never applied to other lines than the ones it was made for.
 */
export class NextEditController implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  readonly history = new EditHistory();
  private readonly cache = new LRUCache<string, NesPredictResult>({ max: CACHE_ENTRIES });
  private readonly disposables: vscode.Disposable[] = [];
  /** The hint: the target lines highlighted, and what to press and the new text after the first one. */
  private readonly hintDecoration = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor("diffEditor.insertedLineBackground"),
  });
  private readonly hintLabel = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor("editorGhostText.foreground"), margin: "0 0 0 2em" },
  });
  private hint: (Pending & { stage: "jump" | "accept" }) | undefined;
  /** The prediction the hint came from. */
  private hintResult: NesPredictResult | undefined;
  private inFlight: { key: string; abort: AbortController } | undefined;
  private debounceFactor = 1;
  /** The text a ranged suggestion would insert, so that its acceptance is known as Hearth's own edit. */
  private offered: { uri: string; text: string } | undefined;
  /** The cursor line last seen, so that only a move to another line asks for a prediction. */
  private lastCursor: { uri: string; line: number } | undefined;
  /** Set while Hearth applies an edit. */
  private applying = false;
  /** What the last prediction did (tests, and *Hearth: Show Stats*). */
  lastResult: (NesPredictResult & { shown: "ranged" | "hint" | "none" }) | undefined;
  /** Requests made, and how many were cancelled by a newer keystroke. */
  readonly stats = { requests: 0, cancelled: 0, cacheHits: 0 };

  constructor(
    private readonly sidecar: SidecarClient,
    private readonly roles: ModelRoles,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.refreshEnabled();
    this.disposables.push(
      this.hintDecoration,
      this.hintLabel,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (
          e.affectsConfiguration("hearth.nes") ||
          e.affectsConfiguration("hearth.models.nes") ||
          e.affectsConfiguration("hearth.engines.nes")
        )
          this.refreshEnabled();
      }),
      vscode.workspace.onDidOpenTextDocument((doc) => this.enabled && this.track(doc)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.history.close(doc.uri.toString())),
      vscode.workspace.onDidChangeTextDocument((e) => this.changed(e)),
      vscode.window.onDidChangeActiveTextEditor(() => this.clearHint()),
      vscode.window.onDidChangeTextEditorSelection((e) => this.moved(e)),
    );
  }

  dispose(): void {
    this.inFlight?.abort.abort();
    void this.setHintContext("");
    for (const d of this.disposables) d.dispose();
  }

  /**
   * Whether next-edit suggestions are on (enabled, with a model). Off, nothing is tracked: the typing path of a user
   * without a next-edit model does no work here, and activation copies no document.
   */
  private enabled = false;

  private refreshEnabled(): void {
    const cfg = readConfig();
    const enabled = cfg.nes.enabled && roleModelSpec("nes", cfg) !== undefined;
    if (enabled && !this.enabled) for (const doc of vscode.workspace.textDocuments) this.track(doc);
    if (!enabled) {
      for (const doc of vscode.workspace.textDocuments) this.history.close(doc.uri.toString());
      this.clearHint();
    }
    this.enabled = enabled;
  }

  private track(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== "file" && doc.uri.scheme !== "untitled") return;
    const text = doc.getText();
    // Large files are not tracked (a generated file, a log): no copy of their lines is kept.
    if (text.length > 1024 * 1024) return;
    this.history.open(doc.uri.toString(), text);
  }

  private changed(e: vscode.TextDocumentChangeEvent): void {
    if (!this.enabled || !e.contentChanges.length) return;
    const uri = e.document.uri.toString();
    let source: ChangeSource = "user";
    if (this.applying) source = "hearth";
    // Typing happens in a visible editor; a change to a document no editor shows (a settings file written by a
    // command, a refactoring's other files) moves its lines but is not the user's edit.
    else if (!vscode.window.visibleTextEditors.some((ed) => ed.document === e.document)) source = "bulk";
    else if (e.reason === vscode.TextDocumentChangeReason.Undo) source = "undo";
    else if (e.reason === vscode.TextDocumentChangeReason.Redo) source = "redo";
    else if (this.offered?.uri === uri && e.contentChanges.some((c) => c.text === this.offered!.text)) {
      source = "hearth"; // a ranged suggestion accepted with Tab
      this.offered = undefined;
    }
    this.history.change(
      this.pathOf(e.document),
      e.contentChanges.map((c) => ({
        startLine: c.range.start.line,
        startColumn: c.range.start.character,
        endLine: c.range.end.line,
        endColumn: c.range.end.character,
        text: c.text,
      })),
      source,
    );
    // A hint was made for the document as it was: any change drops it (never applied to other lines).
    if (this.hint?.uri === uri && !this.applying) this.clearHint();
  }

  /** The history is keyed by URI; prompts show workspace-relative paths. */
  private pathOf(doc: vscode.TextDocument): string {
    return doc.uri.toString();
  }

  private shownPath(doc: vscode.TextDocument): string {
    return vscode.workspace.asRelativePath(doc.uri, false).split("\\").join("/");
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    _context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    if (!this.enabled || token.isCancellationRequested) return undefined;
    const cached = this.lookup(document, position);
    return cached ? this.show(document, position, cached) : undefined;
  }

  /**
   * The prediction for this document and cursor from the cache, or undefined after starting it in the background
   * (unless the same one is running). Undefined too while next-edit suggestions are off or have no model.
   */
  private lookup(document: vscode.TextDocument, position: vscode.Position): NesPredictResult | undefined {
    const cfg = readConfig();
    // Off without a next-edit model: never a silent fallback to another role's model.
    if (!cfg.nes.enabled || !roleModelSpec("nes", cfg)) return undefined;
    const key = this.keyFor(document, position);
    const cached = this.cache.get(key);
    if (cached) {
      this.stats.cacheHits++;
      return cached;
    }
    if (this.inFlight?.key === key) return undefined;
    this.inFlight?.abort.abort();
    const abort = new AbortController();
    this.inFlight = { key, abort };
    void this.predict(document, position, key, abort.signal, cfg.nes).finally(() => {
      if (this.inFlight?.abort === abort) this.inFlight = undefined;
    });
    return undefined;
  }

  /**
   * The cursor moved to another line (by keyboard or mouse): the next edit may be there — Copilot's next-edit
   * suggestions are asked for on cursor moves too. A cached hint is shown; otherwise a prediction starts, and VS
   * Code is asked to query the providers only once it has an answer (so plain completions are not asked per move).
   */
  private moved(e: vscode.TextEditorSelectionChangeEvent): void {
    if (!this.enabled) return;
    const selection = e.selections[0];
    if (!selection || e.selections.length > 1 || !selection.isEmpty) return;
    if (
      e.kind !== vscode.TextEditorSelectionChangeKind.Keyboard &&
      e.kind !== vscode.TextEditorSelectionChangeKind.Mouse
    )
      return;
    const line = selection.active.line;
    const uri = e.textEditor.document.uri.toString();
    const sameLine = this.lastCursor?.uri === uri && this.lastCursor.line === line;
    this.lastCursor = { uri, line };
    const document = e.textEditor.document;
    const hint = this.hint;
    // A hint is looked at on every move, along its line too: an answer that came while the cursor was past the
    // insertion point (a hint then) becomes ghost text once the cursor reaches it.
    if (hint) {
      // Onto the hint's lines: an insertion there becomes ghost text; any other edit waits for Tab to accept.
      const inside =
        hint.uri === uri && line >= hint.edit.startLine && line <= Math.max(hint.edit.startLine, hint.edit.endLine - 1);
      if (!inside) return;
      if (this.ranged(document, selection.active, hint.edit) && document.version === hint.version) {
        const result = this.hintResult;
        this.clearHint();
        if (result) this.cache.set(this.keyFor(document, selection.active), result);
        void vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
      } else if (hint.stage === "jump") {
        hint.stage = "accept";
        this.decorate(e.textEditor, Math.max(hint.edit.startLine, hint.edit.endLine - 1));
        void this.setHintContext("accept");
      }
      return;
    }
    if (sameLine) return;
    const cached = this.lookup(e.textEditor.document, selection.active);
    if (cached?.edit) {
      if (this.ranged(e.textEditor.document, selection.active, cached.edit))
        void vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
      else this.showHint(e.textEditor, cached.edit, cached);
    }
  }

  /** The cache key: the document, the window's lines and where it starts, the cursor line, the history. */
  private keyFor(document: vscode.TextDocument, position: vscode.Position): string {
    const start = Math.max(0, position.line - WINDOW_RADIUS);
    const end = Math.min(document.lineCount, position.line + WINDOW_RADIUS + 1);
    const window = document.getText(new vscode.Range(start, 0, end, 0));
    return createHash("sha256")
      .update(JSON.stringify([document.uri.toString(), start, position.line, window, this.history.recent()]))
      .digest("hex");
  }

  private async predict(
    document: vscode.TextDocument,
    position: vscode.Position,
    key: string,
    signal: AbortSignal,
    cfg: { format: string; debounceMs: number; contextSize: number; timeBudgetMs: number },
  ): Promise<void> {
    const version = document.version;
    await sleep(cfg.debounceMs * this.debounceFactor, signal);
    if (signal.aborted) return this.cancelled();
    try {
      const model = roleModelSpec("nes", readConfig());
      if (!model) return;
      await this.roles.ensure("nes", { model, contextSize: cfg.contextSize });
      if (signal.aborted) return this.cancelled();
      this.stats.requests++;
      const result = await this.sidecar.request(
        "nes/predict",
        {
          path: this.shownPath(document),
          text: document.getText(),
          line: position.line,
          column: position.character,
          history: this.history.recent().map((e) => ({ ...e, path: this.relative(e.path) })),
          format: cfg.format as "auto",
          windowRadius: WINDOW_RADIUS,
          timeBudgetMs: cfg.timeBudgetMs,
        },
        signal,
      );
      if (signal.aborted || result.reason === "cancelled") return this.cancelled();
      this.debounceFactor = Math.max(1, this.debounceFactor / 1.5);
      this.cache.set(key, result);
      this.lastResult = { ...result, shown: "none" };
      this.log.debug(
        `Next edit: ${result.reason}${result.edit ? ` at lines ${result.edit.startLine + 1}–${result.edit.endLine}` : ""} (${result.format}, ${result.timings.totalMs} ms)`,
      );
      // Shown only for the document and cursor line it was made for (the cursor may have moved along the line).
      const editor = vscode.window.activeTextEditor;
      if (!result.edit || document.version !== version || editor?.document !== document) return;
      const cursor = editor.selection.active;
      if (cursor.line !== position.line || !editor.selection.isEmpty) return;
      if (this.ranged(document, cursor, result.edit)) {
        await vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
      } else {
        this.showHint(editor, result.edit, result);
      }
    } catch (error) {
      if (signal.aborted) return this.cancelled();
      const e = HearthError.from(error);
      this.log.warn(`Next edit failed (${e.code}): ${e.message}`);
    }
  }

  private cancelled(): void {
    this.stats.cancelled++;
    this.debounceFactor = Math.min(MAX_DEBOUNCE_FACTOR, this.debounceFactor * 1.5);
  }

  private relative(uri: string): string {
    try {
      return vscode.workspace.asRelativePath(vscode.Uri.parse(uri), false).split("\\").join("/");
    } catch {
      return uri;
    }
  }

  /** A cached prediction at the cursor: a ranged item, or a hint (set aside, nothing returned). */
  private show(
    document: vscode.TextDocument,
    position: vscode.Position,
    result: NesPredictResult,
  ): vscode.InlineCompletionItem[] | undefined {
    if (!result.edit) return undefined;
    const ranged = this.ranged(document, position, result.edit);
    if (ranged) {
      if (this.lastResult) this.lastResult.shown = "ranged";
      this.offered = { uri: document.uri.toString(), text: ranged.text };
      const item = new vscode.InlineCompletionItem(ranged.text, ranged.range);
      // Always shown: the text it replaces (the cursor line) is where the filter text starts.
      item.filterText = document.getText(ranged.range) + ranged.text;
      return [item];
    }
    const editor = vscode.window.activeTextEditor;
    if (editor?.document === document && !this.hint) this.showHint(editor, result.edit, result);
    return undefined;
  }

  /**
   * The ranged form of an edit, when VS Code can preview it as ghost text (stable API: a single-line range, and
   * ghost text only inserts): the cursor line rewritten by insertions at or after the cursor (its old text kept, in
   * order, with lines possibly added after it), or lines inserted right below it. Undefined for any other edit,
   * which is shown as a hint instead.
   */
  ranged(document: vscode.TextDocument, position: vscode.Position, edit: NesEdit): RangedSuggestion | undefined {
    const line = position.line;
    const added = edit.text.replace(/\n$/, "");
    const old = document.lineAt(line).text;
    if (edit.startLine === line && edit.endLine === line + 1 && edit.text) {
      const first = added.split("\n")[0]!;
      let head = 0;
      while (head < old.length && old[head] === first[head]) head++;
      let tail = 0;
      while (tail < old.length - head && old[old.length - 1 - tail] === first[first.length - 1 - tail]) tail++;
      const onlyInserts = head + tail >= old.length && first.length >= old.length;
      if (!onlyInserts || head < position.character) return undefined;
      return { range: new vscode.Range(line, 0, line, old.length), text: added };
    }
    if (edit.startLine === line + 1 && edit.endLine === line + 1 && edit.text) {
      const end = new vscode.Position(line, old.length);
      return { range: new vscode.Range(end, end), text: `\n${added}` };
    }
    return undefined;
  }

  private showHint(editor: vscode.TextEditor, edit: NesEdit, result?: NesPredictResult): void {
    const document = editor.document;
    const last = Math.min(document.lineCount - 1, Math.max(edit.startLine, edit.endLine - 1));
    const replaced = [];
    for (let l = edit.startLine; l < edit.endLine; l++) replaced.push(document.lineAt(l).text);
    // An edit of the cursor's own lines needs no jump: Tab accepts it at once.
    const cursor = editor.selection.active.line;
    const here = cursor >= edit.startLine && cursor <= Math.max(edit.startLine, edit.endLine - 1);
    const stage = here ? "accept" : "jump";
    this.hint = { uri: document.uri.toString(), version: document.version, edit, replaced, stage };
    this.hintResult = result;
    if (this.lastResult) this.lastResult.shown = "hint";
    this.decorate(editor, last);
    void this.setHintContext(stage);
  }

  private decorate(editor: vscode.TextEditor, last: number): void {
    const hint = this.hint!;
    const first = hint.edit.text.split("\n")[0] ?? "";
    const summary = hint.edit.text === "" ? "delete these lines" : first.trim().slice(0, 80);
    const key = hint.stage === "jump" ? "Tab: go to the next edit" : "Tab: accept, Esc: dismiss";
    const target = new vscode.Range(hint.edit.startLine, 0, Math.max(hint.edit.startLine, last), 0);
    const firstEnd = editor.document.lineAt(Math.min(hint.edit.startLine, editor.document.lineCount - 1)).range.end;
    editor.setDecorations(this.hintDecoration, [target]);
    editor.setDecorations(this.hintLabel, [
      {
        range: new vscode.Range(firstEnd, firstEnd),
        renderOptions: { after: { contentText: `⇥ ${key} — ${summary}` } },
      },
    ]);
  }

  /** The hint now (tests). */
  get pendingHint(): { stage: "jump" | "accept"; edit: NesEdit } | undefined {
    return this.hint ? { stage: this.hint.stage, edit: this.hint.edit } : undefined;
  }

  /** Tab with a hint: jump to it, or (at it) apply it. */
  async tab(): Promise<void> {
    const hint = this.hint;
    const editor = vscode.window.activeTextEditor;
    if (!hint || !editor || editor.document.uri.toString() !== hint.uri) return this.clearHint();
    if (hint.stage === "jump") {
      const at = new vscode.Position(hint.edit.startLine, 0);
      editor.selection = new vscode.Selection(at, at);
      editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      hint.stage = "accept";
      this.decorate(editor, Math.max(hint.edit.startLine, hint.edit.endLine - 1));
      await this.setHintContext("accept");
      return;
    }
    // Applied only to the lines it was made for, as they were.
    const doc = editor.document;
    const still =
      doc.version === hint.version &&
      hint.replaced.every(
        (text, i) => hint.edit.startLine + i < doc.lineCount && doc.lineAt(hint.edit.startLine + i).text === text,
      );
    this.clearHint();
    if (!still) return;
    const edit = new vscode.WorkspaceEdit();
    const range =
      hint.edit.endLine < doc.lineCount
        ? new vscode.Range(hint.edit.startLine, 0, hint.edit.endLine, 0)
        : new vscode.Range(hint.edit.startLine, 0, doc.lineCount - 1, doc.lineAt(doc.lineCount - 1).text.length);
    const text = hint.edit.endLine < doc.lineCount ? hint.edit.text : hint.edit.text.replace(/\n$/, "");
    edit.replace(doc.uri, range, text);
    this.applying = true;
    try {
      await vscode.workspace.applyEdit(edit);
    } finally {
      this.applying = false;
    }
  }

  /** Escape with a hint, or any change under it. */
  clearHint(): void {
    if (!this.hint) return;
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === this.hint!.uri);
    editor?.setDecorations(this.hintDecoration, []);
    editor?.setDecorations(this.hintLabel, []);
    this.hint = undefined;
    void this.setHintContext("");
  }

  private setHintContext(value: "jump" | "accept" | ""): Thenable<unknown> {
    return vscode.commands.executeCommand("setContext", NES_HINT_CONTEXT, value);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
