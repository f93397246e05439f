import { promises as fs } from "node:fs";
import path from "node:path";
import { HearthError } from "../../shared/errors";
import type { EmbeddingRole } from "../engines/registry";
import { ErrorCodes, type IndexTarget } from "../../shared/protocol";
import { sharedChunker, type Chunker } from "./chunker";
import { CodeIndex } from "./CodeIndex";
import { IndexStore, type TableKey } from "./store";

/**
 * The sidecar's open index databases, one {@link IndexStore} per (database folder, embedding model); a
 * {@link CodeIndex} is made per request for the workspace root it names.
 * The embedding role loaded now decides which table a request uses; with none loaded, a search
 * uses the lexical table or, when there is none, the most recently built table (its full-text index needs no
 * model). Writes to one store are serialised by its write queue.
 */
export class IndexManager {
  private readonly stores = new Map<string, Promise<IndexStore>>();

  /**
   * @param embeddingRole the embedding engine loaded now and its model's names (undefined when none is), asked at
   *   each request: the index owns no engine, and never reaches for the registry.
   */
  constructor(
    private readonly embeddingRole: () => EmbeddingRole | undefined,
    private readonly log: (message: string) => void,
  ) {}

  private getChunker(): Promise<Chunker> {
    return sharedChunker();
  }

  private key(): TableKey {
    const role = this.embeddingRole();
    // Engine + model id: vectors of another engine (another quantization, another server) get their own table.
    return role ? { model: role.model, modelId: role.modelId, dimensions: role.engine.dimensions } : {};
  }

  private async checkRoot(target: IndexTarget): Promise<void> {
    if (!path.isAbsolute(target.root) || !path.isAbsolute(target.storageDir)) {
      throw new HearthError(
        ErrorCodes.InvalidParams,
        "Invalid params: 'root' and 'storageDir' must be absolute paths.",
      );
    }
    const st = await fs.stat(target.root).catch(() => undefined);
    if (!st?.isDirectory()) {
      throw new HearthError(
        ErrorCodes.InvalidParams,
        `Cannot index ${target.root}: it is not a folder.`,
        "Open or pass an existing folder.",
      );
    }
  }

  /**
   * The index for a target under the loaded embedding model.
   * @param forSearch when true and no embedding model is loaded, fall back to the newest existing table.
   */
  async get(target: IndexTarget, forSearch = false): Promise<CodeIndex> {
    await this.checkRoot(target);
    let key: TableKey & { suffixOverride?: string } = this.key();
    const embedding = this.embeddingRole()?.engine;
    if (forSearch && !embedding) {
      const lexical = await this.cached(target.storageDir, key);
      if (!(await lexical.exists())) {
        const newest = (await lexical.tableSuffixes())[0];
        if (newest) key = { model: newest.model, dimensions: newest.dimensions, suffixOverride: newest.suffix };
      }
    }
    // A table found by suffix for a lexical-only search gets no embedding service, so it is never written to
    // with vectors of another model.
    return new CodeIndex(
      path.resolve(target.root),
      await this.cached(target.storageDir, key),
      await this.getChunker(),
      embedding,
      this.log,
    );
  }

  /** The open store for a database folder and key (one LanceDB connection each, kept for the session). */
  private cached(dir: string, key: TableKey & { suffixOverride?: string }): Promise<IndexStore> {
    const id = `${dir}\0${JSON.stringify(key)}`;
    let store = this.stores.get(id);
    if (!store) {
      store = (async () => {
        const base = await IndexStore.open(dir, key);
        return key.suffixOverride ? base.withSuffix(key.suffixOverride, key) : base;
      })();
      store.catch(() => this.stores.delete(id));
      this.stores.set(id, store);
    }
    return store;
  }

  /** Drop stale tables (other models) or all tables of a database, and forget open indexes on it. */
  async drop(target: IndexTarget, which: "stale" | "all"): Promise<string[]> {
    await this.dispose();
    const store = await IndexStore.open(target.storageDir, this.key());
    try {
      return await store.dropTables(which === "stale" ? store.suffix : undefined);
    } finally {
      store.close();
    }
  }

  /** Close every open database (they reopen on the next request). */
  async dispose(): Promise<void> {
    const stores = await Promise.all([...this.stores.values()].map((s) => s.catch(() => undefined)));
    this.stores.clear();
    for (const s of stores) s?.close();
  }
}
