import * as vscode from "vscode";
import type { StatusParams } from "../shared/protocol";

/**
 * One status-bar item driven by the sidecar's `{state, health, message}` notifications (the pattern of
 * rust-analyzer's server status). Click: ready → Show Stats; anything else → Show Log.
 */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("hearth.status", vscode.StatusBarAlignment.Right, 100);
  private readonly completionItem = vscode.window.createStatusBarItem(
    "hearth.completion",
    vscode.StatusBarAlignment.Right,
    99,
  );
  /** Last inline-completion state shown, for tests and diagnostics. */
  completionState: "idle" | "thinking" | "off" | "error" = "idle";

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

  /**
   * The inline-completion item: idle, thinking (a request in flight), off (disabled), or error with the reason.
   * Click: "Hearth: Why No Completion?". Shown from the first completion request on.
   */
  completion(state: "idle" | "thinking" | "off" | "error", reason?: string): void {
    this.completionState = state;
    const icon = { idle: "$(sparkle)", thinking: "$(loading~spin)", off: "$(circle-slash)", error: "$(warning)" }[
      state
    ];
    this.completionItem.name = "Hearth Completions";
    this.completionItem.text = icon;
    this.completionItem.tooltip = `Hearth completions: ${state}${reason ? ` — ${reason}` : ""}`;
    this.completionItem.command = "hearth.whyNoCompletion";
    this.completionItem.show();
  }

  dispose(): void {
    this.item.dispose();
    this.completionItem.dispose();
  }
}
