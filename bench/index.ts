/**
 * `npm run bench:index` — indexing and search speed on real code from node_modules (node-llama-cpp's dist,
 * apache-arrow, vscode-languageserver, vscode-jsonrpc, TypeScript's lib .d.ts files), through the real sidecar:
 *
 *   - files/s, chunks/s, embedding tokens/s, against raw node-llama-cpp embedding of the same chunk texts in
 *     this process (same model, context size and threads): the ratio the sidecar reaches (goal ≥ 0.8);
 *   - index size on disk per chunk, sidecar peak RSS (VmHWM);
 *   - time for a one-file change to become searchable (index/update + search);
 *   - search latency p50/p95 per mode at this size and, with --scale N, after growing the corpus with more
 *     copies of the same real code to ≥ N chunks (e.g. --scale 100000).
 *
 *   npm run bench:index [-- --embedding-model <gguf>] [--scale N] [--raw-sample N] [--threads N] [--sources a,b]
 *
 * With --scale 100000 on a 2-core machine the full-text index update at the end of the grown build once did not
 * finish: Lance's index builder deadlocks on a one-thread CPU pool, which the sidecar now avoids (store.ts,
 * setLanceCpuThreads). `npm run bench:search-scale` measures lexical search at that size on distinct packages.
 *
 * Without --embedding-model a SYNTHETIC BERT embedding model (random weights, 64 dimensions; test fixture) is
 * used: it measures the plumbing's speed, not retrieval quality. Nothing here asserts a figure; it reports.
 */
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";
import type { IndexTarget, SearchMode } from "../shared/protocol";
import { Chunker, type Chunk } from "../sidecar/search/chunker";
import { embeddingText } from "../sidecar/search/CodeIndex";
import { discoverFiles, readIndexableFile } from "../sidecar/search/discover";
import { embeddingPrefixes } from "../sidecar/embeddingText/prefixes";
import { writeSyntheticEmbeddingModel } from "../test/fixtures/synthetic/syntheticModels";
import { pct, processMemory } from "./stats";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const { values } = parseArgs({
  options: {
    "embedding-model": { type: "string" },
    scale: { type: "string" },
    "raw-sample": { type: "string", default: "1500" },
    threads: { type: "string", default: "1" },
    queries: { type: "string", default: "60" },
    /** Comma-separated folders under node_modules to index (default: the five below). */
    sources: { type: "string" },
  },
});
const threads = Number(values.threads);
const CONTEXT = 512;
const SOURCES = values.sources
  ? values.sources.split(",")
  : ["node-llama-cpp/dist", "apache-arrow", "vscode-languageserver", "vscode-jsonrpc", "typescript/lib"];

const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
const du = (dir: string) => Number(execFileSync("du", ["-sb", dir], { encoding: "utf8" }).split("\t")[0]);

const peakRss = (pid: number | undefined) => processMemory(pid, "VmHWM");

async function copyCorpus(dest: string, copy: number): Promise<void> {
  for (const src of SOURCES) {
    await fs.cp(path.join(repo, "node_modules", src), path.join(dest, `copy${copy}`, src.replace(/\//g, "_")), {
      recursive: true,
      // A nested node_modules would be excluded anyway; skip it so every copy is the same code.
      filter: (p) => !p.includes(`${path.sep}node_modules${path.sep}`, path.join(repo, "node_modules", src).length),
    });
  }
}

/** Raw node-llama-cpp: embed `texts` one by one in this process, as the sidecar does; tokens/s. */
async function rawEmbedding(
  modelPath: string,
  texts: string[],
  prefix: string,
): Promise<{ tokensPerSecond: number; tokens: number }> {
  const llama = await getLlama({ build: "never", gpu: false, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  // The sidecar's window: the context asked for, but never past the positions the model was trained on (a
  // longer sequence aborted this baseline on small models).
  const window = Math.min(CONTEXT, model.trainContextSize || CONTEXT);
  const ctx = await model.createEmbeddingContext({ contextSize: window, threads, batchSize: Math.min(512, window) });
  let tokens = 0;
  const started = performance.now();
  for (const text of texts) {
    let input = model.tokenize(prefix + text);
    if (input.length > window - 3) input = input.slice(0, window - 3);
    tokens += input.length;
    await ctx.getEmbeddingFor(input);
  }
  const seconds = (performance.now() - started) / 1000;
  await ctx.dispose();
  await model.dispose();
  await llama.dispose();
  return { tokensPerSecond: tokens / seconds, tokens };
}

async function searchLatency(sidecar: SidecarProcess, target: IndexTarget, queries: string[], modes: SearchMode[]) {
  const out: Record<string, { p50: number; p95: number }> = {};
  for (const mode of modes) {
    const times: number[] = [];
    for (const q of queries) {
      const t0 = performance.now();
      await sidecar.request("index/search", { ...target, query: q, mode, rerank: false, topK: 10 });
      times.push(performance.now() - t0);
    }
    out[mode] = { p50: pct(times, 50), p95: pct(times, 95) };
  }
  return out;
}

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-bench-index-"));
  const corpus = path.join(work, "corpus");
  let modelPath = values["embedding-model"] ? path.resolve(values["embedding-model"]) : "";
  if (!modelPath) {
    modelPath = path.join(work, "synthetic-embedding.gguf");
    writeSyntheticEmbeddingModel(modelPath);
  }
  await copyCorpus(corpus, 1);
  const target: IndexTarget = { root: corpus, storageDir: path.join(work, "index") };
  const sidecar = new SidecarProcess({
    sidecarPath: path.join(here, "sidecar.mjs"),
    init: { modelsDir: path.join(work, "models"), threads, gpu: "off", allowDownload: false },
  });
  await sidecar.start();
  try {
    const info = await sidecar.request("model/load", {
      role: "embedding",
      model: { uri: modelPath },
      contextSize: CONTEXT,
    });
    console.log(
      `Embedding model: ${info.name} (${info.embeddingDimensions} dims, context ${info.contextSize}, ${threads} thread(s))${values["embedding-model"] ? "" : " — SYNTHETIC: speed only"}`,
    );
    console.log(`Corpus: ${SOURCES.map((s) => `node_modules/${s}`).join(", ")}`);

    // 1. Full build.
    const built = await sidecar.request("index/build", target);
    const t = built.timings;
    const rss = peakRss(sidecar.pid);
    console.log(
      `\nBuild: ${built.files} files, ${built.chunks} chunks, ${built.skipped.length} skipped, ${(t.totalMs / 1000).toFixed(1)} s`,
    );
    console.log(
      `  files/s ${(built.files / (t.totalMs / 1000)).toFixed(1)} · chunks/s ${(built.chunks / (t.totalMs / 1000)).toFixed(1)}`,
    );
    const sidecarEmbedTps = t.embedTokens / (t.embedMs / 1000);
    const endToEndTps = t.embedTokens / (t.totalMs / 1000);
    console.log(
      `  embedding: ${t.embedTokens} tokens in ${(t.embedMs / 1000).toFixed(1)} s = ${sidecarEmbedTps.toFixed(0)} tokens/s (end to end, with discovery, chunking and writes: ${endToEndTps.toFixed(0)} tokens/s)`,
    );

    // 2. Raw node-llama-cpp on the same chunk texts (a sample), in this process.
    const chunker = await Chunker.create();
    const { files } = await discoverFiles(corpus);
    const chunks: Chunk[] = [];
    for (const f of files) {
      if (chunks.length >= Number(values["raw-sample"])) break;
      const r = await readIndexableFile(f.absPath);
      if ("text" in r) chunks.push(...(await chunker.chunk(f.path, f.language, r.text)));
    }
    const sample = chunks.slice(0, Number(values["raw-sample"])).map(embeddingText);
    const raw = await rawEmbedding(modelPath, sample, embeddingPrefixes(info.name).document);
    console.log(
      `  raw node-llama-cpp on ${sample.length} of the same chunks: ${raw.tokensPerSecond.toFixed(0)} tokens/s`,
    );
    console.log(
      `  ratio sidecar/raw: embedding ${(sidecarEmbedTps / raw.tokensPerSecond).toFixed(2)}x, end to end ${(endToEndTps / raw.tokensPerSecond).toFixed(2)}x (goal ≥ 0.8)`,
    );

    // 3. Size and memory.
    const bytes = du(target.storageDir);
    console.log(
      `  index on disk: ${mib(bytes)} MiB = ${(bytes / built.chunks / 1024).toFixed(2)} KiB/chunk (incl. superseded versions kept 10 min)`,
    );
    console.log(`  sidecar peak RSS: ${mib(rss)} MiB`);

    // 4. One-file change → searchable.
    const fresh: number[] = [];
    const file = path.join(corpus, "copy1", "freshness.ts");
    for (let i = 0; i < 5; i++) {
      const word = `zorblax${i}quux`;
      await fs.writeFile(
        file,
        `/** Fresh ${word}. */\nexport function ${word}Handler(x: number) {\n  return x + ${i};\n}\n`,
      );
      const t0 = performance.now();
      await sidecar.request("index/update", { ...target, changed: [file] });
      const r = await sidecar.request("index/search", {
        ...target,
        query: `${word} handler`,
        mode: "lexical",
        rerank: false,
      });
      fresh.push(performance.now() - t0);
      if (r.hits[0]?.path !== "copy1/freshness.ts")
        throw new Error(`change ${i} not searchable: ${JSON.stringify(r.hits[0])}`);
    }
    console.log(
      `\nOne-file change to searchable (index/update + search): p50 ${pct(fresh, 50).toFixed(0)} ms, max ${Math.max(...fresh).toFixed(0)} ms`,
    );

    // 5. Search latency at this size, then at --scale.
    const queries = [
      "parse the model file header",
      "create an embedding context",
      "convert a record batch to a table",
      "send a request over the connection and wait for the response",
      "resolve the path of a module",
      "handle cancellation of a request",
      "compute the length of a vector",
      "read a gguf file metadata",
      "dispose of the llama context",
      "iterate over the fields of a schema",
    ];
    const qs = Array.from(
      { length: Number(values.queries) },
      (_, i) => queries[i % queries.length] + (i >= queries.length ? ` ${i}` : ""),
    );
    const modes: SearchMode[] = ["lexical", "vector", "hybrid"];
    const report = (label: string, chunkCount: number, lat: Record<string, { p50: number; p95: number }>) =>
      console.log(
        `Search latency at ${chunkCount} chunks (${label}): ${modes.map((m) => `${m} p50 ${lat[m]!.p50.toFixed(1)} / p95 ${lat[m]!.p95.toFixed(1)} ms`).join(" · ")}`,
      );
    report("top 10, no rerank", built.chunks, await searchLatency(sidecar, target, qs, modes));

    if (values.scale) {
      let copies = 1;
      let status = await sidecar.request("index/status", target);
      const perCopy = built.chunks;
      while (status.chunks < Number(values.scale)) {
        const need = Math.ceil((Number(values.scale) - status.chunks) / perCopy);
        for (let i = 0; i < need; i++) await copyCorpus(corpus, ++copies);
        const t0 = performance.now();
        const grown = await sidecar.request("index/build", target);
        console.log(
          `\nGrew the corpus to ${copies} copies: ${grown.files} files, ${grown.chunks} chunks (+${grown.newChunks} in ${((performance.now() - t0) / 1000).toFixed(0)} s; peak RSS ${mib(peakRss(sidecar.pid))} MiB; ${mib(du(target.storageDir))} MiB on disk)`,
        );
        status = await sidecar.request("index/status", target);
      }
      report("top 10, no rerank", status.chunks, await searchLatency(sidecar, target, qs, modes));
    }
  } finally {
    await sidecar.stop();
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
