/**
 * `npm run eval:search` — code-search quality on the lodash-es benchmark (see bench/searchBenchmark.ts):
 * MRR@10, Recall@1 and Recall@10 for each mode available, through the real sidecar (one session, like
 * `hearth search --queries`), against a plain BM25 over whole files computed here.
 *
 *   npm run eval:search [-- --embedding-model <gguf>] [--rerank-model <gguf>] [--fusion rrf|convex] [--vector-weight W]
 *                          [--rerank-weights 1,0.5] [--limit N] [--show N]
 *
 * Without models only `lexical` runs (it needs none). With an embedding model, `vector` and `hybrid` run too;
 * with a reranker, `hybrid+rerank` once per `--rerank-weights` entry (the reranker's share of the reranked order,
 * `IndexSearchParams.rerankWeight`; default `1,0.5`: its order alone, and half-and-half with the hybrid score).
 * `--fusion` and `--vector-weight` set how hybrid fuses the two lists (see `IndexSearchParams`). Nothing here
 * asserts a figure; it reports.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";
import type { FusionMethod, SearchMode } from "../shared/protocol";
import { bm25Rank, buildBenchmark, filesOf, scoreRankings } from "./searchBenchmark";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const { values } = parseArgs({
  options: {
    "embedding-model": { type: "string" },
    "rerank-model": { type: "string" },
    package: { type: "string", default: path.join(repo, "node_modules", "lodash-es") },
    limit: { type: "string" },
    show: { type: "string", default: "0" },
    threads: { type: "string", default: "1" },
    "vector-weight": { type: "string", default: "1" },
    fusion: { type: "string", default: "convex" },
    "rerank-weights": { type: "string", default: "1,0.5" },
  },
});

const fmt = (x: number) => x.toFixed(3);

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-eval-"));
  const pkg = JSON.parse(await fs.readFile(path.join(values.package!, "package.json"), "utf8")) as {
    name: string;
    version: string;
  };
  const { corpusDir, queries: all } = await buildBenchmark(values.package!, work);
  const queries = values.limit ? all.slice(0, Number(values.limit)) : all;
  const docs = new Map<string, string>();
  for (const f of await fs.readdir(corpusDir)) docs.set(f, await fs.readFile(path.join(corpusDir, f), "utf8"));
  console.log(
    `Benchmark: ${pkg.name}@${pkg.version} — ${queries.length} queries, ${docs.size} files (comments stripped)`,
  );
  console.log(`  e.g. "${queries[0]?.q}" → ${queries[0]?.file}`);

  const relevant = queries.map((q) => q.file);
  const started = performance.now();
  const baseline = scoreRankings(
    bm25Rank(
      docs,
      queries.map((q) => q.q),
    ),
    relevant,
  );
  const baselineMs = performance.now() - started;

  const sidecar = new SidecarProcess({
    sidecarPath: path.join(here, "sidecar.mjs"),
    init: { modelsDir: path.join(work, "models"), threads: Number(values.threads), gpu: "off", allowDownload: false },
  });
  await sidecar.start();
  const rows: Array<{ name: string; m: ReturnType<typeof scoreRankings>; msPerQuery: number }> = [];
  try {
    const target = { root: corpusDir, storageDir: path.join(work, "index") };
    const modes: Array<{ name: string; mode: SearchMode; rerank: boolean; rerankWeight?: number }> = [
      { name: "lexical", mode: "lexical", rerank: false },
    ];
    if (values["embedding-model"]) {
      await sidecar.request("model/load", {
        role: "embedding",
        model: { uri: path.resolve(values["embedding-model"]) },
        contextSize: 1024,
      });
      modes.push({ name: "vector", mode: "vector", rerank: false }, { name: "hybrid", mode: "hybrid", rerank: false });
    }
    if (values["rerank-model"]) {
      await sidecar.request("model/load", {
        role: "rerank",
        model: { uri: path.resolve(values["rerank-model"]) },
        contextSize: 1024,
      });
      for (const w of values["rerank-weights"]!.split(",").map(Number)) {
        modes.push({
          name: w === 1 ? "hybrid+rerank" : `hybrid+rerank w=${w}`,
          mode: "hybrid",
          rerank: true,
          rerankWeight: w,
        });
      }
    }
    const built = await sidecar.request("index/build", target);
    if (values["embedding-model"])
      console.log(`Hybrid fusion: ${values.fusion}, vector weight ${values["vector-weight"]}`);
    console.log(
      `Index: ${built.files} files, ${built.chunks} chunks in ${built.timings.totalMs} ms (${built.embeddingModel ?? "lexical only"})`,
    );
    for (const m of modes) {
      const t0 = performance.now();
      const rankings: string[][] = [];
      for (const q of queries) {
        const r = await sidecar.request("index/search", {
          ...target,
          query: q.q,
          mode: m.mode,
          rerank: m.rerank,
          rerankWeight: m.rerankWeight,
          // Quality, not latency: every candidate reranked, whatever it costs.
          rerankBudgetMs: 0,
          topK: 30,
          vectorWeight: Number(values["vector-weight"]),
          fusion: values.fusion as FusionMethod,
        });
        rankings.push(filesOf(r.hits));
      }
      const metrics = scoreRankings(rankings, relevant);
      rows.push({ name: m.name, m: metrics, msPerQuery: (performance.now() - t0) / queries.length });
      const show = Number(values.show);
      if (show > 0 && m.name === "lexical") {
        queries
          .slice(0, show)
          .forEach((q, i) =>
            console.log(`  [${m.name}] "${q.q}" → ${rankings[i]!.slice(0, 3).join(", ")} (want ${q.file})`),
          );
      }
    }
  } finally {
    await sidecar.stop();
    await fs.rm(work, { recursive: true, force: true });
  }

  console.log("");
  console.log(
    `${"mode".padEnd(22)} ${"MRR@10".padStart(7)} ${"R@1".padStart(7)} ${"R@10".padStart(7)} ${"ms/query".padStart(9)}`,
  );
  console.log(
    `${"BM25 whole files (base)".padEnd(22)} ${fmt(baseline.mrr10).padStart(7)} ${fmt(baseline.r1).padStart(7)} ${fmt(baseline.r10).padStart(7)} ${(baselineMs / queries.length).toFixed(2).padStart(9)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(22)} ${fmt(r.m.mrr10).padStart(7)} ${fmt(r.m.r1).padStart(7)} ${fmt(r.m.r10).padStart(7)} ${r.msPerQuery.toFixed(2).padStart(9)}`,
    );
  }
  // A random ranking of the files: expected MRR@10 = (1/N) Σ_{k=1..10} 1/k, R@1 = 1/N, R@10 = 10/N.
  const n = docs.size;
  let harmonic = 0;
  for (let k = 1; k <= 10; k++) harmonic += 1 / k;
  const random = { mrr10: harmonic / n, r1: 1 / n, r10: 10 / n };
  console.log(
    `${"random ranking (base)".padEnd(22)} ${fmt(random.mrr10).padStart(7)} ${fmt(random.r1).padStart(7)} ${fmt(random.r10).padStart(7)}`,
  );
  const row = (name: string) => rows.find((r) => r.name === name);
  const ratio = (a: ReturnType<typeof scoreRankings>, b: ReturnType<typeof scoreRankings>) =>
    `MRR@10 ${(a.mrr10 / b.mrr10).toFixed(2)}x, R@1 ${(a.r1 / b.r1).toFixed(2)}x, R@10 ${(a.r10 / b.r10).toFixed(2)}x`;
  const lexical = row("lexical")!;
  console.log("");
  console.log(`lexical / BM25 baseline: ${ratio(lexical.m, baseline)} (target ≥ 1.00x)`);
  const vector = row("vector");
  const hybrid = row("hybrid");
  if (vector) console.log(`vector / random ranking: ${ratio(vector.m, random)}`);
  if (hybrid) console.log(`hybrid / lexical: ${ratio(hybrid.m, lexical.m)}`);
  for (const reranked of rows.filter((r) => r.name.startsWith("hybrid+rerank"))) {
    if (hybrid) console.log(`${reranked.name} / hybrid: ${ratio(reranked.m, hybrid.m)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
