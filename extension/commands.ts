import * as os from "node:os";
import * as vscode from "vscode";
import type { ChatSession } from "./chat/ChatSession";
import type { ChatViewProvider } from "./chat/ChatViewProvider";
import type { ActionController } from "./actions/ActionController";
import type { IndexController } from "./search/IndexController";
import { searchCodeQuickPick } from "./search/searchQuickPick";
import { whyNoCompletion, type HearthInlineCompletionProvider } from "./completion/InlineCompletionProvider";
import { readConfig } from "./config";
import { EngineKeys, roleModelSpec } from "./models/engineSpec";
import { checkRoles } from "../common/models/checkRoles";
import { mapContinueModels, readContinueConfig } from "../common/models/continueImport";
import { pickChatModel, showModelError } from "./models/chatModel";
import type { SidecarClient } from "./sidecar/SidecarClient";
import type { ModelRoles } from "../common/models/ModelRoles";
import type { LocalApiServer } from "./serve/LocalApiServer";

interface Deps {
  sidecar: SidecarClient;
  roles: ModelRoles;
  session: ChatSession;
  log: vscode.LogOutputChannel;
  completions: HearthInlineCompletionProvider;
  index: IndexController;
  actions: ActionController;
  localServer: LocalApiServer;
}

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
 * Registers every `hearth.*` command (one small factory each, in one table). Commands that need the sidecar
 * start it on demand; each failure ends in one actionable message with a Show Log button.
 */
export function registerCommands(context: vscode.ExtensionContext, deps: Deps) {
  const { sidecar, roles, session, log, completions, index, actions, localServer } = deps;
  /** Commands from code actions pass (uri, range); from the palette or a key they get nothing. */
  const target = (uri?: unknown, range?: unknown) => ({
    uri: uri instanceof vscode.Uri ? uri : undefined,
    range: range instanceof vscode.Range ? range : undefined,
  });
  let provider: ChatViewProvider | undefined;

  const attachSelection = () => {
    const a = editorAttachment(false);
    if (!a) return void vscode.window.showInformationMessage("Hearth: open an editor to attach its selection.");
    session.attach(a);
  };
  const attachFile = async () => {
    const a = editorAttachment(true);
    if (!a) return void vscode.window.showInformationMessage("Hearth: open an editor to attach its file.");
    session.attach(a);
  };
  const insertCode = async (code: string) => {
    const editor = vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors[0];
    if (!editor) return void vscode.window.showInformationMessage("Hearth: open an editor to insert the code into.");
    await editor.edit((b) => b.replace(editor.selection, code));
  };

  const table: Record<string, (...args: unknown[]) => unknown> = {
    "hearth.openChat": () => provider?.reveal(),
    "hearth.newChat": () => session.newChat(),
    "hearth.stopGeneration": () => session.stop(),
    "hearth.showLog": () => log.show(),
    "hearth.addSelectionToChat": async () => {
      attachSelection();
      await provider?.reveal();
    },
    "hearth.addFileToChat": async () => {
      await attachFile();
      await provider?.reveal();
    },
    "hearth.showHistory": async () => {
      const items = await session.history.list();
      const pick = await vscode.window.showQuickPick(
        items.map((i) => ({
          label: i.title,
          description: `${i.messageCount} messages · ${new Date(i.updatedAt).toLocaleString()}`,
          id: i.id,
        })),
        { title: "Hearth: Chat History", placeHolder: items.length ? "Open a chat" : "No saved chats yet" },
      );
      if (pick) {
        await session.open(pick.id);
        await provider?.reveal();
      }
    },
    "hearth.selectChatModel": async () => {
      try {
        const uri = await pickChatModel(sidecar, readConfig());
        if (!uri) return;
        await vscode.workspace.getConfiguration("hearth").update("models.chat", uri, vscode.ConfigurationTarget.Global);
        await session.loadModel(uri);
      } catch (error) {
        await showModelError(error, log);
      }
    },
    "hearth.restartSidecar": async () => {
      try {
        await sidecar.restart();
        await roles.restarted((role, e) => {
          if (role === "chat") void showModelError(e, log);
          else log.warn(`Reloading the ${role} model failed: ${String(e)}`);
        });
      } catch (error) {
        await showModelError(error, log);
      }
    },
    // Not awaited: a command must not stay pending until the user dismisses a notification.
    "hearth.whyNoCompletion": () => {
      void vscode.window.showInformationMessage(`Hearth: ${whyNoCompletion(completions)}`);
    },
    "hearth.toggleCompletions": async () => {
      const config = vscode.workspace.getConfiguration("hearth");
      await config.update(
        "completion.enabled",
        !config.get<boolean>("completion.enabled", true),
        vscode.ConfigurationTarget.Global,
      );
    },
    "hearth.showStats": async () => {
      await provider?.reveal();
      await session.submit("/stats");
    },
    // Actions (prompt files). Not awaited where they end in a review: the diff stays open until the user decides.
    "hearth.explainSelection": (uri?: unknown, range?: unknown) => void actions.run("explain", target(uri, range)),
    "hearth.fixSelection": (uri?: unknown, range?: unknown) => void actions.run("fix", target(uri, range)),
    "hearth.documentSelection": (uri?: unknown, range?: unknown) => void actions.run("doc", target(uri, range)),
    "hearth.generateTests": (uri?: unknown, range?: unknown) => void actions.run("tests", target(uri, range)),
    "hearth.editSelection": (uri?: unknown, range?: unknown) => void actions.run("edit", target(uri, range)),
    "hearth.askAboutFile": (uri?: unknown) => void actions.run("ask", target(uri)),
    "hearth.openChatWithSelection": async () => {
      attachSelection();
      await provider?.reveal();
    },
    "hearth.runPrompt": () => void actions.pickAndRun(),
    "hearth.customizePrompt": () => actions.customize(),
    "hearth.acceptEdit": () => actions.review.accept(),
    "hearth.rejectEdit": () => actions.review.reject(),
    "hearth.searchCode": (query?: unknown) => searchCodeQuickPick(index, typeof query === "string" ? query : ""),
    // Not awaited: indexing reports through the status bar and may take minutes.
    "hearth.indexWorkspace": () => void index.build(),
    "hearth.reindexWorkspace": () => void index.build(true),
    "hearth.pauseIndexing": () => index.pause(),
    "hearth.cancelIndexing": () => index.cancel(),
    "hearth.indexActions": async () => {
      const items = index.isBuilding
        ? [
            { label: "$(debug-pause) Pause Indexing", id: "hearth.pauseIndexing" },
            { label: "$(close) Cancel Indexing", id: "hearth.cancelIndexing" },
          ]
        : [
            { label: "$(search) Search Code", id: "hearth.searchCode" },
            { label: "$(sync) Index Workspace (resume / update)", id: "hearth.indexWorkspace" },
            { label: "$(refresh) Re-index Workspace (re-embed everything)", id: "hearth.reindexWorkspace" },
          ];
      const pick = await vscode.window.showQuickPick(
        [...items, { label: "$(output) Show Log", id: "hearth.showLog" }],
        { title: "Hearth: Code Index" },
      );
      if (pick) await vscode.commands.executeCommand(pick.id);
    },
    "hearth.importContinue": async () => {
      let result;
      try {
        const { source, models } = await readContinueConfig(os.homedir());
        result = mapContinueModels(source, models);
      } catch (error) {
        void vscode.window.showErrorMessage(`Hearth: ${(error as Error).message}`);
        return undefined;
      }
      const mapped = Object.entries(result.roles);
      const lines = mapped.map(
        ([role, r]) => `${role}: ${r.from} → ${r.kind} at ${r.url}${r.model ? ` (${r.model})` : ""}`,
      );
      if (!mapped.length) {
        void vscode.window.showWarningMessage(
          `Hearth: nothing in ${result.source} maps to Hearth. ${result.notMapped.join(" ")}`,
        );
        return result;
      }
      const choice = await vscode.window.showInformationMessage(
        `Import from ${result.source}?`,
        { modal: true, detail: [...lines, ...result.notMapped.map((n) => `Not mapped: ${n}`)].join("\n") },
        "Import",
      );
      if (choice !== "Import") return undefined;
      const config = vscode.workspace.getConfiguration("hearth");
      for (const [role, r] of mapped) {
        await config.update(`engines.${role}`, r.url, vscode.ConfigurationTarget.Global);
        await config.update(`models.${role}`, r.model, vscode.ConfigurationTarget.Global);
      }
      const keyed = mapped.filter(([, r]) => r.apiKey);
      if (keyed.length) {
        const store = await vscode.window.showInformationMessage(
          `The Continue config holds API keys for ${[...new Set(keyed.map(([, r]) => r.url))].join(", ")}. Store them in VS Code's secret storage?`,
          "Store Keys",
        );
        if (store) for (const [, r] of keyed) await EngineKeys.set(r.url, r.apiKey!);
      }
      void vscode.window.showInformationMessage(
        `Hearth: imported ${mapped.map(([role]) => role).join(", ")} from Continue.`,
      );
      return result;
    },
    "hearth.startLocalServer": async () => {
      try {
        const url = await localServer.start();
        void vscode.window
          .showInformationMessage(`Hearth serves its models at ${url} (OpenAI: ${url}/v1).`, "Copy URL")
          .then((c) => c && vscode.env.clipboard.writeText(url));
        return url;
      } catch (error) {
        void vscode.window.showErrorMessage(`Hearth: the local API server did not start: ${(error as Error).message}`);
        return undefined;
      }
    },
    "hearth.stopLocalServer": () => localServer.stop(),
    "hearth.checkEngines": async () => {
      // Every role that has a model or an engine set; the results go to the log, a summary to a notification.
      const cfg = readConfig();
      const checks = (["chat", "completion", "embedding", "rerank"] as const).flatMap((role) => {
        const model = roleModelSpec(role, cfg);
        return model ? [[role, { model }] as const] : [];
      });
      if (!checks.length) {
        void vscode.window.showInformationMessage(
          "Hearth: no role has a model or an engine set (hearth.models.*, hearth.engines.*).",
        );
        return [];
      }
      await sidecar.start();
      const results = await checkRoles(sidecar, roles, checks);
      for (const r of results) (r.ok ? log.info : log.error).call(log, `Check Engines: ${r.role} ${r.line}`);
      const broken = results.filter((r) => !r.ok);
      const summary = broken.length
        ? `Hearth: ${broken.map((r) => `${r.role} ${r.line}`).join(" · ")}`
        : `Hearth: all ${results.length} role(s) work (${results.map((r) => r.role).join(", ")}).`;
      void (broken.length ? vscode.window.showErrorMessage : vscode.window.showInformationMessage)(
        summary,
        "Show Log",
      ).then((c) => c && log.show());
      return results;
    },
    "hearth.setEngineApiKey": async () => {
      const engines = [...new Set(Object.values(readConfig().engines).filter(Boolean))];
      const url =
        engines.length === 1
          ? engines[0]
          : await vscode.window.showQuickPick(engines.length ? engines : [], {
              placeHolder: engines.length ? "Which engine's API key?" : "Set a 'hearth.engines.*' URL first",
            });
      if (!url) return;
      const key = await vscode.window.showInputBox({
        prompt: `API key for ${url} (sent only to that server; empty removes it)`,
        password: true,
        ignoreFocusOut: true,
      });
      if (key === undefined) return;
      await EngineKeys.set(url, key.trim());
      // Roles on that engine connect again with the new key.
      for (const role of ["chat", "completion", "embedding", "rerank"] as const) {
        if (roles.info(role)?.engine) roles.forget(role);
      }
      void vscode.window.showInformationMessage(
        `Hearth: ${key.trim() ? "stored the" : "removed the"} API key for ${url}.`,
      );
    },
    "hearth.deleteOldIndexes": async () => {
      try {
        const dropped = await index.dropStale();
        void vscode.window.showInformationMessage(
          dropped.length
            ? `Hearth: deleted ${dropped.length / 2} old index(es).`
            : "Hearth: no indexes of other models to delete.",
        );
      } catch (error) {
        await showModelError(error, log);
      }
    },
  };
  for (const [id, run] of Object.entries(table)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, run));
  }
  return {
    setProvider: (p: ChatViewProvider) => (provider = p),
    viewActions: { attachSelection, attachFile, insertCode, applyCode: (code: string) => void actions.applyCode(code) },
  };
}
