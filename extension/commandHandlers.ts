/**
 * The bodies of the `hearth.*` commands that take more than a line, as named functions (rust-analyzer's
 * `commands.ts`): each takes the {@link CommandContext} and returns the handler VS Code calls. The table that
 * maps command ids to them is `commands.ts`; what they get, `commandContext.ts`.
 */
import * as os from "node:os";
import * as vscode from "vscode";
import { checkRoles } from "../common/models/checkRoles";
import { mapContinueModels, readContinueConfig } from "../common/models/continueImport";
import type { CommandContext, CommandHandler } from "./commandContext";
import { readConfig } from "./config";
import { EngineKeys, roleModelSpec } from "./models/engineSpec";
import { pickChatModel, showModelError } from "./models/chatModel";
import { whyNoCompletion as completionStatus } from "./completion/InlineCompletionProvider";

/** `hearth.addSelectionToChat`. */
export function addSelectionToChat(c: CommandContext): CommandHandler {
  return async () => {
    c.attachSelection();
    await c.provider()?.reveal();
  };
}

/** `hearth.addFileToChat`. */
export function addFileToChat(c: CommandContext): CommandHandler {
  return async () => {
    await c.attachFile();
    await c.provider()?.reveal();
  };
}

/** `hearth.showHistory`. */
export function showHistory(c: CommandContext): CommandHandler {
  return async () => {
    const items = await c.session.history.list();
    const pick = await vscode.window.showQuickPick(
      items.map((i) => ({
        label: i.title,
        description: `${i.messageCount} messages · ${new Date(i.updatedAt).toLocaleString()}`,
        id: i.id,
      })),
      { title: "Hearth: Chat History", placeHolder: items.length ? "Open a chat" : "No saved chats yet" },
    );
    if (pick) {
      await c.session.open(pick.id);
      await c.provider()?.reveal();
    }
  };
}

/** `hearth.selectChatModel`. */
export function selectChatModel(c: CommandContext): CommandHandler {
  return async () => {
    try {
      const uri = await pickChatModel(c.sidecar, readConfig());
      if (!uri) return;
      await vscode.workspace.getConfiguration("hearth").update("models.chat", uri, vscode.ConfigurationTarget.Global);
      await c.session.loadModel(uri);
    } catch (error) {
      await showModelError(error, c.log);
    }
  };
}

/** `hearth.restartSidecar`. */
export function restartSidecar(c: CommandContext): CommandHandler {
  return async () => {
    try {
      await c.sidecar.restart();
      await c.roles.restarted((role, e) => {
        if (role === "chat") void showModelError(e, c.log);
        else c.log.warn(`Reloading the ${role} model failed: ${String(e)}`);
      });
    } catch (error) {
      await showModelError(error, c.log);
    }
  };
}

/** `hearth.whyNoCompletion`. Not awaited: a command must not stay pending until the user dismisses a notification. */
export function whyNoCompletion(c: CommandContext): CommandHandler {
  return () => {
    void vscode.window.showInformationMessage(`Hearth: ${completionStatus(c.completions)}`);
  };
}

/** `hearth.toggleCompletions`. */
export function toggleCompletions(_c: CommandContext): CommandHandler {
  return async () => {
    const config = vscode.workspace.getConfiguration("hearth");
    await config.update(
      "completion.enabled",
      !config.get<boolean>("completion.enabled", true),
      vscode.ConfigurationTarget.Global,
    );
  };
}

/** `hearth.showStats`. */
export function showStats(c: CommandContext): CommandHandler {
  return async () => {
    await c.provider()?.reveal();
    await c.session.submit("/stats");
  };
}

/** `hearth.openChatWithSelection`. */
export function openChatWithSelection(c: CommandContext): CommandHandler {
  return async () => {
    c.attachSelection();
    await c.provider()?.reveal();
  };
}

/** `hearth.indexActions`. */
export function indexActions(c: CommandContext): CommandHandler {
  return async () => {
    const items = c.index.isBuilding
      ? [
          { label: "$(debug-pause) Pause Indexing", id: "hearth.pauseIndexing" },
          { label: "$(close) Cancel Indexing", id: "hearth.cancelIndexing" },
        ]
      : [
          { label: "$(search) Search Code", id: "hearth.searchCode" },
          { label: "$(sync) Index Workspace (resume / update)", id: "hearth.indexWorkspace" },
          { label: "$(refresh) Re-index Workspace (re-embed everything)", id: "hearth.reindexWorkspace" },
        ];
    const pick = await vscode.window.showQuickPick([...items, { label: "$(output) Show Log", id: "hearth.showLog" }], {
      title: "Hearth: Code Index",
    });
    if (pick) await vscode.commands.executeCommand(pick.id);
  };
}

/** `hearth.importContinue`. */
export function importContinue(_c: CommandContext): CommandHandler {
  return async () => {
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
  };
}

/** `hearth.startLocalServer`. */
export function startLocalServer(c: CommandContext): CommandHandler {
  return async () => {
    try {
      const url = await c.localServer.start();
      void vscode.window
        .showInformationMessage(`Hearth serves its models at ${url} (OpenAI: ${url}/v1).`, "Copy URL")
        .then((choice) => choice && vscode.env.clipboard.writeText(url));
      return url;
    } catch (error) {
      void vscode.window.showErrorMessage(`Hearth: the local API server did not start: ${(error as Error).message}`);
      return undefined;
    }
  };
}

/** `hearth.checkEngines`. */
export function checkEngines(c: CommandContext): CommandHandler {
  return async () => {
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
    await c.sidecar.start();
    const results = await checkRoles(c.sidecar, c.roles, checks);
    for (const r of results) (r.ok ? c.log.info : c.log.error).call(c.log, `Check Engines: ${r.role} ${r.line}`);
    const broken = results.filter((r) => !r.ok);
    const summary = broken.length
      ? `Hearth: ${broken.map((r) => `${r.role} ${r.line}`).join(" · ")}`
      : `Hearth: all ${results.length} role(s) work (${results.map((r) => r.role).join(", ")}).`;
    void (broken.length ? vscode.window.showErrorMessage : vscode.window.showInformationMessage)(
      summary,
      "Show Log",
    ).then((choice) => choice && c.log.show());
    return results;
  };
}

/** `hearth.setEngineApiKey`. */
export function setEngineApiKey(c: CommandContext): CommandHandler {
  return async () => {
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
      if (c.roles.info(role)?.engine) c.roles.forget(role);
    }
    void vscode.window.showInformationMessage(
      `Hearth: ${key.trim() ? "stored the" : "removed the"} API key for ${url}.`,
    );
  };
}

/** `hearth.deleteOldIndexes`. */
export function deleteOldIndexes(c: CommandContext): CommandHandler {
  return async () => {
    try {
      const dropped = await c.index.dropStale();
      void vscode.window.showInformationMessage(
        dropped.length
          ? `Hearth: deleted ${dropped.length / 2} old index(es).`
          : "Hearth: no indexes of other models to delete.",
      );
    } catch (error) {
      await showModelError(error, c.log);
    }
  };
}
