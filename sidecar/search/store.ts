import os from "node:os";
import { promises as fs } from "node:fs";
import path from "node:path";
import type * as LanceDb from "@lancedb/lancedb";
import { Field, FixedSizeList, Float32, Int32, Schema, Utf8 } from "apache-arrow";
import lockfile from "proper-lockfile";
import { HearthError } from "../../shared/errors";
import { ErrorCodes } from "../../shared/protocol";

/** One stored chunk. `terms` is the identifier-split text the full-text index sees (see lexicalTerms). */
export interface ChunkRow {
  id: string;
  path: string;
  language: string;
  startLine: number;
  endLine: number;
  symbol: string;
  text: string;
  terms: string;
  vector?: number[];
}

/** One indexed file: the content hash its chunks were made from. Written only after its chunks. */
export interface FileRow {
  path: string;
  hash: string;
  chunks: number;
}

/** What identifies a chunk table: the embedding model (none = lexical only) and its vector size. */
export interface TableKey {
  /** Display name of the embedding model; undefined for a lexical-only index. */
  model?: string;
  /** Identity of the model file (name + size), so a different file under the same name gets a new table. */
  modelId?: string;
  dimensions?: number;
}

interface Meta {
  tables: Record<
    string,
    {
      model?: string;
      dimensions?: number;
      root: string;
      updatedAt: number;
      /** False from the start of a build until its end: an interrupted build leaves a partial index. */
      complete?: boolean;
    }
  >;
}

let lanceDbModule: Promise<typeof LanceDb> | undefined;

/** See {@link IndexStore.foldInIfNeeded}: fold updates into a full-text index smaller than this (rows). */
const FOLD_IN_BELOW_ROWS = 2000;
/** … or when this many rows are waiting for it (flat-scanned on every search until then). */
const FOLD_IN_ABOVE_UNINDEXED = 2000;

/**
 * Fault suite only: a pause between a batch's chunks and its file rows, ms, so a kill lands in that window
 * (`HEARTH_FAULT_PAUSE_AFTER_CHUNKS_MS`; 0, the default, means none).
 */
const FAULT_PAUSE_MS = Number(process.env["HEARTH_FAULT_PAUSE_AFTER_CHUNKS_MS"] ?? 0) || 0;

/**
 * Build an ANN index on `vector` once a table has this many rows (see {@link vectorIndexConfig}). Below it
 * LanceDB's exact scan is fast enough (measured on 2 cores, 384 dimensions: ~50 ms at 22k rows); above, it
 * grows with the rows (276 ms at 102k), past the 50 ms a hybrid search may take.
 */
export const VECTOR_INDEX_FROM_ROWS = 10_000;

/**
 * Re-create the vector index at the end of a build when `optimize` has left it in more pieces than this.
 * LanceDB folds new rows into a vector index as a delta index of their own, and every search visits each:
 * measured on `bench:hybrid`'s index of 278,757 chunks built in 57 steps, 54 deltas made the vector search p50
 * 52.3 ms, 16.9 ms once re-created whole. Re-creating took 350 s there (2 cores), hence only at a build's end,
 * never in the fold-in of a one-file update.
 */
export const MAX_VECTOR_INDEX_DELTAS = 8;

/**
 * Names of the chunk table's indices (LanceDB's defaults, `<column>_idx`, which earlier versions used too). They
 * are looked up by name (`indexStats`, 1–9 ms), never by `listIndices()`, which reads every delta of every index
 * (652 ms with 55 of them).
 */
const FTS_INDEX = "terms_idx";
const VECTOR_INDEX = "vector_idx";

/** How long superseded table versions stay on disk before `finalize` deletes them, ms. */
const VERSION_RETENTION_MS = 10 * 60_000;

/**
 * The writer lock of a database folder (another process may write the same folder: a second VS Code window,
 * `hearth index` beside the extension). proper-lockfile refreshes the lock's mtime every `update` ms; a lock
 * not refreshed for `stale` ms (its holder was killed) is taken over. A writer waits up to ~30 s for it.
 */
const WRITE_LOCK = { stale: 5000, update: 1000 } as const;
/** How long a writer waits for another process's lock, ms, retrying every 100–500 ms. */
const WRITE_LOCK_WAIT_MS = 30_000;

/**
 * LanceDB, imported on first use: its native logger reads `LANCEDB_LOG` once, when the module loads, and we
 * want only errors on the sidecar's stderr (warnings such as "no existing dataset, it will be created" are
 * normal here).
 */
function loadLanceDb(): Promise<typeof LanceDb> {
  process.env["LANCEDB_LOG"] ??= "error";
  // Index statistics without the vector index's centroids (Lance's coming default; they can be large).
  process.env["LANCE_INCLUDE_VECTOR_CENTROIDS"] ??= "false";
  setLanceCpuThreads(process.env, os.availableParallelism());
  lanceDbModule ??= import("@lancedb/lancedb");
  return lanceDbModule;
}

/**
 * Give Lance's CPU pool at least 2 threads (`LANCE_CPU_THREADS`, read when its runtime starts), unless the user
 * set it. Lance sizes the pool as the cores minus 2 reserved for I/O, at least 1; with a single thread its
 * full-text index builder deadlocks once the index needs more than one batch of posting lists: the producer
 * holds the only thread while waiting for the writer, which needs a thread (lancedb/lancedb#3568,
 * lance-format/lance#7350). Seen here: on 2 cores a lexical build of 35,074 chunks hung for good at 0 % CPU in
 * its final createIndex; with 2 threads it took 30.6 s.
 * @returns the value now set, or undefined when the environment already had one.
 */
export function setLanceCpuThreads(env: NodeJS.ProcessEnv, cores: number): string | undefined {
  if (env["LANCE_CPU_THREADS"]) return undefined;
  env["LANCE_CPU_THREADS"] = String(Math.max(2, cores - 2));
  return env["LANCE_CPU_THREADS"];
}

/**
 * The full-text index on `terms`: whitespace-split (the terms are split already), lowercased, English-stemmed,
 * stop words kept (`if`, `for` are identifiers' parts in code), no positions (no phrase queries).
 */
export function ftsIndexConfig(lancedb: typeof LanceDb): LanceDb.Index {
  return lancedb.Index.fts({
    baseTokenizer: "whitespace",
    lowercase: true,
    stem: true,
    language: "English",
    removeStopWords: false,
    withPosition: false,
  });
}

/**
 * The vector index: IVF partitions, an HNSW graph in each, vectors scalar-quantized (LanceDB's `IVF_HNSW_SQ`),
 * cosine as the searches use. Chosen by measurement (`npm run bench:vector-index`: 100k clustered 384-wide
 * vectors on 2 cores): built in 48 s, p50 4.7 ms at recall@10 0.99 against the exact scan (190 ms), where
 * `IVF_PQ` took 63 s and gave recall 0.15 (0.82 with a 5× refine, at 24 ms). Rows added after it are scanned
 * exactly until `optimize` folds them in, so a search never misses them.
 */
export function vectorIndexConfig(lancedb: typeof LanceDb): LanceDb.Index {
  return lancedb.Index.hnswSq({ distanceType: "cosine" });
}

/** `'` doubled for a SQL string literal in a LanceDB filter. */
export const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** Table-name suffix for a key: `lexical`, or a slug of the model plus a short hash plus the dimension. */
export function tableSuffix(key: TableKey): string {
  if (!key.model || !key.dimensions) return "lexical";
  const slug = key.model
    .toLowerCase()
    .replace(/\.gguf$/, "")
    .replace(/[^a-z0-9]+/g, "_")
    .slice(0, 40);
  let h = 0x811c9dc5; // FNV-1a of the model identity
  for (const c of key.modelId ?? key.model) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return `${slug}_${h.toString(16)}_${key.dimensions}`;
}

/** Tuning of an {@link IndexStore}; the defaults are the product's. */
export interface StoreOptions {
  /** Rows from which `finalize` builds the vector index (default {@link VECTOR_INDEX_FROM_ROWS}). */
  vectorIndexFromRows?: number;
}

/**
 * The code index on disk: a LanceDB database in `dir` with, per workspace and embedding model, a chunk table
 * (`chunks_<suffix>`: text, identifier terms with a full-text index, optional vector) and a file table
 * (`files_<suffix>`: path → content hash). A change of model or dimension means another suffix, hence another
 * pair of tables; old pairs stay until {@link dropTables}.
 *
 * Crash safety: {@link replaceFiles} first deletes the files' rows in the file table, then their chunks, then
 * adds the new chunks, and only then the new file rows. Each step is one atomic LanceDB commit, so an
 * interruption at any point leaves those files without a file row, and the next run indexes them again.
 */
export class IndexStore {
  private tablePromises = new Map<string, Promise<LanceDb.Table>>();
  private writes: Promise<unknown> = Promise.resolve();
  /** Whether the full-text index is known to exist (checked before the first lexical search). */
  ftsReady = false;

  private constructor(
    readonly dir: string,
    private readonly db: LanceDb.Connection,
    readonly suffix: string,
    readonly key: TableKey,
    private readonly options: StoreOptions,
  ) {}

  /** Open (creating if needed) the database in `dir` for one table key. */
  static async open(dir: string, key: TableKey, options: StoreOptions = {}): Promise<IndexStore> {
    await fs.mkdir(dir, { recursive: true });
    const lancedb = await loadLanceDb();
    // Strong consistency: every read sees the latest commit, also one made by another process on the same
    // folder (a second VS Code window, `hearth index` beside the extension). A local manifest check is cheap.
    const db = await lancedb.connect(dir, { readConsistencyInterval: 0 });
    return new IndexStore(dir, db, tableSuffix(key), key, options);
  }

  get chunkTable(): string {
    return `chunks_${this.suffix}`;
  }
  get fileTable(): string {
    return `files_${this.suffix}`;
  }

  private chunkSchema(): Schema {
    const fields: Field[] = [
      new Field("id", new Utf8(), false),
      new Field("path", new Utf8(), false),
      new Field("language", new Utf8(), false),
      new Field("startLine", new Int32(), false),
      new Field("endLine", new Int32(), false),
      new Field("symbol", new Utf8(), false),
      new Field("text", new Utf8(), false),
      new Field("terms", new Utf8(), false),
    ];
    if (this.key.dimensions) {
      fields.push(
        new Field("vector", new FixedSizeList(this.key.dimensions, new Field("item", new Float32(), true)), false),
      );
    }
    return new Schema(fields);
  }

  private fileSchema(): Schema {
    return new Schema([
      new Field("path", new Utf8(), false),
      new Field("hash", new Utf8(), false),
      new Field("chunks", new Int32(), false),
    ]);
  }

  private table(name: string, schema: () => Schema): Promise<LanceDb.Table> {
    let t = this.tablePromises.get(name);
    if (!t) {
      t = (async () => {
        const names = await this.db.tableNames();
        return names.includes(name)
          ? this.db.openTable(name)
          : this.db.createEmptyTable(name, schema(), { existOk: true });
      })();
      t.catch(() => this.tablePromises.delete(name));
      this.tablePromises.set(name, t);
    }
    return t;
  }

  chunks(): Promise<LanceDb.Table> {
    return this.table(this.chunkTable, () => this.chunkSchema());
  }

  files(): Promise<LanceDb.Table> {
    return this.table(this.fileTable, () => this.fileSchema());
  }

  /** Whether this key's tables exist on disk already. */
  async exists(): Promise<boolean> {
    return (await this.db.tableNames()).includes(this.chunkTable);
  }

  /**
   * Serialise writes: within this process by a queue, across processes by the folder's writer lock
   * ({@link WRITE_LOCK}), so two writers never interleave a batch's delete-then-add.
   * @throws HearthError IndexBusy when another process held the lock for longer than the wait.
   */
  private write<T>(fn: () => Promise<T>): Promise<T> {
    const locked = () => this.withFolderLock(fn);
    const run = this.writes.then(locked, locked);
    this.writes = run.catch(() => undefined);
    return run;
  }

  /**
   * Take the folder's writer lock, waiting while another process holds it (ELOCKED) for at most
   * {@link WRITE_LOCK_WAIT_MS}; any other error (read-only, full disk) is thrown at once.
   * @throws HearthError IndexBusy when the wait ran out.
   */
  private async acquireFolderLock(): Promise<() => Promise<void>> {
    const deadline = Date.now() + WRITE_LOCK_WAIT_MS;
    for (let delay = 100; ; delay = Math.min(delay * 1.5, 500)) {
      try {
        return await lockfile.lock(this.dir, {
          ...WRITE_LOCK,
          retries: 0,
          lockfilePath: path.join(this.dir, "hearth-write.lock"),
          realpath: false,
          // A lock found stolen (this process was stalled past `stale`) is logged, not thrown from a timer
          // where nothing could catch it.
          onCompromised: (error) => console.error(`index: the writer lock of ${this.dir} was lost: ${error.message}`),
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
        if (Date.now() + delay > deadline) {
          throw new HearthError(
            ErrorCodes.IndexBusy,
            `Another process is writing the index at ${this.dir}, and it did not finish within ${WRITE_LOCK_WAIT_MS / 1000} s.`,
            "Wait for the other window or `hearth index` to finish, then try again.",
          );
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async withFolderLock<T>(fn: () => Promise<T>): Promise<T> {
    // The folder may have been deleted under an open store (a cleared cache); the lock lives inside it.
    await fs.mkdir(this.dir, { recursive: true });
    const release = await this.acquireFolderLock();
    try {
      return await fn();
    } finally {
      await release().catch(() => undefined);
    }
  }

  /** path → content hash of every indexed file, or only of `paths` (a watcher update: no full-table read). */
  async fileHashes(paths?: readonly string[]): Promise<Map<string, string>> {
    if (paths && paths.length === 0) return new Map();
    let query = (await this.files()).query().select(["path", "hash"]);
    if (paths) query = query.where(`path IN (${paths.map(sqlString).join(", ")})`);
    const rows = (await query.toArray()) as FileRow[];
    return new Map(rows.map((r) => [r.path, r.hash]));
  }

  /**
   * Replace the chunks of `files` (new or changed) with `chunks`, and remove the files in `removed`.
   * See the class comment for the write order that keeps an interrupted run recoverable. Every path written
   * is deleted first, whatever the file table said when the caller read it: an interrupted run, another
   * writer, or a watcher update during a build may have added chunks for it since.
   */
  replaceFiles(files: FileRow[], chunks: ChunkRow[], removed: string[] = []): Promise<void> {
    return this.write(async () => {
      const paths = [...new Set([...files.map((f) => f.path), ...removed])];
      const chunkTable = await this.chunks();
      const fileTable = await this.files();
      // Bounded IN lists: LanceDB parses the filter as SQL.
      for (let i = 0; i < paths.length; i += 500) {
        const list = paths
          .slice(i, i + 500)
          .map(sqlString)
          .join(", ");
        await fileTable.delete(`path IN (${list})`);
        await chunkTable.delete(`path IN (${list})`);
      }
      if (chunks.length) await chunkTable.add(chunks as unknown as Record<string, unknown>[]);
      if (FAULT_PAUSE_MS && chunks.length) await new Promise((r) => setTimeout(r, FAULT_PAUSE_MS));
      if (files.length) await fileTable.add(files as unknown as Record<string, unknown>[]);
    });
  }

  /**
   * Delete chunks whose path has no file row: what a run killed between adding a batch's chunks and its file
   * rows left behind, for files that since vanished (files still there are rewritten, deleting them first).
   * @returns the number of chunk rows deleted.
   */
  dropOrphanChunks(): Promise<number> {
    return this.write(async () => {
      const chunkTable = await this.chunks();
      const indexed = new Set((await this.fileHashes()).keys());
      const rows = (await chunkTable.query().select(["path"]).toArray()) as Array<{ path: string }>;
      const perPath = new Map<string, number>();
      for (const r of rows) if (!indexed.has(r.path)) perPath.set(r.path, (perPath.get(r.path) ?? 0) + 1);
      const orphans = [...perPath.keys()];
      for (let i = 0; i < orphans.length; i += 500) {
        await chunkTable.delete(
          `path IN (${orphans
            .slice(i, i + 500)
            .map(sqlString)
            .join(", ")})`,
        );
      }
      const deleted = [...perPath.values()].reduce((a, b) => a + b, 0);
      return deleted;
    });
  }

  /**
   * Delete this key's two tables whatever state they are in (`index/build` with `force` on a damaged index):
   * dropped through LanceDB when it can still open them, else their folders removed.
   */
  resetTables(): Promise<void> {
    return this.write(async () => {
      for (const name of [this.chunkTable, this.fileTable]) {
        this.tablePromises.delete(name);
        await this.db.dropTable(name).catch(() => undefined);
        await fs.rm(path.join(this.dir, `${name}.lance`), { recursive: true, force: true });
      }
      this.ftsReady = false;
    });
  }

  /**
   * Bring indices up to date after writes: create the full-text index on `terms` when missing (LanceDB's BM25
   * index) and the vector index once the table has {@link StoreOptions.vectorIndexFromRows} rows, otherwise
   * fold new rows into them; with `mergeVectorDeltas` (a build's end), re-create the vector index once it is in
   * more than {@link MAX_VECTOR_INDEX_DELTAS} pieces; compact fragments and drop old versions.
   */
  finalize(options: { mergeVectorDeltas?: boolean } = {}): Promise<void> {
    return this.write(async () => {
      const table = await this.chunks();
      await this.createFullTextIndexIfMissing(table);
      // Old versions are kept for a while: another process may still be reading one.
      const cleanupOlderThan = new Date(Date.now() - VERSION_RETENTION_MS);
      await table.optimize({ cleanupOlderThan });
      await this.createVectorIndexIfDue(table, options.mergeVectorDeltas ?? false);
      await (await this.files()).optimize({ cleanupOlderThan });
    });
  }

  private async createFullTextIndexIfMissing(table: LanceDb.Table): Promise<void> {
    if (!(await table.indexStats(FTS_INDEX))) {
      await table.createIndex("terms", { config: ftsIndexConfig(await loadLanceDb()), name: FTS_INDEX });
    }
    this.ftsReady = true;
  }

  /**
   * After optimize: create the vector index when due, or with `merge` re-create it when optimize has left it in
   * more than {@link MAX_VECTOR_INDEX_DELTAS} pieces.
   */
  private async createVectorIndexIfDue(table: LanceDb.Table, merge: boolean): Promise<void> {
    if (!this.key.dimensions) return;
    const stats = await table.indexStats(VECTOR_INDEX);
    if (stats && (!merge || (stats.numIndices ?? 1) <= MAX_VECTOR_INDEX_DELTAS)) return;
    if (!stats && (await table.countRows()) < (this.options.vectorIndexFromRows ?? VECTOR_INDEX_FROM_ROWS)) return;
    await table.createIndex("vector", { config: vectorIndexConfig(await loadLanceDb()), name: VECTOR_INDEX });
  }

  /**
   * After an incremental update: fold new rows into the full-text index when the index is tiny or many rows
   * are unindexed, else leave them to LanceDB's flat scan of unindexed rows (an optimize costs ~0.5 s at
   * 17k chunks, too slow for every save).
   *
   * Why tiny indexes: LanceDB scores unindexed rows with the index's BM25 statistics, and over an index of a
   * handful of rows a new row can score ≤ 0 and be dropped (seen: index over 1 chunk, a new chunk repeating
   * its words was not returned for them until optimize). Below {@link FOLD_IN_BELOW_ROWS} rows optimize costs
   * a few ms.
   */
  foldInIfNeeded(): Promise<void> {
    return (async () => {
      const table = await this.chunks();
      const stats = await table.indexStats(FTS_INDEX);
      if (!stats || stats.numIndexedRows < FOLD_IN_BELOW_ROWS || stats.numUnindexedRows > FOLD_IN_ABOVE_UNINDEXED)
        await this.finalize();
    })();
  }

  /** Create the full-text index if it is missing (a build interrupted before its end), without optimizing. */
  async ensureFullTextIndex(): Promise<void> {
    // Looked up without the writer lock: a search on a read-only or full disk must not need to write.
    if (await (await this.chunks()).indexStats(FTS_INDEX)) {
      this.ftsReady = true;
      return;
    }
    return this.write(async () => this.createFullTextIndexIfMissing(await this.chunks()));
  }

  /**
   * Record which root and model the tables serve (for `index/status` and choosing a table for lexical search),
   * and whether the build that wrote them finished (`complete` false at a build's start, true at its end).
   */
  touchMeta(root: string, complete = true): Promise<void> {
    return this.write(async () => {
      const meta = await readMeta(this.dir);
      meta.tables[this.suffix] = {
        model: this.key.model,
        dimensions: this.key.dimensions,
        root,
        updatedAt: Date.now(),
        complete,
      };
      await writeMetaAtomic(this.dir, meta);
    });
  }

  /** False when the last build of this table was interrupted (its index covers only part of the folder). */
  async isComplete(): Promise<boolean> {
    return (await readMeta(this.dir)).tables[this.suffix]?.complete !== false;
  }

  async counts(): Promise<{ files: number; chunks: number }> {
    if (!(await this.exists())) return { files: 0, chunks: 0 };
    return { files: await (await this.files()).countRows(), chunks: await (await this.chunks()).countRows() };
  }

  /** Drop every table pair except `keep` (a suffix), or all when `keep` is undefined. Returns dropped names. */
  async dropTables(keep?: string): Promise<string[]> {
    const dropped: string[] = [];
    const meta = await readMeta(this.dir);
    for (const name of await this.db.tableNames()) {
      const m = /^(chunks|files)_(.+)$/.exec(name);
      if (!m || m[2] === keep) continue;
      await this.db.dropTable(name);
      this.tablePromises.delete(name);
      delete meta.tables[m[2]!];
      dropped.push(name);
    }
    await writeMetaAtomic(this.dir, meta);
    return dropped;
  }

  /** Suffixes of the chunk tables on disk, most recently updated first. */
  async tableSuffixes(): Promise<Array<{ suffix: string; model?: string; dimensions?: number; updatedAt: number }>> {
    const meta = await readMeta(this.dir);
    const names = await this.db.tableNames();
    return names
      .filter((n) => n.startsWith("chunks_"))
      .map((n) => n.slice("chunks_".length))
      .map((suffix) => ({ suffix, ...(meta.tables[suffix] ?? { updatedAt: 0 }) }))
      .sort((a, b) => b.updatedAt - a.updatedAt);
  }

  /** Another store on the same database for an existing suffix (used to search the latest table lexically). */
  async withSuffix(suffix: string, key: TableKey): Promise<IndexStore> {
    return new IndexStore(this.dir, this.db, suffix, key, this.options);
  }

  /** Bytes on disk of the whole database folder. */
  async diskBytes(): Promise<number> {
    return dirSize(this.dir);
  }

  close(): void {
    this.db.close();
  }
}

async function readMeta(dir: string): Promise<Meta> {
  try {
    const meta = JSON.parse(await fs.readFile(path.join(dir, "hearth-index.json"), "utf8")) as Meta;
    return meta && typeof meta.tables === "object" ? meta : { tables: {} };
  } catch {
    return { tables: {} };
  }
}

async function writeMetaAtomic(dir: string, meta: Meta): Promise<void> {
  const file = path.join(dir, "hearth-index.json");
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(meta, null, 2));
  await fs.rename(tmp, file);
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await dirSize(p);
    else if (entry.isFile()) total += (await fs.stat(p)).size;
  }
  return total;
}
