/**
 * `npm run bench:hybrid` — vector and hybrid code search at the size of a real monorepo, on the product's own
 * index code (`CodeIndex`: discovery → tree-sitter chunks → LanceDB; BM25, vector scan, fusion; the check of hits
 * against their files), in one process. The corpus is distinct real packages from node_modules, then pinned ones
 * fetched once from the npm registry into `.cache/corpus/` (`--offline`: none), grown until each of `--sizes`
 * chunks is passed; at each size it prints build time, size on disk per chunk, p50/p95 of
 * lexical, vector and hybrid search (top 10, no rerank) with the query-embedding and vector-scan parts, and the
 * time for a one-file change to become searchable by hybrid search.
 *
 * Document vectors are SYNTHETIC: 384 dimensions (bge-small's) seeded from a hash of each chunk's text, so that
 * 100k chunks are indexed in minutes, not the ~6 hours a 384-wide, 12-layer model takes on 2 cores. The store
 * scans and fuses them as it would real ones; their ranking is noise. Queries are embedded by the SYNTHETIC
 * real-size bge-small (`npm run models:real-size`) when it is there, so the query-embedding cost in the hybrid
 * figure is the real shape's; else by the hash too, and the run says so.
 *
 * At the largest size it also times hybrid search with the cross-encoder reranking the top 20 (the default),
 * without a time budget and with the default `hearth.search.rerankBudgetMs`,
 * on the SYNTHETIC real-size bge-reranker (BERT-base shape) when it is there or `--rerank-model`.
 *
 *   npm run bench:hybrid [-- --sizes 10000,100000] [--threads 1] [--query-model <gguf>] [--rerank-model <gguf>]
 *     [--rerank-queries 5 (0: none)] [--step-timeout 900] [--offline] [--keep (the index folder, for a look afterwards)]
 *     [--reuse <kept folder> (measure it again: one build of what changed, then one size's figures)]
 *     [--per-step N (packages added before each incremental build; default 1)]
 *
 * Goals (issue 21): hybrid p50 ≤ 50 ms at 100k chunks without rerank, one-file update ≤ 1 s.
 */
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { settingDefault } from "../shared/settings";
import type { EmbeddingEngine } from "../sidecar/engines/types";
import type { IndexTarget, SearchMode } from "../shared/protocol";
import { RerankService } from "../sidecar/engines/llama/RerankService";
import { Chunker } from "../sidecar/search/chunker";
import { CodeIndex } from "../sidecar/search/CodeIndex";
import { IndexStore, setLanceCpuThreads } from "../sidecar/search/store";
import { addToCorpus, benchCorpus, bounded } from "./corpus";
import { pct } from "./stats";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "10000,100000" },
    threads: { type: "string", default: "1" },
    "query-model": { type: "string" },
    "rerank-model": { type: "string" },
    "rerank-queries": { type: "string", default: "5" },
    offline: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    reuse: { type: "string" },
    "per-step": { type: "string", default: "1" },
    "step-timeout": { type: "string", default: "900" },
  },
});
const sizes = values.sizes!.split(",").map(Number);
const stepMs = Number(values["step-timeout"]) * 1000;
const DIMENSIONS = 384;
/** Candidates the reranker sees (the product's default). */
const RERANK_TOP_N = 20;
setLanceCpuThreads(process.env, os.availableParallelism());

/** A unit vector of `DIMENSIONS` seeded from FNV-1a of `text` (mulberry32 after it): SYNTHETIC, deterministic. */
function hashVector(text: string): Float32Array {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  const v = new Float32Array(DIMENSIONS);
  let norm = 0;
  for (let i = 0; i < DIMENSIONS; i++) {
    h = (h + 0x6d2b79f5) | 0;
    let t = Math.imul(h ^ (h >>> 15), 1 | h);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    v[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
    norm += v[i]! * v[i]!;
  }
  for (let i = 0; i < DIMENSIONS; i++) v[i]! /= Math.sqrt(norm);
  return v;
}

const queryModel = values["query-model"] ?? path.join(root, ".cache", "real-size", "SYNTHETIC-bge-small-L12-q8_0.gguf");
const rerankModel =
  values["rerank-model"] ?? path.join(root, ".cache", "real-size", "SYNTHETIC-bge-reranker-L12-q8_0.gguf");
const { getLlama } = await import("node-llama-cpp");
const llama = await getLlama({ build: "never", gpu: false, logLevel: "error" as never });
let embedQuery: ((text: string) => Promise<Float32Array>) | undefined;
let reranker: RerankService | undefined;
if (existsSync(rerankModel)) {
  const model = await llama.loadModel({ modelPath: rerankModel });
  const contextSize = 512;
  reranker = new RerankService(
    model,
    await model.createRankingContext({ threads: Number(values.threads), contextSize }),
    contextSize,
  );
}
if (existsSync(queryModel)) {
  const model = await llama.loadModel({ modelPath: queryModel });
  const context = await model.createEmbeddingContext({ threads: Number(values.threads), contextSize: 512 });
  embedQuery = async (text) => Float32Array.from((await context.getEmbeddingFor(text)).vector);
  console.log(`queries embedded by ${path.basename(queryModel)} (${values.threads} thread(s))`);
} else {
  console.log(`${queryModel} is missing (npm run models:real-size): queries are hashed too, at no model cost`);
}

/** SYNTHETIC documents, and queries through the real-size model when there is one. */
const embedding: EmbeddingEngine = {
  dimensions: DIMENSIONS,
  async embed(texts, kind) {
    if (kind === "query" && embedQuery) return { vectors: [await embedQuery(texts[0]!)], tokens: 0 };
    return { vectors: texts.map(hashVector), tokens: 0 };
  },
  dispose() {},
};

const work = values.reuse ?? (await fs.mkdtemp(path.join(os.tmpdir(), "hearth-hybrid-scale-")));
const corpus = path.join(work, "corpus");
const target: IndexTarget = { root: corpus, storageDir: path.join(work, "index") };
const store = await IndexStore.open(target.storageDir, {
  model: "SYNTHETIC-hash",
  modelId: "SYNTHETIC-hash-384",
  dimensions: DIMENSIONS,
});
const index = new CodeIndex(corpus, store, await Chunker.create(), embedding, () => {});
const words = ["parse", "token", "node", "type", "error", "schema", "stream", "request", "format", "visit"];
const queries = Array.from({ length: 40 }, (_, i) => `${words[i % 10]} ${words[(i * 3 + 1) % 10]} function`);
const signal = new AbortController().signal;
const f = (ms: number) => ms.toFixed(1);

/** p50/p95 of 40 searches in one mode with the parts the index reports, as a line (or one saying a search hung). */
async function latency(mode: SearchMode): Promise<string> {
  const total: number[] = [];
  const embed: number[] = [];
  const vector: number[] = [];
  const lexical: number[] = [];
  const rest: number[] = [];
  for (const query of queries) {
    const t0 = performance.now();
    const r = await bounded(
      index.search({ ...target, query, mode, rerank: false, topK: 10 }, undefined, signal),
      stepMs,
    );
    if (r === "timed out") return `${mode}: a search did not finish within ${stepMs / 1000} s`;
    total.push(performance.now() - t0);
    embed.push(r.timings.embedMs);
    vector.push(r.timings.vectorMs);
    lexical.push(r.timings.lexicalMs);
    rest.push(total.at(-1)! - r.timings.embedMs - r.timings.vectorMs - r.timings.lexicalMs);
  }
  const parts =
    (mode === "lexical"
      ? " ("
      : ` (query embedding p50 ${f(pct(embed, 50))}, vector search p50 ${f(pct(vector, 50))}, `) +
    (mode !== "vector" ? `BM25 p50 ${f(pct(lexical, 50))}, ` : "") +
    `the rest — fusion, checking hits against their files — p50 ${f(pct(rest, 50))} ms)`;
  return `${mode.padEnd(7)} p50 ${f(pct(total, 50))} ms, p95 ${f(pct(total, 95))} ms${parts}`;
}

try {
  let chunks = 0;
  let buildMs = 0;
  const used: string[] = [];
  const sources = benchCorpus(root, values.offline!);
  const count = sources.length;
  if (values.reuse) {
    // The kept corpus as it is: one build (nothing changed but what the last run's updates left) and its finalize.
    sources.length = 0;
    const t0 = performance.now();
    chunks = (await index.build(target, () => {}, signal)).chunks;
    buildMs = performance.now() - t0;
    used.push(...(await fs.readdir(corpus)).filter((d) => d !== "fresh.ts"));
  }
  for (const size of sizes) {
    while (chunks < size && sources.length) {
      const added = sources.splice(0, Math.max(1, Number(values["per-step"])));
      for (const source of added) {
        addToCorpus(source, corpus);
        used.push(source.name);
      }
      const pkg = added.map((s) => s.name).join(", ");
      const t0 = performance.now();
      const r = await bounded(
        index.build(target, () => {}, signal),
        stepMs,
      );
      buildMs += performance.now() - t0;
      if (r === "timed out") throw new Error(`index build with ${pkg} did not finish within ${stepMs / 1000} s`);
      chunks = r.chunks;
    }
    if (chunks < size) console.log(`\n(the ${count} packages give ${chunks} chunks, under ${size})`);
    const bytes = await store.diskBytes();
    console.log(
      `\n== ${chunks} chunks from ${used.length} packages: built in ${(buildMs / 1000).toFixed(0)} s so far ` +
        `(every step incremental; no model cost for documents), ${(bytes / 2 ** 20).toFixed(0)} MiB on disk = ` +
        `${(bytes / chunks / 1024).toFixed(2)} KiB/chunk`,
    );
    for (const mode of ["lexical", "vector", "hybrid"] as const) console.log(`  ${await latency(mode)}`);
    const file = path.join(corpus, "fresh.ts");
    const fresh: number[] = [];
    const updateMs: number[] = [];
    let found = 0;
    for (let i = 0; i < 5; i++) {
      const word = `zorblax${size}x${i}quux`;
      await fs.writeFile(file, `export function ${word}Handler(x: number) {\n  return x + ${i};\n}\n`);
      const t0 = performance.now();
      const r = await bounded(
        (async () => {
          await index.update({ ...target, changed: [file] }, signal);
          updateMs.push(performance.now() - t0);
          return index.search(
            { ...target, query: `${word} handler`, mode: "hybrid", rerank: false },
            undefined,
            signal,
          );
        })(),
        stepMs,
      );
      if (r === "timed out") {
        console.log(`  one-file update ${i} did not finish within ${stepMs / 1000} s`);
        break;
      }
      fresh.push(performance.now() - t0);
      if (r.hits.some((h) => h.path === "fresh.ts")) found++;
    }
    if (fresh.length)
      console.log(
        `  one-file change → searchable (hybrid): p50 ${pct(fresh, 50).toFixed(0)} ms, max ` +
          `${Math.max(...fresh).toFixed(0)} ms (index/update p50 ${pct(updateMs, 50).toFixed(0)} ms); found in ` +
          `${found} of ${fresh.length} (goal ≤ 1 s)`,
      );
    if (reranker && size === sizes.at(-1) && Number(values["rerank-queries"]) > 0) {
      // Without a limit, then with the product's default time budget.
      for (const budget of [0, settingDefault("search.rerankBudgetMs")]) {
        const times: number[] = [];
        const rerankMs: number[] = [];
        const scored: number[] = [];
        for (const query of queries.slice(0, Number(values["rerank-queries"]))) {
          const t0 = performance.now();
          const r = await index.search(
            {
              ...target,
              query,
              mode: "hybrid",
              rerank: true,
              topK: 10,
              rerankTopN: RERANK_TOP_N,
              rerankBudgetMs: budget,
            },
            reranker,
            signal,
          );
          times.push(performance.now() - t0);
          rerankMs.push(r.timings.rerankMs);
          scored.push(r.rerankCut?.scored ?? RERANK_TOP_N);
        }
        console.log(
          `  hybrid + rerank of the top ${RERANK_TOP_N} by ${path.basename(rerankModel)}, ` +
            `${budget ? `time budget ${budget} ms` : "no time budget"}: p50 ${f(pct(times, 50))} ms ` +
            `(reranking p50 ${f(pct(rerankMs, 50))} ms; candidates scored p50 ${pct(scored, 50)}; ${times.length} queries)`,
        );
      }
    }
  }
  console.log("\nGoals at 100k chunks: lexical and hybrid p50 ≤ 50 ms without rerank; one-file update ≤ 1 s.");
} finally {
  store.close();
  if (values.keep || values.reuse) console.log(`(kept ${work})`);
  else await fs.rm(work, { recursive: true, force: true });
}
