import * as path from "node:path";
import * as vscode from "vscode";
import { runAction, type ActionInput } from "../../common/actions/runAction";
import { insideRoot } from "../../shared/workspacePath";
import { RESERVED_PROMPT_NAMES } from "../../common/actions/loadPrompts";
import { BUILTIN_PROMPT_FILES } from "../../common/actions/builtinPrompts";
import { mergePrompts, PromptFileError, type PromptSpec } from "../../common/actions/promptFiles";
import type { SlashResult } from "../../common/chat/slashCommands";
import { HearthError } from "../../shared/errors";
import { ErrorCodes } from "../../shared/protocol";
import { readConfig } from "../config";
import type { SidecarClient } from "../sidecar/SidecarClient";
import type { ReviewController, ReviewOutcome } from "./ReviewController";

/** Where a run was aimed; commands from code actions pass the document and range, the palette uses the editor. */
export interface ActionTarget {
  uri?: vscode.Uri;
  range?: vscode.Range;
  /** Answer to the prompt's `input` question (otherwise asked with an input box). */
  input?: string;
}

/** What actions need of the chat: a chat model, and a place to send a prompt's message with its context. */
export interface ChatSink {
  /** Make sure a chat model is loaded, telling the user how to pick one when none is set. */
  ensureModelLoaded(): Promise<boolean>;
  /** Send `message` as the user's turn with `context` the model sees before it. */
  sendWithContext(message: string, context: string): Promise<void>;
}

/** What a run ended with: a chat message sent, a review outcome, or nothing (cancelled / not possible). */
export type ActionResult = "chat" | ReviewOutcome | undefined;

/**
 * Runs prompts — the built-in actions (explain, fix, doc, tests, edit, ask) and the workspace's
 * `.hearth/prompts/*.md` — on the active editor: chat prompts stream into the chat view; edits and new files
 * are generated as JSON (grammar-constrained) and handed to the {@link ReviewController} as a diff to accept
 * or reject. Also serves the prompts as chat slash commands and the chat's "Apply" on code blocks.
 */
export class ActionController implements vscode.Disposable {
  private cache?: Promise<{ prompts: PromptSpec[]; errors: PromptFileError[] }>;
  private reported = "";
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly sidecar: SidecarClient,
    private readonly chat: ChatSink,
    readonly review: ReviewController,
    private readonly log: vscode.LogOutputChannel,
    private readonly revealChat: () => Thenable<void> | void,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher("**/.hearth/prompts/*.md");
    const reset = () => (this.cache = undefined);
    this.disposables.push(
      watcher,
      watcher.onDidChange(reset),
      watcher.onDidCreate(reset),
      watcher.onDidDelete(reset),
      // Trusting the workspace brings its prompt files in.
      vscode.workspace.onDidGrantWorkspaceTrust(reset),
    );
  }

  /** The workspace's prompt folder; none in an untrusted workspace (a cloned repository's prompts are not used). */
  private promptsDir(): vscode.Uri | undefined {
    if (!vscode.workspace.isTrusted) return undefined;
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder ? vscode.Uri.joinPath(folder.uri, ".hearth", "prompts") : undefined;
  }

  /**
   * Built-in prompts merged with the workspace's prompt files (re-read when one changes; only in a trusted
   * workspace). Errors are logged.
   */
  prompts(): Promise<{ prompts: PromptSpec[]; errors: PromptFileError[] }> {
    this.cache ??= (async () => {
      const dir = this.promptsDir();
      const files: Array<[string, string]> = [];
      const unreadable: PromptFileError[] = [];
      if (dir) {
        const entries = await vscode.workspace.fs.readDirectory(dir).then(
          (e) => e,
          () => [] as [string, vscode.FileType][],
        );
        for (const [name, type] of entries) {
          if (type !== vscode.FileType.File || !name.endsWith(".md")) continue;
          const uri = vscode.Uri.joinPath(dir, name);
          const rel = vscode.workspace.asRelativePath(uri);
          // A file that cannot be read is that file's error; the others and the built-ins still load.
          await vscode.workspace.fs.readFile(uri).then(
            (bytes) => files.push([rel, Buffer.from(bytes).toString("utf8")]),
            (e: unknown) => unreadable.push(new PromptFileError(rel, 1, `cannot be read: ${String(e)}`)),
          );
        }
      }
      const merged = mergePrompts(files, RESERVED_PROMPT_NAMES);
      const result = { prompts: merged.prompts, errors: [...unreadable, ...merged.errors] };
      const report = result.errors.map((e) => e.message).join("\n");
      if (report && report !== this.reported) {
        for (const e of result.errors) this.log.warn(`Prompt file not loaded: ${e.message}`);
        const first = result.errors[0]!;
        void vscode.window.showWarningMessage(`Hearth: ${first.message}`, "Open File").then(async (c) => {
          const folder = vscode.workspace.workspaceFolders?.[0];
          if (c && folder) {
            const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, first.file));
            const line = Math.max(0, first.line - 1);
            await vscode.window.showTextDocument(doc, { selection: new vscode.Range(line, 0, line, 0) });
          }
        });
      }
      this.reported = report;
      return result;
    })();
    // A failure is not cached: the next call reads the folder again.
    const cached = this.cache;
    cached.catch(() => {
      if (this.cache === cached) this.cache = undefined;
    });
    return cached;
  }

  /** The editor state for a prompt: document, selection (or `target.range`), diagnostics in range. */
  private async inputFor(
    spec: PromptSpec,
    target: ActionTarget,
  ): Promise<{ doc: vscode.TextDocument; input: ActionInput } | undefined> {
    const editor = vscode.window.activeTextEditor;
    const doc = target.uri ? await vscode.workspace.openTextDocument(target.uri) : editor?.document;
    if (!doc) {
      void vscode.window.showInformationMessage(`Hearth: open a file to run '${spec.name}' on it.`);
      return undefined;
    }
    const range = target.range ?? (editor?.document === doc ? editor.selection : new vscode.Range(0, 0, 0, 0));
    const diagnostics = vscode.languages
      .getDiagnostics(doc.uri)
      .filter((d) => range.isEmpty || d.range.intersection(range))
      .map(
        (d) => `line ${d.range.start.line + 1}: ${vscode.DiagnosticSeverity[d.severity].toLowerCase()}: ${d.message}`,
      )
      .join("\n");
    let input = target.input;
    if (spec.input && input === undefined) {
      input = await vscode.window.showInputBox({
        title: `Hearth: ${spec.name}`,
        prompt: spec.input,
        ignoreFocusOut: true,
      });
      if (input === undefined) return undefined;
    }
    return {
      doc,
      input: {
        path: vscode.workspace.asRelativePath(doc.uri),
        language: doc.languageId,
        text: doc.getText(),
        selection: { start: doc.offsetAt(range.start), end: doc.offsetAt(range.end) },
        diagnostics,
        input,
      },
    };
  }

  /**
   * Run the prompt `name` on the editor (or `target`). Chat prompts go to the chat; the others open a diff to
   * review, and the returned promise settles when the user accepts or rejects it.
   */
  async run(name: string, target: ActionTarget = {}): Promise<ActionResult> {
    const spec = (await this.prompts()).prompts.find((p) => p.name === name);
    if (!spec) {
      void vscode.window.showErrorMessage(`Hearth: no prompt named '${name}'.`);
      return undefined;
    }
    const found = await this.inputFor(spec, target);
    if (!found) return undefined;
    const { doc, input } = found;
    if (!(await this.chat.ensureModelLoaded())) return undefined;
    const lines =
      input.selection.start === input.selection.end
        ? ""
        : `:${doc.positionAt(input.selection.start).line + 1}-${doc.positionAt(input.selection.end).line + 1}`;
    const cfg = readConfig();
    try {
      if (spec.mode === "chat") {
        const outcome = await runAction(this.sidecar, spec, input);
        if (outcome.kind !== "chat") return undefined;
        await this.revealChat();
        await this.chat.sendWithContext(
          `/${spec.name} ${input.path}${lines}${input.input ? ` ${input.input}` : ""}`,
          outcome.prompt,
        );
        return "chat";
      }
      const outcome = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `Hearth: ${spec.name} ${input.path}${lines}…`,
          cancellable: true,
        },
        (_progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          return runAction(this.sidecar, spec, input, {
            params: { maxTokens: cfg.actions.maxTokens, temperature: cfg.actions.temperature },
            signal: abort.signal,
          });
        },
      );
      if (outcome.kind === "edit") {
        return this.review.propose({
          target: doc.uri,
          kind: "edit",
          proposal: outcome.proposal,
          title: `${spec.name}: ${input.path}${lines}`,
        });
      }
      if (outcome.kind === "newFile") {
        const file = await freeSibling(doc.uri, outcome.fileName);
        const content = outcome.content.endsWith("\n") ? outcome.content : `${outcome.content}\n`;
        return this.review.propose({
          target: file,
          kind: "newFile",
          proposal: { original: "", start: 0, end: 0, newText: content },
          title: `${spec.name}: new file ${vscode.workspace.asRelativePath(file)}`,
        });
      }
    } catch (error) {
      const e = HearthError.from(error);
      if (e.code === ErrorCodes.Cancelled) return undefined;
      this.log.error(`Action '${spec.name}' failed (${e.code}): ${e.message}`);
      void vscode.window.showErrorMessage(`Hearth: ${e.userMessage}`, "Show Log").then((c) => c && this.log.show());
    }
    return undefined;
  }

  /** A prompt typed as a slash command in the chat (`/explain`, `/edit make it async`): runs on the editor. */
  async runFromChat(spec: PromptSpec, rest: string): Promise<SlashResult> {
    const result = await this.run(spec.name, { input: spec.input ? rest || undefined : undefined });
    if (result === undefined)
      return { output: `/${spec.name}: nothing to do (no editor, cancelled, or failed; see the log).`, isError: true };
    if (result === "chat") return { output: "" };
    return { output: `/${spec.name}: proposed edit ${result}.` };
  }

  /** "Run Prompt…": every prompt in a quick pick, with its description and where it is defined. */
  async pickAndRun(): Promise<ActionResult> {
    const { prompts } = await this.prompts();
    const pick = await vscode.window.showQuickPick(
      prompts.map((p) => ({
        label: p.name,
        description: p.description,
        detail: p.source.startsWith("builtin:") ? "built-in" : p.source,
        name: p.name,
      })),
      { title: "Hearth: Run Prompt", placeHolder: "Prompts from .hearth/prompts/*.md and the built-in actions" },
    );
    return pick ? this.run(pick.name) : undefined;
  }

  /** Copy a built-in prompt into `.hearth/prompts/` so the user can edit it (it then overrides the built-in). */
  async customize(): Promise<void> {
    const dir = this.promptsDir();
    if (!dir) return void vscode.window.showInformationMessage("Hearth: open a folder to keep prompt files in it.");
    const pick = await vscode.window.showQuickPick(
      Object.keys(BUILTIN_PROMPT_FILES).map((f) => ({ label: f.replace(/\.md$/, ""), file: f })),
      {
        title: "Hearth: Customize Prompt",
        placeHolder: "A built-in prompt to copy into .hearth/prompts/",
      },
    );
    if (!pick) return;
    const uri = vscode.Uri.joinPath(dir, pick.file);
    const exists = await vscode.workspace.fs.stat(uri).then(
      () => true,
      () => false,
    );
    if (!exists) await vscode.workspace.fs.writeFile(uri, Buffer.from(BUILTIN_PROMPT_FILES[pick.file] ?? "", "utf8"));
    this.cache = undefined;
    await vscode.window.showTextDocument(uri);
  }

  /**
   * The chat's "Apply" on a code block: replace the file the block names (a first line `// file: path`,
   * `# file: path` or `// path.ext`) or else the active editor's selection (the whole file when nothing is
   * selected), through the same reviewed diff.
   */
  async applyCode(code: string): Promise<ActionResult> {
    const first = code.split("\n")[0]!;
    const named = /^\s*(?:\/\/|#|--|\/\*)\s*(?:file:\s*)?([\w./-]+\.[A-Za-z0-9]+)\s*(?:\*\/)?\s*$/.exec(first)?.[1];
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (named && folder) {
      const inside = insideRoot(folder.uri.fsPath, named);
      if (!inside) {
        void vscode.window.showErrorMessage(
          `Hearth: the code block names '${named}', which is outside the workspace; Apply edits only files inside it.`,
        );
        return undefined;
      }
      const uri = vscode.Uri.file(inside);
      const exists = await vscode.workspace.fs.stat(uri).then(
        () => true,
        () => false,
      );
      if (exists) {
        const doc = await vscode.workspace.openTextDocument(uri);
        const body = code.slice(first.length + 1);
        return this.review.propose({
          target: uri,
          kind: "edit",
          proposal: { original: doc.getText(), start: 0, end: doc.getText().length, newText: body },
          title: `Apply to ${named}`,
        });
      }
    }
    const editor = vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors[0];
    if (!editor) {
      void vscode.window.showInformationMessage(
        "Hearth: open the file to apply the code to (or select the code to replace).",
      );
      return undefined;
    }
    const doc = editor.document;
    const text = doc.getText();
    const sel = editor.selection;
    const start = sel.isEmpty ? 0 : doc.offsetAt(sel.start);
    const end = sel.isEmpty ? text.length : doc.offsetAt(sel.end);
    return this.review.propose({
      target: doc.uri,
      kind: "edit",
      proposal: { original: text, start, end, newText: code },
      title: `Apply to ${vscode.workspace.asRelativePath(doc.uri)}${sel.isEmpty ? "" : `:${sel.start.line + 1}-${sel.end.line + 1}`}`,
    });
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}

/** `dir/name`, or `dir/name-2.ext`, `-3`… when taken. */
async function freeSibling(source: vscode.Uri, fileName: string): Promise<vscode.Uri> {
  const dir =
    source.scheme === "file"
      ? vscode.Uri.file(path.dirname(source.fsPath))
      : (vscode.workspace.workspaceFolders?.[0]?.uri ?? source);
  const ext = path.extname(fileName);
  const base = fileName.slice(0, fileName.length - ext.length);
  for (let i = 1; ; i++) {
    const uri = vscode.Uri.joinPath(dir, i === 1 ? fileName : `${base}-${i}${ext}`);
    const taken = await vscode.workspace.fs.stat(uri).then(
      () => true,
      () => false,
    );
    if (!taken) return uri;
  }
}
