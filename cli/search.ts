import { promises as fs } from "node:fs";
import path from "node:path";
import { describeScores, hitJson, hitLocation, searchMethod, snippet } from "../common/search/format";
import type { SidecarProcess } from "../common/sidecar/SidecarProcess";
import type {
  IndexBuildParams,
  IndexBuildResult,
  IndexSearchParams,
  FusionMethod,
  SearchMode,
} from "../shared/protocol";
import { terminalSafe } from "./terminal";

export interface IndexCliOptions {
  root: string;
  storageDir: string;
  verbose: boolean;
  force?: boolean;
  maxFileBytes?: number;
  batchSize?: number;
  /** Draw a progress bar on stderr. */
  tty: boolean;
}

function seconds(ms: number | undefined): string {
  if (ms === undefined) return "…";
  return ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s` : `${Math.round(ms / 1000)}s`;
}

/**
 * Build or update the index of `root` (`hearth index`), with a progress bar on a TTY. Prints a summary to
 * stderr, and with `verbose` every skipped path with its reason.
 */
export async function runIndex(sidecar: SidecarProcess, options: IndexCliOptions): Promise<IndexBuildResult> {
  const progressId = "cli-index";
  const sub = sidecar.onNotification("index/progress", (p) => {
    if (!options.tty || p.progressId !== progressId) return;
    if (p.phase === "discover") return void process.stderr.write("\rDiscovering files…");
    if (p.phase === "finalize") return void process.stderr.write("\r\x1b[KUpdating the full-text index…");
    const width = 24;
    const fraction = p.filesTotal ? p.filesDone / p.filesTotal : 0;
    const bar = "#".repeat(Math.round(fraction * width)).padEnd(width, ".");
    process.stderr.write(
      `\r\x1b[K[${bar}] ${p.filesDone}/${p.filesTotal} files · ${p.chunksDone} chunks · ETA ${seconds(p.etaMs)}`,
    );
  });
  const params: IndexBuildParams = {
    root: options.root,
    storageDir: options.storageDir,
    progressId,
    force: options.force,
    maxFileBytes: options.maxFileBytes,
    batchSize: options.batchSize,
  };
  try {
    const result = await sidecar.request("index/build", params);
    if (options.tty) process.stderr.write("\r\x1b[K");
    if (options.verbose)
      for (const s of result.skipped) process.stderr.write(terminalSafe(`skipped ${s.path}: ${s.reason}`) + "\n");
    const t = result.timings;
    process.stderr.write(
      `Indexed ${result.files} files (${result.chunks} chunks) in ${(t.totalMs / 1000).toFixed(1)} s: ` +
        `${result.indexedFiles} new or changed, ${result.unchangedFiles} unchanged, ${result.removedFiles} removed, ` +
        `${result.skipped.length} skipped${options.verbose ? "" : " (--verbose lists them)"}. ` +
        `${result.embeddingModel ? `Embeddings: ${result.embeddingModel}, ${t.embedTokens} tokens in ${(t.embedMs / 1000).toFixed(1)} s.` : "Lexical only (no embedding model)."}\n`,
    );
    return result;
  } finally {
    sub.dispose();
  }
}

export interface SearchCliOptions {
  root: string;
  storageDir: string;
  query?: string;
  /** A JSONL file with one {"q": "..."} per line (batch evaluation in one sidecar session). */
  queriesFile?: string;
  topK: number;
  mode?: SearchMode;
  /** Hybrid fusion (see `IndexSearchParams.fusion` and `vectorWeight`). */
  fusion?: FusionMethod;
  vectorWeight?: number;
  /** See `IndexSearchParams.rerankWeight`. */
  rerankWeight?: number;
  /** See `IndexSearchParams.rerankBudgetMs`. */
  rerankBudgetMs?: number;
  rerank?: boolean;
  json: boolean;
}

/** `hearth search`: prints hits best first (or JSON; one line per query with --queries). Returns the exit code. */
export async function runSearch(sidecar: SidecarProcess, options: SearchCliOptions): Promise<number> {
  const base: Omit<IndexSearchParams, "query"> = {
    root: options.root,
    storageDir: options.storageDir,
    topK: options.topK,
    mode: options.mode,
    fusion: options.fusion,
    vectorWeight: options.vectorWeight,
    rerankWeight: options.rerankWeight,
    rerankBudgetMs: options.rerankBudgetMs,
    rerank: options.rerank,
  };
  if (options.queriesFile) {
    const lines = (await fs.readFile(path.resolve(options.queriesFile), "utf8")).split("\n");
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      let q: unknown;
      try {
        q = (JSON.parse(line) as { q?: unknown }).q;
      } catch {
        throw new Error(`${options.queriesFile}:${i + 1}: not JSON (expected {"q": "..."})`);
      }
      if (typeof q !== "string") throw new Error(`${options.queriesFile}:${i + 1}: no string "q" field`);
      const result = await sidecar.request("index/search", { ...base, query: q });
      process.stdout.write(`${JSON.stringify({ q, hits: result.hits.map(hitJson) })}\n`);
    }
    return 0;
  }
  const result = await sidecar.request("index/search", { ...base, query: options.query ?? "" });
  if (result.staleHits) {
    process.stderr.write(
      `${result.staleHits} hit(s) left out: their files changed since they were indexed. Run \`hearth index\` to update.\n`,
    );
  }
  if (result.partial) {
    process.stderr.write(
      "The index is incomplete (its last build was interrupted): run `hearth index` to finish it.\n",
    );
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result.hits.map(hitJson))}\n`);
    return 0;
  }
  if (result.hits.length === 0) {
    process.stderr.write("No hits.\n");
    return 1;
  }
  result.hits.forEach((hit, i) => {
    process.stdout.write(
      terminalSafe(
        `${i + 1}. ${hitLocation(hit)}${hit.symbol ? `  ${hit.symbol}` : ""}  score ${hit.score.toFixed(4)}`,
      ) + "\n",
    );
    process.stdout.write(`   ${describeScores(hit.scores)}\n`);
    for (const l of snippet(hit.text)) process.stdout.write(`   │ ${terminalSafe(l)}\n`);
  });
  const t = result.timings;
  process.stderr.write(
    `${searchMethod(result)} search in ${t.totalMs.toFixed(1)} ms ` +
      `(embed ${t.embedMs} · lexical ${t.lexicalMs} · vector ${t.vectorMs} · rerank ${t.rerankMs} ms)\n`,
  );
  return 0;
}
