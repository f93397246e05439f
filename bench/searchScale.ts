/**
 * `npm run bench:search-scale` — lexical code search at the size of a real monorepo, through the real sidecar:
 * a corpus of distinct real packages from node_modules (not copies of one), indexed lexical-only (BM25 over
 * identifier-split terms; no embedding model, so the run measures the store, not a model), until at least
 * `--chunks` chunks. Prints the build time with its final full-text-index step, size on disk per chunk, lexical
 * p50/p95 over 60 queries, and the time for a one-file change to become searchable. Every step is bounded by
 * `--step-timeout` seconds; a step that does not finish is reported as such, and the run goes on without it.
 * Past what node_modules holds (about 100k chunks) the corpus grows with pinned packages fetched once from the
 * npm registry into `.cache/corpus/` (`FETCHED_PACKAGES`; `--offline`: none).
 *
 *   npm run bench:search-scale [-- --chunks 100000] [--step-timeout 600] [--offline]
 *
 * Goals (issue 21): lexical p50 ≤ 50 ms at 100k chunks, one-file update ≤ 1 s, no step that does not finish.
 */
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";
import type { IndexTarget } from "../shared/protocol";
import { addToCorpus, benchCorpus, bounded } from "./corpus";
import { pct } from "./stats";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    chunks: { type: "string", default: "100000" },
    "step-timeout": { type: "string", default: "600" },
    offline: { type: "boolean", default: false },
  },
});
const want = Number(values.chunks);
const stepMs = Number(values["step-timeout"]) * 1000;

const work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-search-scale-"));
const corpus = path.join(work, "corpus");
const target: IndexTarget = { root: corpus, storageDir: path.join(work, "index") };
const sidecar = new SidecarProcess({
  sidecarPath: path.join(root, "dist", "sidecar.mjs"),
  init: { modelsDir: path.join(work, "models"), threads: 1, gpu: "off", allowDownload: false },
});
await sidecar.start();
try {
  let chunks = 0;
  let buildMs = 0;
  const used: string[] = [];
  for (const source of benchCorpus(root, values.offline!)) {
    if (chunks >= want) break;
    const pkg = source.name;
    addToCorpus(source, corpus);
    used.push(pkg);
    const t0 = performance.now();
    const r = await bounded(sidecar.request("index/build", target), stepMs);
    buildMs += performance.now() - t0;
    if (r === "timed out") {
      console.log(`index/build with ${used.join(", ")} did not finish within ${stepMs / 1000} s: stopping here`);
      break;
    }
    chunks = r.chunks;
    console.log(
      `+ ${pkg}: ${r.files} files, ${r.chunks} chunks (build step ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  const bytes = Number(execFileSync("du", ["-sb", target.storageDir], { encoding: "utf8" }).split("\t")[0]);
  console.log(
    `\nLexical index of ${chunks} chunks from ${used.length} packages: built in ${(buildMs / 1000).toFixed(0)} s (every step incremental), ` +
      `${(bytes / 2 ** 20).toFixed(0)} MiB on disk = ${(bytes / chunks / 1024).toFixed(2)} KiB/chunk`,
  );
  const words = ["parse", "token", "node", "type", "error", "schema", "stream", "request", "format", "visit"];
  const queries = Array.from({ length: 60 }, (_, i) => `${words[i % 10]} ${words[(i * 3 + 1) % 10]} function`);
  const times: number[] = [];
  for (const query of queries) {
    const t0 = performance.now();
    const r = await bounded(
      sidecar.request("index/search", { ...target, query, mode: "lexical", rerank: false, topK: 10 }),
      stepMs,
    );
    if (r === "timed out") {
      console.log("a lexical search did not finish: stopping the latency run");
      break;
    }
    times.push(performance.now() - t0);
  }
  if (times.length)
    console.log(
      `lexical search, top 10: p50 ${pct(times, 50).toFixed(1)} ms, p95 ${pct(times, 95).toFixed(1)} ms (goal p50 ≤ 50 ms)`,
    );
  const file = path.join(corpus, "fresh.ts");
  const fresh: number[] = [];
  for (let i = 0; i < 5; i++) {
    const word = `zorblax${i}quux`;
    await fs.writeFile(file, `export function ${word}Handler(x: number) {\n  return x + ${i};\n}\n`);
    const t0 = performance.now();
    const r = await bounded(
      (async () => {
        await sidecar.request("index/update", { ...target, changed: [file] });
        return sidecar.request("index/search", { ...target, query: `${word} handler`, mode: "lexical", rerank: false });
      })(),
      stepMs,
    );
    if (r === "timed out") {
      console.log(`one-file update ${i} did not finish within ${stepMs / 1000} s`);
      break;
    }
    fresh.push(performance.now() - t0);
    if (r.hits[0]?.path !== "fresh.ts")
      console.log(`  change ${i} not found first: ${JSON.stringify(r.hits[0]?.path)}`);
  }
  if (fresh.length)
    console.log(
      `one-file change → searchable: p50 ${pct(fresh, 50).toFixed(0)} ms, max ${Math.max(...fresh).toFixed(0)} ms (goal ≤ 1 s)`,
    );
} finally {
  await sidecar.stop();
  await fs.rm(work, { recursive: true, force: true });
}
