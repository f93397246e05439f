/**
 * Hearth's VS Code entry point. Activation is cheap: it registers the chat view, the commands and the status
 * bar, and creates objects; the sidecar process starts (and a model loads) only on first use, unless
 * `hearth.sidecar.startOnActivation` is set.
 */
import * as vscode from "vscode";
import { ChatHistoryStore } from "../common/chat/ChatHistoryStore";
import { ChatSession } from "./chat/ChatSession";
import { ChatViewProvider } from "./chat/ChatViewProvider";
import { registerCommands } from "./commands";
import { HearthInlineCompletionProvider } from "./completion/InlineCompletionProvider";
import { readConfig } from "./config";
import { ActionController } from "./actions/ActionController";
import { HearthCodeActions } from "./actions/HearthCodeActions";
import { ReviewController } from "./actions/ReviewController";
import { IndexController } from "./search/IndexController";
import { SidecarClient } from "./sidecar/SidecarClient";
import { StatusBar } from "./statusBar";

/** What activation hands to tests (`vscode.extensions.getExtension(...).exports`). */
export interface HearthApi {
  sidecar: SidecarClient;
  session: ChatSession;
  statusBar: StatusBar;
  completions: HearthInlineCompletionProvider;
  index: IndexController;
  actions: ActionController;
}

export function activate(context: vscode.ExtensionContext): HearthApi {
  const log = vscode.window.createOutputChannel("Hearth", { log: true });
  const statusBar = new StatusBar();
  const sidecar = new SidecarClient(context, log, readConfig);
  const historyDir = vscode.Uri.joinPath(context.storageUri ?? context.globalStorageUri, "chats").fsPath;
  const index = new IndexController(sidecar, context.storageUri ?? context.globalStorageUri, log);
  const session = new ChatSession(sidecar, new ChatHistoryStore(historyDir), log, index);
  const completions = new HearthInlineCompletionProvider(sidecar, statusBar, log);
  const review = new ReviewController(log);
  let provider: ChatViewProvider | undefined;
  const actions = new ActionController(sidecar, session, review, log, () => provider?.reveal());
  session.actions = actions;
  const commands = registerCommands(context, { sidecar, session, log, completions, index, actions });
  provider = new ChatViewProvider(context.extensionUri, session, commands.viewActions);
  commands.setProvider(provider);

  context.subscriptions.push(
    log,
    statusBar,
    sidecar,
    session,
    index,
    review,
    actions,
    provider,
    vscode.languages.registerCodeActionsProvider({ scheme: "file" }, new HearthCodeActions(), {
      providedCodeActionKinds: HearthCodeActions.kinds,
    }),
    sidecar.onStatus((s) => statusBar.update(s)),
    vscode.window.registerWebviewViewProvider(ChatViewProvider.viewId, provider, {
      webviewOptions: { retainContextWhenHidden: false },
    }),
    completions,
    vscode.languages.registerInlineCompletionItemProvider({ pattern: "**" }, completions),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("hearth.gpu") || e.affectsConfiguration("hearth.threads")) {
        const cfg = readConfig();
        if (sidecar.running) void sidecar.request("runtime/configure", { gpu: cfg.gpu, threads: cfg.threads });
      }
    }),
  );

  if (readConfig().startOnActivation) {
    const model = readConfig().models.chat;
    void sidecar
      .start()
      .then(() => (model ? session.loadModel(model) : undefined))
      .catch((e) => log.error(String(e)));
  }
  return { sidecar, session, statusBar, completions, index, actions };
}

export function deactivate(): void {
  // Everything is in context.subscriptions; SidecarClient.dispose performs the two-step shutdown.
}
