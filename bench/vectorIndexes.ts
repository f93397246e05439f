/**
 * `npm run bench:vector-index` — which LanceDB vector index code search should build: one table of `--rows`
 * SYNTHETIC clustered unit vectors (`--dimensions`, default bge-small's 384; 200 centres plus noise, as embeddings
 * of code cluster), searched by 30 queries near stored rows (cosine, top 50). For the exact scan and each index
 * type it prints build time, p50/p95 and recall@10 against the exact scan, at LanceDB's default `nprobes` and
 * with a 5× refine.
 *
 *   npm run bench:vector-index [-- --rows 100000] [--dimensions 384] [--types ivfPq,hnswSq,ivfFlat]
 *
 * It is how `vectorIndexConfig` in sidecar/search/store.ts was chosen (issue 21). Nothing here asserts a figure.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { setLanceCpuThreads } from "../sidecar/search/store";
import { pct } from "./stats";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "100000" },
    dimensions: { type: "string", default: "384" },
    types: { type: "string", default: "ivfPq,hnswSq" },
  },
});
const N = Number(values.rows);
const D = Number(values.dimensions);
setLanceCpuThreads(process.env, os.availableParallelism());
process.env["LANCEDB_LOG"] ??= "error";
const lancedb = await import("@lancedb/lancedb");

let seed = 12345;
const random = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32 - 0.5;
};
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const centres = Array.from({ length: 200 }, () => Array.from({ length: D }, random));
const rows = Array.from({ length: N }, (_, id) => ({
  id,
  vector: unit(centres[id % centres.length]!.map((c) => c + random() * 0.8)),
}));
const queries = Array.from({ length: 30 }, (_, i) =>
  unit(rows[(i * 7919) % N]!.vector.map((x) => x + random() * 0.05)),
);

const work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-vector-index-"));
try {
  const db = await lancedb.connect(work);
  const table = await db.createTable("chunks", rows.slice(0, 5000));
  for (let i = 5000; i < N; i += 5000) await table.add(rows.slice(i, i + 5000));
  type Search = (v: number[]) => ReturnType<typeof table.vectorSearch>;
  const run = async (label: string, search: Search, exact?: number[][]) => {
    const times: number[] = [];
    const ids: number[][] = [];
    for (const q of queries) {
      const t0 = performance.now();
      ids.push(((await search(q).toArray()) as Array<{ id: number }>).map((r) => r.id));
      times.push(performance.now() - t0);
    }
    let recall = "";
    if (exact) {
      let hit = 0;
      ids.forEach((got, i) => {
        const want = new Set(exact[i]!.slice(0, 10));
        hit += got.slice(0, 10).filter((id) => want.has(id)).length;
      });
      recall = `, recall@10 ${(hit / (10 * queries.length)).toFixed(3)}`;
    }
    console.log(`${label}: p50 ${pct(times, 50).toFixed(1)} ms, p95 ${pct(times, 95).toFixed(1)} ms${recall}`);
    return ids;
  };
  const base: Search = (v) => table.vectorSearch(v).distanceType("cosine").select(["id"]).limit(50);
  console.log(
    `${N} SYNTHETIC clustered vectors of ${D} dimensions, LANCE_CPU_THREADS=${process.env["LANCE_CPU_THREADS"]}`,
  );
  const exact = await run("exact scan", base);
  for (const type of values.types!.split(",")) {
    const config =
      type === "ivfPq"
        ? lancedb.Index.ivfPq({ distanceType: "cosine", numSubVectors: D % 16 === 0 ? D / 16 : D / 8 })
        : type === "hnswSq"
          ? lancedb.Index.hnswSq({ distanceType: "cosine" })
          : type === "hnswPq"
            ? lancedb.Index.hnswPq({ distanceType: "cosine" })
            : lancedb.Index.ivfFlat({ distanceType: "cosine" });
    const t0 = performance.now();
    await table.createIndex("vector", { config, replace: true });
    console.log(`${type}: built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await run(`  ${type}`, base, exact);
    await run(`  ${type}, refine 5x`, (v) => base(v).refineFactor(5), exact);
  }
} finally {
  await fs.rm(work, { recursive: true, force: true });
}
