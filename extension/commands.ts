import * as vscode from "vscode";
import type { ChatViewProvider } from "./chat/ChatViewProvider";
import { searchCodeQuickPick } from "./search/searchQuickPick";
import * as handlers from "./commandHandlers";
import { setupModels, type SetupModelsOptions } from "./models/setupModels";
import type { CommandId } from "./commandIds";
import type { CommandContext, CommandHandler } from "./commandContext";

/**
 * Every `hearth.*` command: its id (package.json's, {@link CommandId}: an id without a handler does not compile)
 * → a factory of its handler. One line each; longer bodies are named functions in `commandHandlers.ts`.
 */
const COMMANDS: { [K in CommandId]: (c: CommandContext) => CommandHandler } = {
  "hearth.openChat": (c) => () => c.provider()?.reveal(),
  "hearth.newChat": (c) => () => c.session.newChat(),
  "hearth.showHistory": handlers.showHistory,
  "hearth.importContinue": handlers.importContinue,
  "hearth.startLocalServer": handlers.startLocalServer,
  "hearth.stopLocalServer": (c) => () => c.localServer.stop(),
  "hearth.checkEngines": handlers.checkEngines,
  "hearth.setEngineApiKey": handlers.setEngineApiKey,
  "hearth.setupModels": (c) => (options?: unknown) => setupModels(c, (options ?? {}) as SetupModelsOptions),
  "hearth.selectChatModel": handlers.selectChatModel,
  "hearth.stopGeneration": (c) => () => c.session.stop(),
  "hearth.addSelectionToChat": handlers.addSelectionToChat,
  "hearth.addFileToChat": handlers.addFileToChat,
  "hearth.restartSidecar": handlers.restartSidecar,
  "hearth.showLog": (c) => () => c.log.show(),
  "hearth.showStats": handlers.showStats,
  "hearth.whyNoCompletion": handlers.whyNoCompletion,
  "hearth.toggleCompletions": handlers.toggleCompletions,
  "hearth.searchCode": (c) => (query?: unknown) => searchCodeQuickPick(c.index, typeof query === "string" ? query : ""),
  // Not awaited: indexing reports through the status bar and may take minutes.
  "hearth.indexWorkspace": (c) => () => void c.index.build(),
  "hearth.reindexWorkspace": (c) => () => void c.index.build(true),
  "hearth.pauseIndexing": (c) => () => c.index.pause(),
  "hearth.cancelIndexing": (c) => () => c.index.cancel(),
  "hearth.indexActions": handlers.indexActions,
  "hearth.deleteOldIndexes": handlers.deleteOldIndexes,
  // Actions (prompt files). Not awaited where they end in a review: the diff stays open until the user decides.
  "hearth.explainSelection": (c) => (uri?: unknown, range?: unknown) =>
    void c.actions.run("explain", c.target(uri, range)),
  "hearth.fixSelection": (c) => (uri?: unknown, range?: unknown) => void c.actions.run("fix", c.target(uri, range)),
  "hearth.documentSelection": (c) => (uri?: unknown, range?: unknown) =>
    void c.actions.run("doc", c.target(uri, range)),
  "hearth.generateTests": (c) => (uri?: unknown, range?: unknown) => void c.actions.run("tests", c.target(uri, range)),
  "hearth.editSelection": (c) => (uri?: unknown, range?: unknown) => void c.actions.run("edit", c.target(uri, range)),
  "hearth.askAboutFile": (c) => (uri?: unknown) => void c.actions.run("ask", c.target(uri)),
  "hearth.openChatWithSelection": handlers.openChatWithSelection,
  "hearth.runPrompt": (c) => () => void c.actions.pickAndRun(),
  "hearth.customizePrompt": (c) => () => c.actions.customize(),
  "hearth.acceptEdit": (c) => () => c.actions.review.accept(),
  "hearth.rejectEdit": (c) => () => c.actions.review.reject(),
  "hearth.nextEdit.tab": (c) => () => c.nextEdit.tab(),
  "hearth.nextEdit.dismiss": (c) => () => c.nextEdit.clearHint(),
};

/** The selection (or the whole file when `wholeFile`) of the active editor as a chat attachment. */
function editorAttachment(wholeFile: boolean) {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return undefined;
  const doc = editor.document;
  const rel = vscode.workspace.asRelativePath(doc.uri);
  if (wholeFile || editor.selection.isEmpty) {
    return { label: rel, languageId: doc.languageId, text: doc.getText() };
  }
  const s = editor.selection;
  return {
    label: `${rel}:${s.start.line + 1}-${s.end.line + 1}`,
    languageId: doc.languageId,
    text: doc.getText(s),
  };
}

/**
 * Registers every `hearth.*` command of {@link COMMANDS}. Commands that need the sidecar start it on demand; each
 * failure ends in one actionable message with a Show Log button.
 */
export function registerCommands(
  context: vscode.ExtensionContext,
  deps: Omit<CommandContext, "provider" | "target" | "attachSelection" | "attachFile">,
) {
  let provider: ChatViewProvider | undefined;
  const c: CommandContext = {
    ...deps,
    provider: () => provider,
    target: (uri, range) => ({
      uri: uri instanceof vscode.Uri ? uri : undefined,
      range: range instanceof vscode.Range ? range : undefined,
    }),
    attachSelection: () => {
      const a = editorAttachment(false);
      if (!a) return void vscode.window.showInformationMessage("Hearth: open an editor to attach its selection.");
      deps.session.attach(a);
    },
    attachFile: async () => {
      const a = editorAttachment(true);
      if (!a) return void vscode.window.showInformationMessage("Hearth: open an editor to attach its file.");
      deps.session.attach(a);
    },
  };
  const insertCode = async (code: string) => {
    const editor = vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors[0];
    if (!editor) return void vscode.window.showInformationMessage("Hearth: open an editor to insert the code into.");
    await editor.edit((b) => b.replace(editor.selection, code));
  };
  for (const [id, make] of Object.entries(COMMANDS)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, make(c)));
  }
  return {
    setProvider: (p: ChatViewProvider) => (provider = p),
    viewActions: {
      attachSelection: c.attachSelection,
      attachFile: c.attachFile,
      insertCode,
      applyCode: (code: string) => void deps.actions.applyCode(code),
    },
  };
}
