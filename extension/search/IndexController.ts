import { createHash } from "node:crypto";
import * as vscode from "vscode";
import { HearthError } from "../../shared/errors";
import {
  ErrorCodes,
  type IndexBuildResult,
  type IndexSearchResult,
  type IndexTarget,
  type SearchMode,
} from "../../shared/protocol";
import { readConfig, type HearthConfig } from "../config";
import { roleModelSpec } from "../models/engineSpec";
import { SEARCH_MODEL_CONTEXT_SIZE } from "../../common/models/modelArgs";
import type { ModelRoles } from "../../common/models/ModelRoles";
import type { SidecarClient } from "../sidecar/SidecarClient";

/** State of the workspace index as the status bar and tests see it. */
export type IndexState = "none" | "indexing" | "paused" | "ready" | "error";

/**
 * The extension's side of code search: which folder is indexed and where its database lives (the extension's
 * workspace storage), the embedding / reranker models from the settings, builds with status-bar progress
 * (files, chunks, ETA) that can be paused, cancelled and forced, and — once the index is in use — a file-system
 * watcher whose events are debounced into `index/update` requests so saved files become searchable within a second. Discovery,
 * chunking and embedding all run in the sidecar, never in the extension host.
 */
export class IndexController implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("hearth.index", vscode.StatusBarAlignment.Right, 98);
  private building?: { abort: AbortController; promise: Promise<IndexBuildResult | undefined> };
  /** Whether the index has been built or confirmed this session; watcher events are applied only then. */
  private live = false;
  /** Created when the index first goes live, not at activation: a workspace never searched needs no watcher. */
  private watcher?: vscode.FileSystemWatcher;
  private readonly pendingChanged = new Set<string>();
  private readonly pendingDeleted = new Set<string>();
  private flushTimer?: ReturnType<typeof setTimeout>;
  private updating: Promise<unknown> = Promise.resolve();
  private readonly disposables: vscode.Disposable[] = [];
  state: IndexState = "none";
  /** Result of the last build, for tests and the status tooltip. */
  lastBuild?: IndexBuildResult;
  /** Files applied by the watcher so far (tests wait on it). */
  updatesApplied = 0;

  constructor(
    private readonly sidecar: SidecarClient,
    private readonly roles: ModelRoles,
    private readonly storage: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.item.name = "Hearth Index";
    this.item.command = "hearth.indexActions";
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("hearth.models.embedding") || e.affectsConfiguration("hearth.models.rerank")) {
          this.live = false;
        }
      }),
    );
  }

  /** Mark the index as up to date for this session and start watching the folder (once). */
  private goLive(): void {
    this.live = true;
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (this.watcher || !folder) return;
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, "**/*"));
    this.disposables.push(
      this.watcher,
      this.watcher.onDidCreate((u) => this.queue(u, false)),
      this.watcher.onDidChange((u) => this.queue(u, false)),
      this.watcher.onDidDelete((u) => this.queue(u, true)),
    );
  }

  /** The first workspace folder and its database folder, or undefined without a folder open. */
  target(): IndexTarget | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    const id = createHash("sha256").update(folder.uri.fsPath).digest("hex").slice(0, 12);
    return { root: folder.uri.fsPath, storageDir: vscode.Uri.joinPath(this.storage, "index", id).fsPath };
  }

  private discovery(cfg: HearthConfig) {
    const files = vscode.workspace.getConfiguration("files").get<Record<string, boolean>>("exclude", {});
    const search = vscode.workspace.getConfiguration("search").get<Record<string, boolean>>("exclude", {});
    const exclude = Object.entries({ ...files, ...search })
      .filter(([, on]) => on === true)
      .map(([glob]) => glob);
    return { exclude, maxFileBytes: cfg.index.maxFileBytes, batchSize: cfg.index.batchSize };
  }

  /**
   * Make the embedding and rerank roles run the models the settings name (each loads once per spec, see
   * {@link ModelRoles.ensure}); a role whose setting is empty is unloaded.
   */
  async ensureModels(): Promise<void> {
    const cfg = readConfig();
    await this.sidecar.start();
    for (const role of ["embedding", "rerank"] as const) {
      const model = roleModelSpec(role, cfg);
      if (!model) {
        if (this.roles.spec(role)) await this.roles.unload(role);
        continue;
      }
      await this.roles.ensure(role, {
        model,
        contextSize: SEARCH_MODEL_CONTEXT_SIZE,
        batchSize: cfg.index.batchTokens,
        ...(role === "embedding"
          ? { prefixes: { query: cfg.index.queryPrefix ?? undefined, document: cfg.index.documentPrefix ?? undefined } }
          : {}),
      });
    }
  }

  private show(text: string, tooltip: string, state: IndexState): void {
    this.state = state;
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.show();
  }

  /**
   * Build or update the index (`force`: re-embed everything). Resolves with the result, or undefined when
   * paused or cancelled (what was indexed is kept). Concurrent calls share the running build.
   */
  build(force = false): Promise<IndexBuildResult | undefined> {
    if (this.building) return this.building.promise;
    const target = this.target();
    if (!target) {
      void vscode.window.showInformationMessage("Hearth: open a folder to index it.");
      return Promise.resolve(undefined);
    }
    const abort = new AbortController();
    const progressId = `index-${Date.now()}`;
    const cfg = readConfig();
    this.show("$(sync~spin) Indexing…", "Hearth is indexing the workspace. Click to pause or cancel.", "indexing");
    const sub = this.sidecar.onNotification("index/progress", (p) => {
      if (p.progressId !== progressId) return;
      if (p.phase === "discover")
        return this.show("$(sync~spin) Indexing: finding files…", "Discovering files", "indexing");
      if (p.phase === "finalize")
        return this.show("$(sync~spin) Indexing: updating the full-text index…", "Finalizing", "indexing");
      const eta = p.etaMs === undefined ? "" : ` · ETA ${Math.ceil(p.etaMs / 1000)}s`;
      this.show(
        `$(sync~spin) Indexing ${p.filesDone}/${p.filesTotal}${eta}`,
        `Hearth is indexing: ${p.filesDone} of ${p.filesTotal} files, ${p.chunksDone} chunks embedded${eta}. Click to pause or cancel.`,
        "indexing",
      );
    });
    const promise = (async () => {
      try {
        await this.ensureModels();
        const result = await this.sidecar.request(
          "index/build",
          { ...target, ...this.discovery(cfg), progressId, force },
          abort.signal,
        );
        this.lastBuild = result;
        this.goLive();
        this.showReady(result.files, result.chunks, result.embeddingModel);
        this.log.info(
          `Indexed ${result.files} files (${result.chunks} chunks) in ${result.timings.totalMs} ms: ${result.indexedFiles} new or changed, ` +
            `${result.unchangedFiles} unchanged, ${result.removedFiles} removed, ${result.skipped.length} skipped.`,
        );
        return result;
      } catch (error) {
        const e = HearthError.from(error);
        if (e.code === ErrorCodes.Cancelled) {
          if (this.state !== "paused")
            this.show(
              "$(debug-pause) Index: cancelled",
              "Indexing was cancelled. Run 'Hearth: Index Workspace' to resume.",
              "paused",
            );
          return undefined;
        }
        this.show("$(warning) Index", `Indexing failed: ${e.userMessage}`, "error");
        this.log.error(`Indexing failed (${e.code}): ${e.message}`);
        if (!this.offerRebuild(e)) {
          void vscode.window
            .showErrorMessage(`Hearth: indexing failed: ${e.userMessage}`, "Show Log")
            .then((c) => c && this.log.show());
        }
        return undefined;
      } finally {
        sub.dispose();
        this.building = undefined;
      }
    })();
    this.building = { abort, promise };
    return promise;
  }

  /**
   * For an index the sidecar found damaged: say so, with a button that rebuilds it from scratch.
   * @returns whether `e` was that error (and the offer shown).
   */
  private offerRebuild(e: HearthError): boolean {
    if (e.code !== ErrorCodes.IndexDamaged) return false;
    void vscode.window.showErrorMessage(`Hearth: ${e.message}`, "Re-index Workspace").then((choice) => {
      if (choice) void this.build(true);
    });
    return true;
  }

  private showReady(files: number, chunks: number, model?: string): void {
    this.show(
      "$(database) Indexed",
      `Hearth code index: ${files} files, ${chunks} chunks, ${model ? `embeddings from ${model}` : "lexical only (set hearth.models.embedding for semantic search)"}.`,
      "ready",
    );
  }

  /** Stop the running build, keeping what it wrote; `resume` (or Index Workspace) continues where it stopped. */
  pause(): void {
    if (!this.building) return;
    this.show("$(debug-pause) Index: paused", "Indexing is paused. Click to resume.", "paused");
    this.building.abort.abort();
  }

  /** Cancel the running build (same as pause, but says so). */
  cancel(): void {
    if (!this.building) return;
    this.show(
      "$(debug-pause) Index: cancelled",
      "Indexing was cancelled. Run 'Hearth: Index Workspace' to resume.",
      "paused",
    );
    this.building.abort.abort();
  }

  get isBuilding(): boolean {
    return this.building !== undefined;
  }

  /** Make sure there is an index to search: build one the first time (with progress), else reuse it. */
  private async ready(target: IndexTarget): Promise<void> {
    await this.ensureModels();
    if (this.live) return;
    const status = await this.sidecar.request("index/status", target);
    if (status.exists && status.files > 0) {
      this.goLive();
      this.showReady(status.files, status.chunks, status.embeddingModel);
      // Catch up with edits made while VS Code was closed, in the background.
      void this.build();
      return;
    }
    await this.build();
  }

  /**
   * Search the workspace index (building it first if there is none).
   * @throws HearthError (NoModelLoaded for vector/hybrid without an embedding model, …); Error without a folder.
   */
  async search(
    query: string,
    options: { topK?: number; mode?: SearchMode; signal?: AbortSignal } = {},
  ): Promise<IndexSearchResult> {
    const target = this.target();
    if (!target) throw new Error("Open a folder to search its code.");
    await this.ready(target);
    const cfg = readConfig();
    const mode = options.mode ?? (cfg.search.mode === "auto" ? undefined : cfg.search.mode);
    const searching = this.sidecar.request(
      "index/search",
      {
        ...target,
        query,
        topK: options.topK ?? cfg.search.topK,
        mode,
        fusion: cfg.search.fusion,
        vectorWeight: cfg.search.vectorWeight,
        rerankWeight: cfg.search.rerankWeight,
        rerankBudgetMs: cfg.search.rerankBudgetMs,
        rerank: cfg.models.rerank && cfg.search.rerank ? undefined : false,
      },
      options.signal,
    );
    return searching.catch((error: unknown) => {
      this.offerRebuild(HearthError.from(error));
      throw error;
    });
  }

  private queue(uri: vscode.Uri, deleted: boolean): void {
    // Events come in bursts (a checkout, an install): keep this cheap; settings are read once per flush.
    if (!this.live || uri.scheme !== "file" || /[\\/](\.git|node_modules)[\\/]/.test(uri.fsPath)) return;
    (deleted ? this.pendingDeleted : this.pendingChanged).add(uri.fsPath);
    (deleted ? this.pendingChanged : this.pendingDeleted).delete(uri.fsPath);
    clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => this.flush(), 300);
  }

  /** Send the debounced watcher events as one `index/update` (serialised with earlier ones). */
  flush(): Promise<unknown> {
    const target = this.target();
    const changed = [...this.pendingChanged];
    const deleted = [...this.pendingDeleted];
    this.pendingChanged.clear();
    this.pendingDeleted.clear();
    if (!target || (!changed.length && !deleted.length)) return this.updating;
    const cfg = readConfig();
    if (!cfg.index.watch) return this.updating;
    this.updating = this.updating.then(async () => {
      try {
        const r = await this.sidecar.request("index/update", { ...target, ...this.discovery(cfg), changed, deleted });
        this.updatesApplied += changed.length + deleted.length;
        if (r.updated || r.removed)
          this.log.info(`Index updated: ${r.updated} changed, ${r.removed} removed (${r.timings.totalMs} ms).`);
      } catch (error) {
        this.log.warn(`Index update failed: ${HearthError.from(error).message}`);
      }
    });
    return this.updating;
  }

  /** Delete the tables other embedding models left behind. */
  async dropStale(): Promise<string[]> {
    const target = this.target();
    if (!target) return [];
    await this.ensureModels();
    return (await this.sidecar.request("index/drop", { ...target, which: "stale" })).dropped;
  }

  dispose(): void {
    clearTimeout(this.flushTimer);
    this.building?.abort.abort();
    this.item.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}
