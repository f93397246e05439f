/**
 * `npm run bench:fts` — LanceDB's full-text index alone, at the sizes code search meets: rows of identifier-split
 * terms (`lexicalTerms`, as the index stores them) from 40-line windows of real packages in node_modules, in one
 * table on a temp dir. For each size it prints how long creating the index takes, how long folding 1,000 new rows
 * in takes — by `optimize()` (LanceDB merges them into the index) and by re-creating the index with
 * `replace: true` — and BM25 query latency p50/p95 with the index fresh and with 1,000 rows unindexed (LanceDB
 * scans those flat). Each step is bounded by `--step-timeout` seconds and reported as not finished past it.
 *
 *   npm run bench:fts [-- --sizes 10000,50000,100000] [--step-timeout 300]
 *
 * It isolates what bounds lexical search at 100k chunks (issue 21): the store, not the sidecar around it.
 */
import { promises as fs, readdirSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Field, Schema, Utf8 } from "apache-arrow";
import { lexicalTerms, queryTerms } from "../sidecar/search/identifiers";
import { ftsIndexConfig, setLanceCpuThreads } from "../sidecar/search/store";
import { pct } from "./stats";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "10000,50000,100000" },
    "step-timeout": { type: "string", default: "300" },
  },
});
const sizes = values.sizes!.split(",").map(Number);
// As the sidecar does (store.ts): without it, on 2 cores the index build deadlocks from about 20,000 rows.
setLanceCpuThreads(process.env, os.availableParallelism());
const lancedb = await import("@lancedb/lancedb");
console.log(`LANCE_CPU_THREADS=${process.env["LANCE_CPU_THREADS"]}`);
const stepMs = Number(values["step-timeout"]) * 1000;

/** Terms of 40-line windows of the source files under node_modules, up to `count`. */
function corpus(count: number): string[] {
  const rows: string[] = [];
  const queue = [path.join(root, "node_modules")];
  while (queue.length && rows.length < count) {
    const dir = queue.shift()!;
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const stat = statSync(full, { throwIfNoEntry: false });
      if (!stat) continue;
      if (stat.isDirectory()) queue.push(full);
      else if (/\.(js|ts|mjs|cjs)$/.test(name) && stat.size < 1_000_000) {
        const lines = readFileSync(full, "utf8").split("\n");
        for (let i = 0; i < lines.length && rows.length < count; i += 40) {
          const terms = lexicalTerms(lines.slice(i, i + 40).join("\n"));
          if (terms.trim()) rows.push(terms);
        }
      }
      if (rows.length >= count) break;
    }
  }
  return rows;
}

async function timed<T>(fn: () => Promise<T>): Promise<number | "not finished"> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    fn().then(() => performance.now() - t0),
    new Promise<"not finished">((resolve) => (timer = setTimeout(() => resolve("not finished"), stepMs))),
  ]);
  clearTimeout(timer);
  return r;
}
const show = (ms: number | "not finished") => (typeof ms === "number" ? `${(ms / 1000).toFixed(1)} s` : ms);
const fts = () => ftsIndexConfig(lancedb);

const all = corpus(Math.max(...sizes) + 2_000);
console.log(`${all.length} rows of terms from node_modules (40-line windows)`);
const queries = ["parse token", "visit node", "schema error", "read stream", "format request", "resolve module path"];
const work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-fts-"));
try {
  for (const size of sizes) {
    const db = await lancedb.connect(path.join(work, `db-${size}`));
    const schema = new Schema([new Field("terms", new Utf8(), false)]);
    const table = await db.createEmptyTable("chunks", schema);
    for (let i = 0; i < size; i += 5_000) {
      await table.add(all.slice(i, Math.min(size, i + 5_000)).map((terms) => ({ terms })));
    }
    const search = async () => {
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const q = queryTerms(queries[i % queries.length]!);
        const t0 = performance.now();
        await table.search(q, "fts", "terms").limit(10).toArray();
        times.push(performance.now() - t0);
      }
      return `p50 ${pct(times, 50).toFixed(1)} / p95 ${pct(times, 95).toFixed(1)} ms`;
    };
    const create = await timed(() => table.createIndex("terms", { config: fts() }));
    const fresh = create === "not finished" ? "-" : await search();
    await table.add(all.slice(size, size + 1_000).map((terms) => ({ terms })));
    const withTail = create === "not finished" ? "-" : await search();
    const merge = await timed(() => table.optimize({ cleanupOlderThan: new Date() }));
    await table.add(all.slice(size + 1_000, size + 2_000).map((terms) => ({ terms })));
    const recreate = await timed(() => table.createIndex("terms", { config: fts(), replace: true }));
    console.log(
      `${String(size).padStart(7)} rows: create index ${show(create)}; search ${fresh}; ` +
        `with 1,000 unindexed rows ${withTail}; fold 1,000 in by optimize ${show(merge)}, by re-creating ${show(recreate)}`,
    );
  }
} finally {
  await fs.rm(work, { recursive: true, force: true });
}
