import * as vscode from "vscode";
import {
  CompletionEngine,
  explainReason,
  formatContext,
  type CompletionOutcome,
} from "../../common/completion/CompletionEngine";
import { HearthError } from "../../shared/errors";
import { readConfig, type HearthConfig } from "../config";
import { roleModelSpec } from "../models/engineSpec";
import type { ModelRoles } from "../../common/models/ModelRoles";
import type { SidecarClient } from "../sidecar/SidecarClient";
import type { StatusBar } from "../statusBar";
import { ContextTracker } from "./ContextTracker";

/** Characters of context sent around the cursor; the sidecar then keeps the configured number of tokens. */
const PREFIX_CHARS = 16_000;
const SUFFIX_CHARS = 4_000;

/**
 * Ghost-text suggestions through the VS Code inline-completion API (registered for every file). The editor's
 * cancellation token becomes an AbortSignal that reaches node-llama-cpp (`$/cancelRequest`), so the next
 * keystroke stops decoding. Everything else — debounce, cache, type-ahead, post-processing, reasons — lives in
 * the host-agnostic {@link CompletionEngine}. The completion model loads on first use.
 */
export class HearthInlineCompletionProvider implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  readonly contextTracker = new ContextTracker();
  private engine!: CompletionEngine;
  private engineKey = "";

  constructor(
    private readonly sidecar: SidecarClient,
    private readonly roles: ModelRoles,
    private readonly statusBar: StatusBar,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.engine = this.engineFor(readConfig());
  }

  /** The engine for these settings; re-created when the completion settings or model change (stale cache). */
  private engineFor(cfg: HearthConfig): CompletionEngine {
    const key = JSON.stringify([cfg.completion, cfg.models.completion]);
    if (key !== this.engineKey) {
      const c = cfg.completion;
      this.engineKey = key;
      this.engine = new CompletionEngine(this.sidecar, {
        prefixTokens: c.prefixTokens,
        suffixTokens: c.suffixTokens,
        maxTokens: c.maxTokens,
        timeBudgetMs: c.timeBudgetMs,
        debounceMs: c.debounceMs,
        contextTokens: c.contextTokens,
      });
    }
    return this.engine;
  }

  get lastOutcome(): (CompletionOutcome & { at: Date }) | undefined {
    return this.engine.lastOutcome;
  }

  get stats() {
    return this.engine.stats;
  }

  dispose(): void {
    this.contextTracker.dispose();
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    _context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const cfg = readConfig();
    if (!cfg.completion.enabled || cfg.completion.disabledLanguages.includes(document.languageId)) {
      this.engine.note("disabled", `for ${document.languageId}`);
      this.statusBar.completion("off");
      return undefined;
    }
    const model = roleModelSpec("completion", cfg);
    if (!model) {
      this.engine.note("noModel", "Set 'hearth.models.completion' to a FIM-capable code model.");
      this.statusBar.completion("error", "no completion model");
      return undefined;
    }
    const engine = this.engineFor(cfg);
    const abort = new AbortController();
    const subscription = token.onCancellationRequested(() => abort.abort());
    try {
      this.statusBar.completion("thinking");
      this.log.debug(
        `Inline completion requested at ${document.uri.toString()}:${position.line + 1}:${position.character + 1}`,
      );
      // Loaded once per model and context size; concurrent keystrokes share one load.
      await this.roles.ensure("completion", {
        model,
        contextSize: cfg.completion.contextSize,
      });
      if (token.isCancellationRequested) return undefined;
      // Only the characters the token windows can use: no whole-document copy per keystroke.
      const offset = document.offsetAt(position);
      const start = Math.max(0, offset - PREFIX_CHARS);
      const prefix = document.getText(new vscode.Range(document.positionAt(start), position));
      const suffix = document.getText(new vscode.Range(position, document.positionAt(offset + SUFFIX_CHARS)));
      const context =
        cfg.completion.contextTokens > 0
          ? formatContext(this.contextTracker.snippets(document, start), document.languageId)
          : undefined;
      const outcome = await engine.complete(prefix, suffix, {
        signal: abort.signal,
        context,
        language: document.languageId,
      });
      this.log.debug(`Inline completion: ${outcome.reason}${outcome.detail ? ` (${outcome.detail})` : ""}`);
      const failed = outcome.reason === "error" || outcome.reason === "noFim" || outcome.reason === "noModel";
      this.statusBar.completion(failed ? "error" : "idle", failed ? explainReason(outcome) : undefined);
      if (!outcome.text || token.isCancellationRequested) return undefined;
      return [new vscode.InlineCompletionItem(outcome.text, new vscode.Range(position, position))];
    } catch (error) {
      const e = HearthError.from(error);
      engine.note("error", e.userMessage);
      this.statusBar.completion("error", e.message);
      this.log.warn(`Inline completion failed (${e.code}): ${e.message}`);
      return undefined;
    } finally {
      subscription.dispose();
    }
  }
}

/** "Hearth: Why No Completion?" — the reason of the last request, in one sentence. */
export function whyNoCompletion(provider: HearthInlineCompletionProvider): string {
  const last = provider.lastOutcome;
  if (!last) return "Hearth has not been asked for a completion yet: type in an editor.";
  return `${explainReason(last)} (${last.at.toLocaleTimeString()})`;
}
