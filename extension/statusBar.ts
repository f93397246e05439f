import * as vscode from "vscode";
import type { StatusParams } from "../sidecar/protocol";

/**
 * One status-bar item driven by the sidecar's `{state, health, message}` notifications (the pattern of
 * rust-analyzer's server status). Click: ready → Show Stats; anything else → Show Log.
 */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("hearth.status", vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = "Hearth";
    this.update({ state: "idle", health: "ok", message: "Sidecar not started (starts on first use)" });
    this.item.show();
  }

  /** Last state shown, for tests and diagnostics. */
  state: StatusParams["state"] = "idle";

  update(status: StatusParams): void {
    this.state = status.state;
    const icon =
      status.state === "loading" || status.state === "starting" || status.state === "busy"
        ? "$(loading~spin)"
        : status.health === "error"
          ? "$(error)"
          : status.health === "warning"
            ? "$(warning)"
            : "$(flame)";
    const label = status.state === "ready" || status.state === "busy" ? (status.model ?? "Hearth") : "Hearth";
    this.item.text = `${icon} ${label}`;
    this.item.tooltip = `Hearth: ${status.message ?? status.state}`;
    this.item.command = status.state === "ready" ? "hearth.showStats" : "hearth.showLog";
    this.item.backgroundColor =
      status.health === "error" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
