/**
 * Hearth's VS Code entry point. Activation is cheap: it registers the chat view, the commands and the status
 * bar, and creates objects; the sidecar process starts (and a model loads) only on first use, unless
 * `hearth.sidecar.startOnActivation` is set.
 */
import { LocalApiServer } from "./serve/LocalApiServer";
import { registerCodebaseTools } from "./native/codebaseTools";
import { registerHearthParticipant } from "./native/hearthParticipant";
import { mcpLaunch, registerMcpProvider, type McpLaunch } from "./native/mcpProvider";
import { registerChatProvider } from "./native/chatProvider";
import * as vscode from "vscode";
import { MODEL_ROLES } from "../shared/protocol";
import { ChatHistoryStore } from "../common/chat/ChatHistoryStore";
import { ChatSession } from "./chat/ChatSession";
import { ModelRoles } from "../common/models/ModelRoles";
import { ChatViewProvider } from "./chat/ChatViewProvider";
import { registerCommands } from "./commands";
import { HearthInlineCompletionProvider } from "./completion/InlineCompletionProvider";
import { NextEditController } from "./nes/NextEditController";
import { readConfig } from "./config";
import { EngineKeys } from "./models/engineSpec";
import { ActionController } from "./actions/ActionController";
import { HearthCodeActions } from "./actions/HearthCodeActions";
import { ReviewController } from "./actions/ReviewController";
import { IndexController } from "./search/IndexController";
import { SidecarClient } from "./sidecar/SidecarClient";
import { StatusBar } from "./statusBar";

/** What activation hands to tests (`vscode.extensions.getExtension(...).exports`). */
export interface HearthApi {
  sidecar: SidecarClient;
  /** The model roles (which model and engine each role runs), for tests and other extensions. */
  roles: ModelRoles;
  session: ChatSession;
  statusBar: StatusBar;
  completions: HearthInlineCompletionProvider;
  /** Next-edit suggestions (the edit history, the last prediction, the jump hint). */
  nextEdit: NextEditController;
  index: IndexController;
  actions: ActionController;
  /** How `hearth mcp` is started for this window's workspace (what VS Code's MCP client is offered). */
  mcpLaunch: () => McpLaunch | undefined;
}

export function activate(context: vscode.ExtensionContext): HearthApi {
  const log = vscode.window.createOutputChannel("Hearth", { log: true });
  const statusBar = new StatusBar();
  const sidecar = new SidecarClient(context, log, readConfig);
  const historyDir = vscode.Uri.joinPath(context.storageUri ?? context.globalStorageUri, "chats").fsPath;
  // The one owner of model roles: features ask it for their model; after a crash it reloads what was loaded.
  const roles = new ModelRoles(sidecar);
  const index = new IndexController(sidecar, roles, context.storageUri ?? context.globalStorageUri, log);
  const completions = new HearthInlineCompletionProvider(sidecar, roles, statusBar, log);
  const nextEdit = new NextEditController(sidecar, roles, log);
  const review = new ReviewController(log);
  let provider: ChatViewProvider | undefined;
  // Actions send to the chat and the chat runs prompt files as commands: each sees only the interface it needs,
  // and the closures are called after both exist.
  const actions: ActionController = new ActionController(
    sidecar,
    {
      ensureModelLoaded: () => session.ensureModelLoaded(),
      sendWithContext: (message, extra) => session.sendWithContext(message, extra),
    },
    review,
    log,
    () => provider?.reveal(),
  );
  const session: ChatSession = new ChatSession(sidecar, roles, new ChatHistoryStore(historyDir), log, {
    index,
    prompts: actions,
    review,
  });
  const localServer = new LocalApiServer(sidecar, roles, log);
  // VS Code's own chat and agents: Hearth's code search as tools, and the @hearth participant.
  const native = [
    ...registerCodebaseTools(index, sidecar),
    registerHearthParticipant(context, { sidecar, roles, index }),
    registerMcpProvider(context, index),
    registerChatProvider(sidecar, roles),
  ];
  const commands = registerCommands(context, {
    sidecar,
    roles,
    session,
    log,
    completions,
    nextEdit,
    index,
    actions,
    localServer,
  });
  provider = new ChatViewProvider(context.extensionUri, session, index, commands.viewActions);
  commands.setProvider(provider);

  context.subscriptions.push(
    ...native,
    localServer,
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
    sidecar.onStatus((s) => {
      statusBar.update(s);
      // A sidecar that stopped has no model any more; a crashed one is restarted and reloaded below.
      if (s.state === "idle") roles.forget();
    }),
    sidecar.onRestarted(
      () =>
        void roles.restarted((role, e) => log.warn(`Reloading the ${role} model after a restart failed: ${String(e)}`)),
    ),
    vscode.window.registerWebviewViewProvider(ChatViewProvider.viewId, provider, {
      webviewOptions: { retainContextWhenHidden: false },
    }),
    completions,
    vscode.languages.registerInlineCompletionItemProvider({ pattern: "**" }, completions),
    nextEdit,
    vscode.languages.registerInlineCompletionItemProvider({ pattern: "**" }, nextEdit),
    EngineKeys.init(context.secrets, readConfig()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("hearth.engines")) void EngineKeys.refresh(readConfig());
      if (e.affectsConfiguration("hearth.gpu") || e.affectsConfiguration("hearth.threads")) {
        const cfg = readConfig();
        if (sidecar.running) void sidecar.request("runtime/configure", { gpu: cfg.gpu, threads: cfg.threads });
      }
    }),
  );

  openWalkthroughOnce(context);
  if (readConfig().startOnActivation) {
    const model = readConfig().models.chat;
    void sidecar
      .start()
      .then(() => (model ? session.loadModel(model) : undefined))
      .catch((e) => log.error(String(e)));
  }
  return {
    sidecar,
    roles,
    session,
    statusBar,
    completions,
    nextEdit,
    index,
    actions,
    mcpLaunch: () => mcpLaunch(context, index),
  };
}

export function deactivate(): void {
  // Everything is in context.subscriptions; SidecarClient.dispose performs the two-step shutdown.
}

/**
 * The first activation with no model set up opens the *Get started with Hearth* walkthrough (once per machine
 * profile; it stays under Help > Welcome).
 */
function openWalkthroughOnce(context: vscode.ExtensionContext): void {
  const key = "hearth.walkthroughShown";
  const cfg = readConfig();
  const anyModel = MODEL_ROLES.some((role) => cfg.models[role] || cfg.engines[role]);
  if (context.globalState.get(key) || anyModel) return;
  void context.globalState.update(key, true);
  void vscode.commands.executeCommand(
    "workbench.action.openWalkthrough",
    `${context.extension.id}#hearth.firstRun`,
    false,
  );
}
