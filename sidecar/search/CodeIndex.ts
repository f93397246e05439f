import path from "node:path";
import { HearthError } from "../../shared/errors";
import type { EmbeddingEngine, RerankEngine } from "../engines/types";
import {
  ErrorCodes,
  type HitScores,
  type IndexBuildParams,
  type IndexBuildResult,
  type IndexDiscoveryOptions,
  type IndexProgressParams,
  type IndexSearchParams,
  type IndexSearchResult,
  type IndexStatusResult,
  type IndexUpdateParams,
  type IndexUpdateResult,
  type SearchHit,
  type SearchMode,
  type SkippedPath,
} from "../../shared/protocol";
import type { Chunk, Chunker } from "./chunker";
import { discoverFiles, isIndexable, readIndexableFile } from "./discover";
import { convexFusion, interpolate, reciprocalRankFusion } from "./fusion";
import { hitFileLines } from "./fileLines";
import { lexicalTerms, queryTerms } from "./identifiers";
import { languageOf } from "../../shared/languages";
import { type IndexStore, type ChunkRow, type FileRow } from "./store";
import { settingDefault } from "../../shared/settings";
import { insideRoot } from "../../shared/workspacePath";

const COLUMNS = ["id", "path", "language", "startLine", "endLine", "symbol", "text"];

/** The score the search itself ordered a hit by, before any rerank: fused, else vector, else lexical. */
function searchScore(s: HitScores): number {
  return s.fused ?? s.vector ?? s.lexical ?? 0;
}

/** The text a chunk is embedded (and reranked) as: its path and symbol, then its code. */
export function embeddingText(c: { path: string; symbol?: string; text: string }): string {
  return `${c.path}${c.symbol ? ` ${c.symbol}` : ""}\n${c.text}`;
}

function cancelled(): HearthError {
  return new HearthError(
    ErrorCodes.Cancelled,
    "Indexing cancelled; what was indexed so far is kept and the next run resumes.",
  );
}

/**
 * One workspace folder's code index: discovery → tree-sitter chunks → embeddings → LanceDB, and search over
 * it (lexical BM25, vector, hybrid by convex or reciprocal-rank fusion, optional cross-encoder rerank). The embedding
 * model in use decides the table (see {@link IndexStore}); without one the index is lexical only.
 */
export class CodeIndex {
  constructor(
    readonly root: string,
    readonly store: IndexStore,
    private readonly chunker: Chunker,
    private readonly embedding: EmbeddingEngine | undefined,
    private readonly log: (message: string) => void,
  ) {}

  private async chunkFile(
    rel: string,
    language: string,
    text: string,
    options: IndexDiscoveryOptions,
  ): Promise<Chunk[]> {
    return this.chunker.chunk(rel, language, text, {
      maxTokens: options.chunkTokens,
      overlapTokens: options.overlapTokens,
    });
  }

  private async rows(
    chunks: Chunk[],
    signal?: AbortSignal,
  ): Promise<{ rows: ChunkRow[]; embedMs: number; tokens: number }> {
    let embedMs = 0;
    let tokens = 0;
    let vectors: Float32Array[] | undefined;
    if (this.embedding && chunks.length) {
      const t = performance.now();
      const out = await this.embedding.embed(chunks.map(embeddingText), "document", signal);
      embedMs = performance.now() - t;
      tokens = out.tokens;
      vectors = out.vectors;
    }
    // A chunk's id is its path, lines and ordinal within its file: the same file gives the same ids whatever
    // batch it was written in, so a duplicate id always means a duplicate row.
    const ordinal = new Map<string, number>();
    const rows = chunks.map((c, i): ChunkRow => {
      const k = ordinal.get(c.path) ?? 0;
      ordinal.set(c.path, k + 1);
      return {
        id: `${c.path}#${c.startLine}-${c.endLine}#${k}`,
        path: c.path,
        language: c.language,
        startLine: c.startLine,
        endLine: c.endLine,
        symbol: c.symbol ?? "",
        text: c.text,
        // The symbol twice: a match on the definition's own name outweighs one on a mere use of it.
        terms: lexicalTerms(`${c.path} ${c.symbol ?? ""} ${c.symbol ?? ""} ${c.text}`),
        ...(vectors ? { vector: Array.from(vectors[i]!) } : {}),
      };
    });
    return { rows, embedMs, tokens };
  }

  /** See `index/build` in the protocol. @throws HearthError Cancelled (work so far is kept). */
  async build(
    params: IndexBuildParams,
    onProgress: (p: Omit<IndexProgressParams, "progressId">) => void,
    signal: AbortSignal,
  ): Promise<IndexBuildResult> {
    const started = performance.now();
    onProgress({ phase: "discover", filesDone: 0, filesTotal: 0, chunksDone: 0 });
    const { files, skipped } = await discoverFiles(this.root, {
      exclude: params.exclude,
      maxFileBytes: params.maxFileBytes,
      signal,
    });
    if (signal.aborted) throw cancelled();
    // --force rebuilds from nothing, also an index too damaged to read.
    if (params.force) await this.store.resetTables();
    const orphans = await this.store.dropOrphanChunks();
    if (orphans) this.log(`index: deleted ${orphans} chunks without a file row (left by an interrupted build)`);
    await this.store.touchMeta(this.root, false);
    const known = await this.store.fileHashes();
    const present = new Set(files.map((f) => f.path));
    const removed = [...known.keys()].filter((p) => !present.has(p));

    const batchSize = params.batchSize ?? settingDefault("index.batchSize");
    const totalBytes = files.reduce((s, f) => s + f.sizeBytes, 0);
    let doneBytes = 0;
    let filesDone = 0;
    let newChunks = 0;
    let indexed = 0;
    let unchanged = 0;
    let embedMs = 0;
    let embedTokens = 0;
    let pendingFiles: FileRow[] = [];
    let pendingChunks: Chunk[] = [];
    let lastProgress = 0;
    const progress = (force = false) => {
      const now = performance.now();
      if (!force && now - lastProgress < 100) return;
      lastProgress = now;
      const elapsed = now - started;
      const rate = doneBytes / elapsed;
      onProgress({
        phase: "index",
        filesDone,
        filesTotal: files.length,
        chunksDone: newChunks,
        etaMs: rate > 0 && filesDone > 0 ? Math.round((totalBytes - doneBytes) / rate) : undefined,
      });
    };
    const flush = async () => {
      if (!pendingFiles.length) return;
      const { rows, embedMs: ms, tokens } = await this.rows(pendingChunks, signal);
      await this.store.replaceFiles(pendingFiles, rows);
      embedMs += ms;
      embedTokens += tokens;
      newChunks += rows.length;
      pendingFiles = [];
      pendingChunks = [];
    };

    try {
      for (const file of files) {
        if (signal.aborted) throw cancelled();
        const read = await readIndexableFile(file.absPath, params.maxFileBytes);
        filesDone++;
        doneBytes += file.sizeBytes;
        if ("skip" in read) {
          skipped.push({ path: file.path, reason: read.skip });
          if (known.has(file.path)) removed.push(file.path);
          continue;
        }
        if (known.get(file.path) === read.hash) {
          unchanged++;
          progress();
          continue;
        }
        const chunks = await this.chunkFile(file.path, file.language, read.text, params);
        pendingFiles.push({ path: file.path, hash: read.hash, chunks: chunks.length });
        pendingChunks.push(...chunks);
        indexed++;
        if (pendingChunks.length >= batchSize) await flush();
        progress();
      }
      await flush();
    } catch (error) {
      if (signal.aborted || (error instanceof Error && error.name === "AbortError")) throw cancelled();
      throw error;
    }
    if (removed.length) await this.store.replaceFiles([], [], removed);
    progress(true);
    onProgress({ phase: "finalize", filesDone, filesTotal: files.length, chunksDone: newChunks });
    await this.store.finalize({ mergeVectorDeltas: true });
    await this.store.touchMeta(this.root, true);
    for (const s of skipped) this.log(`index: skipped ${s.path}: ${s.reason}`);
    const counts = await this.store.counts();
    return {
      ...counts,
      indexedFiles: indexed,
      unchangedFiles: unchanged,
      removedFiles: removed.length,
      newChunks,
      skipped,
      embeddingModel: this.store.key.model,
      table: this.store.chunkTable,
      timings: { totalMs: Math.round(performance.now() - started), embedMs: Math.round(embedMs), embedTokens },
    };
  }

  /** `root`-relative, `/`-separated form of a path from a watcher event. */
  private relative(p: string): string | undefined {
    const rel = path.isAbsolute(p) ? path.relative(this.root, p) : p;
    if (!rel || rel.startsWith("..") || path.isAbsolute(rel)) return undefined;
    return rel.split(path.sep).join("/");
  }

  /** See `index/update` in the protocol. */
  async update(params: IndexUpdateParams, signal: AbortSignal): Promise<IndexUpdateResult> {
    const started = performance.now();
    const skipped: SkippedPath[] = [];
    const removed = new Set((params.deleted ?? []).map((p) => this.relative(p)).filter((p): p is string => !!p));
    const changed = [...new Set((params.changed ?? []).map((p) => this.relative(p)).filter((p): p is string => !!p))];
    const known = await this.store.fileHashes([...new Set([...changed, ...removed])]);
    const files: FileRow[] = [];
    const chunks: Chunk[] = [];
    let unchanged = 0;
    for (const rel of changed) {
      signal.throwIfAborted();
      removed.delete(rel);
      const language = languageOf(rel);
      if (!language || !(await isIndexable(this.root, rel, { exclude: params.exclude }))) {
        if (known.has(rel)) removed.add(rel);
        continue;
      }
      const read = await readIndexableFile(path.join(this.root, rel), params.maxFileBytes);
      if ("skip" in read) {
        // A file that vanished between the event and now is a delete.
        skipped.push({ path: rel, reason: read.skip });
        if (known.has(rel)) removed.add(rel);
        continue;
      }
      if (known.get(rel) === read.hash) {
        unchanged++;
        continue;
      }
      const c = await this.chunkFile(rel, language, read.text, params);
      files.push({ path: rel, hash: read.hash, chunks: c.length });
      chunks.push(...c);
    }
    // Every removed path is deleted (a build running beside this update may have written chunks for it);
    // only the indexed ones are counted.
    const toRemove = [...removed].filter((p) => known.has(p));
    const { rows, embedMs } = await this.rows(chunks, signal);
    if (files.length || removed.size) await this.store.replaceFiles(files, rows, [...removed]);
    if (files.length || toRemove.length) await this.store.foldInIfNeeded();
    for (const s of skipped) this.log(`index: skipped ${s.path}: ${s.reason}`);
    return {
      updated: files.length,
      removed: toRemove.length,
      unchanged,
      skipped,
      chunks: rows.length,
      timings: { totalMs: Math.round(performance.now() - started), embedMs: Math.round(embedMs) },
    };
  }

  /** See `index/search` in the protocol. @throws HearthError NoModelLoaded for vector/hybrid without a model. */
  async search(
    params: IndexSearchParams,
    rerankService: RerankEngine | undefined,
    signal: AbortSignal,
  ): Promise<IndexSearchResult> {
    const started = performance.now();
    const mode: SearchMode = params.mode ?? (this.embedding ? "hybrid" : "lexical");
    const topK = params.topK ?? settingDefault("search.topK");
    const candidates = Math.max(params.candidates ?? 50, topK);
    if (mode !== "lexical" && !this.embedding) {
      throw new HearthError(
        ErrorCodes.NoModelLoaded,
        `${mode} search needs an embedding model, and none is loaded.`,
        "Set 'hearth.models.embedding' (CLI: --embedding-model), or search with mode 'lexical'.",
      );
    }
    const timings = { totalMs: 0, embedMs: 0, lexicalMs: 0, vectorMs: 0, rerankMs: 0 };
    const table = await this.store.chunks();
    type Row = {
      id: string;
      path: string;
      language: string;
      startLine: number;
      endLine: number;
      symbol: string;
      text: string;
    };
    const byId = new Map<string, Row>();
    const scores = new Map<string, SearchHit["scores"]>();
    const scoreOf = (id: string) => scores.get(id) ?? (scores.set(id, {}), scores.get(id)!);
    let lexicalIds: string[] = [];
    let vectorIds: string[] = [];

    if (mode !== "vector") {
      const t = performance.now();
      const terms = queryTerms(params.query);
      if (terms) {
        if (!this.store.ftsReady) await this.store.ensureFullTextIndex();
        const rows = (await table
          .search(terms, "fts", "terms")
          .select([...COLUMNS, "_score"])
          .limit(candidates)
          .toArray()) as Array<Row & { _score: number }>;
        rows.forEach((r, i) => {
          byId.set(r.id, r);
          Object.assign(scoreOf(r.id), { lexical: r._score, lexicalRank: i + 1 });
        });
        lexicalIds = rows.map((r) => r.id);
      }
      timings.lexicalMs = performance.now() - t;
    }
    if (mode !== "lexical" && this.embedding) {
      let t = performance.now();
      const { vectors } = await this.embedding.embed([params.query], "query", signal);
      timings.embedMs = performance.now() - t;
      t = performance.now();
      const rows = (await table
        .vectorSearch(Array.from(vectors[0]!))
        .distanceType("cosine")
        .select(COLUMNS)
        .limit(candidates)
        .toArray()) as Array<Row & { _distance: number }>;
      rows.forEach((r, i) => {
        byId.set(r.id, r);
        Object.assign(scoreOf(r.id), { vector: 1 - r._distance, vectorRank: i + 1 });
      });
      vectorIds = rows.map((r) => r.id);
      timings.vectorMs = performance.now() - t;
    }

    let order: string[];
    if (mode === "hybrid") {
      const weight = params.vectorWeight ?? settingDefault("search.vectorWeight");
      const fused =
        (params.fusion ?? settingDefault("search.fusion")) === "convex"
          ? convexFusion(
              lexicalIds.map((id) => ({ id, score: scoreOf(id).lexical! })),
              vectorIds.map((id) => ({ id, score: scoreOf(id).vector! })),
              weight / (1 + weight),
            )
          : reciprocalRankFusion([{ ids: lexicalIds }, { ids: vectorIds, weight }]);
      for (const f of fused) scoreOf(f.id).fused = f.score;
      order = fused.map((f) => f.id);
    } else {
      order = mode === "lexical" ? lexicalIds : vectorIds;
    }

    const doRerank = (params.rerank ?? rerankService !== undefined) && order.length > 1;
    if (doRerank && !rerankService) {
      throw new HearthError(
        ErrorCodes.NoModelLoaded,
        "Reranking was asked for, but no reranker is loaded.",
        "Set 'hearth.models.rerank' (CLI: --rerank-model), or search without rerank.",
      );
    }
    let rerankCut: IndexSearchResult["rerankCut"];
    if (doRerank && rerankService) {
      const t = performance.now();
      const candidates = order.slice(0, Math.max(params.rerankTopN ?? 20, 1));
      const budgetMs = params.rerankBudgetMs ?? settingDefault("search.rerankBudgetMs");
      const rs = await rerankService.rank(
        params.query,
        candidates.map((id) => embeddingText(byId.get(id)!)),
        signal,
        budgetMs > 0 ? t + budgetMs : undefined,
      );
      // Past the budget only the first candidates have scores: those are reordered, the rest keep their place.
      const head = candidates.slice(0, rs.length);
      if (head.length < candidates.length) {
        rerankCut = { scored: head.length, candidates: candidates.length };
        this.log(
          `search: the rerank time budget (${budgetMs} ms) ran out after ${head.length} of ${candidates.length} candidates`,
        );
      }
      head.forEach((id, i) => (scoreOf(id).rerank = rs[i]));
      const weight = params.rerankWeight ?? settingDefault("search.rerankWeight");
      let final = rs;
      if (weight < 1) {
        final = interpolate(
          rs,
          head.map((id) => searchScore(scoreOf(id))),
          weight,
        );
        head.forEach((id, i) => (scoreOf(id).interpolated = final[i]));
      }
      const reordered = head.map((id, i) => ({ id, s: final[i]!, i })).sort((a, b) => b.s - a.s || a.i - b.i);
      order = [...reordered.map((r) => r.id), ...order.slice(head.length)];
      timings.rerankMs = performance.now() - t;
    }

    const { kept, dropped } = await this.checkAgainstFiles(
      order.map((id) => byId.get(id)!),
      topK,
    );
    if (dropped.length) {
      this.log(`search: left out ${dropped.length} hits whose text no longer matches its file: ${dropped.join(", ")}`);
    }
    const hits: SearchHit[] = kept.map((r) => {
      const id = r.id;
      const s = scoreOf(id);
      return {
        path: r.path,
        startLine: r.startLine,
        endLine: r.endLine,
        symbol: r.symbol || undefined,
        language: r.language,
        text: r.text,
        score: s.interpolated ?? s.rerank ?? searchScore(s),
        scores: s,
      };
    });
    timings.totalMs = performance.now() - started;
    for (const k of Object.keys(timings) as (keyof typeof timings)[]) timings[k] = Math.round(timings[k] * 100) / 100;
    const partial = !(await this.store.isComplete());
    return {
      hits,
      mode,
      reranked: doRerank,
      table: this.store.chunkTable,
      timings,
      ...(dropped.length ? { staleHits: dropped.length } : {}),
      ...(partial ? { partial } : {}),
      ...(rerankCut ? { rerankCut } : {}),
    };
  }

  /**
   * The first `topK` rows, in order, whose text is still lines `startLine..endLine` of their file under the
   * root: a file edited since it was indexed (before the watcher's update) or a damaged row (altered text, a
   * path outside the root) is left out rather than shown or put into a prompt.
   * @returns kept rows, and `path:start-end` of each row left out.
   */
  private async checkAgainstFiles<R extends { path: string; startLine: number; endLine: number; text: string }>(
    rows: R[],
    topK: number,
  ): Promise<{ kept: R[]; dropped: string[] }> {
    const files = new Map<string, Promise<string[] | undefined>>();
    const linesOf = (rel: string) => {
      let p = files.get(rel);
      if (!p) {
        const abs = insideRoot(this.root, rel);
        p = abs ? hitFileLines.get(abs) : Promise.resolve(undefined);
        files.set(rel, p);
      }
      return p;
    };
    const kept: R[] = [];
    const dropped: string[] = [];
    for (const r of rows) {
      if (kept.length >= topK) break;
      const lines = await linesOf(r.path);
      const same =
        lines !== undefined &&
        r.startLine >= 1 &&
        r.endLine <= lines.length &&
        lines.slice(r.startLine - 1, r.endLine).join("\n") === r.text;
      if (same) kept.push(r);
      else dropped.push(`${r.path}:${r.startLine}-${r.endLine}`);
    }
    return { kept, dropped };
  }

  async status(): Promise<IndexStatusResult> {
    const counts = await this.store.counts();
    return {
      exists: await this.store.exists(),
      ...counts,
      table: this.store.chunkTable,
      embeddingModel: this.store.key.model,
      dimensions: this.store.key.dimensions,
      tables: (await this.store.tableSuffixes()).map((t) => `chunks_${t.suffix}`),
      diskBytes: await this.store.diskBytes(),
      complete: await this.store.isComplete(),
    };
  }
}
