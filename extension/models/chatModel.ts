import * as os from "node:os";
import * as vscode from "vscode";
import { DEFAULT_MODELS } from "../../common/models/modelArgs";
import { HearthError } from "../../shared/errors";
import { ErrorCodes, type ModelInfo } from "../../shared/protocol";
import type { HearthConfig } from "../config";
import { engineSpec, roleModelSpec } from "./engineSpec";
import type { ModelRoles } from "../../common/models/ModelRoles";
import type { SidecarClient } from "../sidecar/SidecarClient";

/**
 * Load a chat model into the chat role with a cancellable progress notification (download %, then load %).
 * @param explicit the user asked for this model now, so even a file that crashed the sidecar before is tried.
 * @throws HearthError from the sidecar (ModelNotFound, ModelNotGguf, ModelCorrupt, ModelTooLarge, …).
 */
export async function loadChatModel(
  roles: ModelRoles,
  sidecar: SidecarClient,
  uri: string,
  config: HearthConfig,
  explicit = false,
): Promise<ModelInfo> {
  const name = config.engines.chat
    ? `${uri || "the model"} on ${config.engines.chat}`
    : (uri.split(/[\\/]/).pop() ?? uri);
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Hearth: loading ${name}`, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const progressId = `load-${Date.now()}`;
      let reported = 0;
      const sub = sidecar.onNotification("model/progress", (p) => {
        if (p.progressId !== progressId) return;
        const pct = Math.round(p.fraction * 100);
        const message =
          p.phase === "download"
            ? `downloading ${pct}% (${mib(p.downloadedBytes)} / ${mib(p.totalBytes)} MiB)`
            : `loading ${pct}%`;
        // withProgress takes increments; reset per phase by reporting the delta only when it grows.
        const increment = Math.max(0, pct - reported);
        reported = p.fraction >= 1 ? 0 : pct;
        progress.report({ message, increment });
      });
      try {
        return await roles.ensure(
          "chat",
          { model: roleModelSpec("chat", config, uri) ?? { uri }, contextSize: config.contextSize },
          { progressId, signal: abort.signal, retryCrashed: explicit },
        );
      } finally {
        sub.dispose();
      }
    },
  );
}

/** What the chat says when it has no model and none is configured. */
export const NO_CHAT_MODEL =
  "No chat model is set. Run 'Hearth: Select Chat Model', set 'hearth.models.chat', or type /model <path.gguf>.";

/**
 * Make sure the chat role has a model: the one loaded, else `hearth.models.chat` (loaded with progress). Returns
 * false when none is set, after offering the model picker.
 * @throws HearthError from loading the configured model.
 */
export async function ensureChatModel(
  roles: ModelRoles,
  sidecar: SidecarClient,
  config: HearthConfig,
): Promise<boolean> {
  if (roles.info("chat")) return true;
  if (!config.models.chat && !config.engines.chat) {
    void vscode.window
      .showInformationMessage("Hearth needs a chat model.", "Select Chat Model")
      .then((c) => c && vscode.commands.executeCommand("hearth.selectChatModel"));
    return false;
  }
  await loadChatModel(roles, sidecar, config.models.chat, config);
  return true;
}

/** The quick pick of "Hearth: Select Chat Model": models on disk, the default download, or browse. */
export async function pickChatModel(sidecar: SidecarClient, config: HearthConfig): Promise<string | undefined> {
  if (config.engines.chat) return pickEngineModel(sidecar, config.engines.chat);
  const listing = sidecar.request("model/list", { folders: config.models.folder ? [config.models.folder] : [] });
  type Item = vscode.QuickPickItem & { uri?: string; browse?: boolean };
  const items: Promise<Item[]> = listing.then(({ models }) => [
    // Chat models first; embedding and rerank models (by their GGUF header) last, marked as such.
    ...[
      ...models.filter((m) => !m.roles || m.roles.includes("chat")),
      ...models.filter((m) => m.roles && !m.roles.includes("chat")),
    ].map((m) => ({
      label: m.name,
      description: `${m.source} · ${(m.sizeBytes / 1024 ** 3).toFixed(2)} GiB${m.roles ? ` · ${m.roles.join(", ")}` : ""}`,
      detail: m.path.replace(os.homedir(), "~"),
      uri: m.path,
    })),
    { label: "", kind: vscode.QuickPickItemKind.Separator },
    {
      label: "$(cloud-download) Download the default model",
      description: DEFAULT_MODELS.chat,
      uri: DEFAULT_MODELS.chat,
    },
    { label: "$(folder-opened) Browse for a .gguf file…", browse: true },
  ]);
  const choice = await vscode.window.showQuickPick(items, {
    title: "Hearth: Select Chat Model",
    placeHolder: "GGUF models found on this machine (Ollama, LM Studio, Hugging Face cache, your folder)",
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!choice) return undefined;
  if (choice.browse) {
    const files = await vscode.window.showOpenDialog({
      canSelectMany: false,
      filters: { "GGUF models": ["gguf"] },
      title: "Select a GGUF chat model",
    });
    return files?.[0]?.fsPath;
  }
  return choice.uri;
}

/** One actionable sentence for a failed load, with buttons that help. */
export async function showModelError(error: unknown, log: vscode.LogOutputChannel): Promise<void> {
  const e = HearthError.from(error);
  if (e.code === ErrorCodes.Cancelled) return;
  log.error(`Model load failed (${e.code}): ${e.message}`);
  const choice = await vscode.window.showErrorMessage(e.userMessage, "Select Chat Model", "Show Log");
  if (choice === "Select Chat Model") void vscode.commands.executeCommand("hearth.selectChatModel");
  if (choice === "Show Log") log.show();
}

function mib(bytes?: number): string {
  return ((bytes ?? 0) / 1024 / 1024).toFixed(1);
}

/**
 * With `hearth.engines.chat` set, the picker lists what that engine serves (`engine/models`), with the context
 * each has, instead of local GGUFs. Returns the chosen model id.
 */
async function pickEngineModel(sidecar: SidecarClient, url: string): Promise<string | undefined> {
  type Item = vscode.QuickPickItem & { id: string };
  const items: Promise<Item[]> = sidecar
    .start()
    .then(() =>
      sidecar.request("engine/models", {
        engine: engineSpec(url),
      }),
    )
    .then((r) =>
      r.models.map((m) => ({
        label: m.id,
        description: `${r.kind}${m.contextSize ? ` · context ${m.contextSize}` : ""}`,
        id: m.id,
      })),
    );
  try {
    const choice = await vscode.window.showQuickPick(items, {
      title: "Hearth: Select Chat Model",
      placeHolder: `Models served by ${url} (hearth.engines.chat)`,
      matchOnDescription: true,
    });
    return choice?.id;
  } catch (error) {
    void vscode.window.showErrorMessage(`Hearth: ${HearthError.from(error).userMessage}`);
    return undefined;
  }
}
