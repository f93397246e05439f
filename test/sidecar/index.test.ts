import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { languageOf } from "../../shared/languages";
import { ErrorCodes, type IndexProgressParams, type IndexTarget, type SearchHit } from "../../shared/protocol";
import { writeSyntheticEmbeddingModel, writeSyntheticRerankModel } from "../fixtures/synthetic/syntheticModels";
import { errorOf, spawnSidecar, waitFor } from "./helpers";

/*
 * The real sidecar over real JSON-RPC, a real LanceDB database in a temp folder, and a real codebase: a copy of
 * Hearth's own `sidecar/` sources (TypeScript, ~30 files). Lexical search needs no model; vector, hybrid and
 * rerank run with the synthetic BERT embedding model and synthetic reranker (random weights: they test the
 * plumbing — dimensions, tables, scores, ordering — not retrieval quality).
 */
const REPO = path.resolve(__dirname, "../..");
let sidecar: SidecarProcess;
let work: string;

async function copyCodebase(): Promise<string> {
  const root = await fs.mkdtemp(path.join(work, "code-"));
  // The sidecar's sources, with the wire's floor (shared/: guards.ts, errors.ts, …) beside them at the top.
  await fs.cp(path.join(REPO, "sidecar"), root, { recursive: true });
  await fs.cp(path.join(REPO, "shared"), root, { recursive: true });
  await fs.writeFile(path.join(root, "logo.ts"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]));
  return root;
}

async function target(root: string): Promise<IndexTarget> {
  return { root, storageDir: await fs.mkdtemp(path.join(work, "db-")) };
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-index-"));
  ({ sidecar } = await spawnSidecar());
});

afterAll(async () => {
  await sidecar?.stop();
});

describe("lexical index on a real codebase (no model)", () => {
  let t: IndexTarget;
  let sourceFiles: number;

  it("indexes the folder, skipping a binary file with its reason", async () => {
    t = await target(await copyCodebase());
    sourceFiles = (await fs.readdir(t.root, { recursive: true })).filter((f) => languageOf(f)).length;
    const r = await sidecar.request("index/build", t);
    expect(r.table).toBe("chunks_lexical");
    expect(r.embeddingModel).toBeUndefined();
    expect(r.files).toBe(sourceFiles - 1);
    expect(r.indexedFiles).toBe(r.files);
    expect(r.chunks).toBeGreaterThan(r.files * 3);
    expect(r.skipped).toContainEqual({ path: "logo.ts", reason: "binary (NUL bytes)" });
  });

  it("finds a function by the words in its name, with its lexical score, rank and line range", async () => {
    const r = await sidecar.request("index/search", { ...t, query: "parse the chat send params" });
    expect(r.mode).toBe("lexical");
    expect(r.reranked).toBe(false);
    expect(r.hits.map((h) => h.scores.lexicalRank)).toEqual(r.hits.map((_, i) => i + 1));
    // A long function is several windows under its name; the one with its signature ranks near the top.
    const top = r.hits.find(
      (h) => h.symbol === "parseChatSendParams" && h.text.includes("export function parseChatSendParams"),
    )!;
    expect(r.hits.indexOf(top)).toBeGreaterThanOrEqual(0);
    expect(r.hits.indexOf(top)).toBeLessThan(4);
    expect(top).toMatchObject({ path: "guards.ts", language: "typescript" });
    expect(top.score).toBe(top.scores.lexical);
    const source = (await fs.readFile(path.join(t.root, "guards.ts"), "utf8")).split("\n");
    expect(source.slice(top.startLine - 1, top.endLine).join("\n")).toBe(top.text);
    expect(top.text).toContain("export function parseChatSendParams");
  });

  it("makes a changed file's new content searchable after index/update, and only re-reads that file", async () => {
    const before = await sidecar.request("index/search", { ...t, query: "frobnicate widgets" });
    expect(before.hits.filter((h) => h.symbol === "frobnicateWidgets")).toEqual([]);
    const file = path.join(t.root, "errors.ts");
    const old = await fs.readFile(file, "utf8");
    await fs.writeFile(
      file,
      `${old}\n/** Turns widgets inside out. */\nexport function frobnicateWidgets(count: number): number {\n  return -count;\n}\n`,
    );
    const u = await sidecar.request("index/update", { ...t, changed: [file] });
    expect(u).toMatchObject({ updated: 1, removed: 0 });
    const after = await sidecar.request("index/search", { ...t, query: "frobnicate widgets" });
    const hit = after.hits[0]!;
    const lines = (await fs.readFile(file, "utf8")).split("\n");
    expect(hit).toMatchObject({ path: "errors.ts", symbol: "frobnicateWidgets" });
    expect(lines[hit.startLine - 1]).toBe("/** Turns widgets inside out. */");
    // Saving again without a change re-embeds nothing.
    expect(await sidecar.request("index/update", { ...t, changed: ["errors.ts"] })).toMatchObject({
      updated: 0,
      unchanged: 1,
    });
  });

  it("a file added to a one-file workspace is searchable right after index/update, in a fresh sidecar", async () => {
    // Regression: LanceDB scores rows added after the full-text index with the index's BM25 statistics; over
    // an index of one chunk, a new chunk repeating its words scored ≤ 0 and was dropped. Tiny indexes are now
    // folded in on every update.
    const tiny = await fs.mkdtemp(path.join(work, "tiny-"));
    await fs.writeFile(
      path.join(tiny, "hello.ts"),
      "// Greets.\nexport function greet(name: string) {\n  return `Hello, ${name}!`;\n}\n",
    );
    const tt = await target(tiny);
    await sidecar.request("index/build", tt);
    const { sidecar: fresh } = await spawnSidecar();
    try {
      expect((await fresh.request("index/search", { ...tt, query: "frobnicate widgets" })).hits).toEqual([]);
      await fs.writeFile(
        path.join(tiny, "widgets.ts"),
        "/** Turns widgets inside out. */\nexport function frobnicateWidgets(n: number) {\n  return -n;\n}\n",
      );
      await fresh.request("index/update", { ...tt, changed: ["widgets.ts"] });
      expect((await fresh.request("index/search", { ...tt, query: "frobnicate widgets" })).hits[0]).toMatchObject({
        path: "widgets.ts",
      });
    } finally {
      await fresh.stop();
    }
  });

  it("handles a rename (delete + create) and a delete", async () => {
    await fs.rename(path.join(t.root, "errors.ts"), path.join(t.root, "failures.ts"));
    await sidecar.request("index/update", { ...t, deleted: ["errors.ts"], changed: ["failures.ts"] });
    let r = await sidecar.request("index/search", { ...t, query: "frobnicateWidgets" });
    expect(r.hits[0]?.path).toBe("failures.ts");
    expect(r.hits.some((h) => h.path === "errors.ts")).toBe(false);

    await fs.rm(path.join(t.root, "failures.ts"));
    expect(await sidecar.request("index/update", { ...t, deleted: [path.join(t.root, "failures.ts")] })).toMatchObject({
      removed: 1,
    });
    r = await sidecar.request("index/search", { ...t, query: "frobnicateWidgets" });
    expect(r.hits.some((h) => h.path === "failures.ts" || h.path === "errors.ts")).toBe(false);
    expect((await sidecar.request("index/status", t)).files).toBe(sourceFiles - 2);
  });

  it("a second build re-indexes nothing, and notices files deleted while no watcher ran", async () => {
    await fs.rm(path.join(t.root, "DeltaCoalescer.ts"));
    const r = await sidecar.request("index/build", t);
    expect(r).toMatchObject({ indexedFiles: 0, removedFiles: 1, unchangedFiles: sourceFiles - 3 });
  });

  it("rejects malformed params and a root that is not a folder, naming the field", async () => {
    expect((await errorOf(sidecar.request("index/search", { ...t } as never))).code).toBe(ErrorCodes.InvalidParams);
    expect(
      (await errorOf(sidecar.request("index/search", { ...t, query: "x", mode: "fuzzy" as never }))).message,
    ).toMatch(/'mode' must be one of/);
    const e = await errorOf(
      sidecar.request("index/build", { root: path.join(work, "nope"), storageDir: t.storageDir }),
    );
    expect(e.code).toBe(ErrorCodes.InvalidParams);
    expect(e.message).toMatch(/not a folder/);
  });
});

describe("interrupted indexing", () => {
  it("a cancelled build keeps what it wrote, and the next build resumes to the same index as a clean one", async () => {
    const root = await copyCodebase();
    const clean = await sidecar.request("index/build", await target(root));
    const t = await target(root);
    const progress: IndexProgressParams[] = [];
    const sub = sidecar.onNotification("index/progress", (p) => progress.push(p));
    const abort = new AbortController();
    const build = sidecar.request("index/build", { ...t, progressId: "p1", batchSize: 1 }, abort.signal);
    await waitFor(() => progress.some((p) => p.filesDone >= 6), 20_000, "indexing progress");
    abort.abort();
    expect((await errorOf(build)).code).toBe(ErrorCodes.Cancelled);
    sub.dispose();
    const partial = await sidecar.request("index/status", t);
    expect(partial.files).toBeGreaterThan(0);
    expect(partial.files).toBeLessThan(clean.files);
    expect(progress.every((p) => p.progressId === "p1" && p.filesDone <= p.filesTotal)).toBe(true);

    const resumed = await sidecar.request("index/build", t);
    expect(resumed.unchangedFiles).toBe(partial.files);
    expect(resumed.indexedFiles).toBe(clean.files - partial.files);
    expect({ files: resumed.files, chunks: resumed.chunks }).toEqual({ files: clean.files, chunks: clean.chunks });
  });

  it("a sidecar killed mid-build leaves a database the restarted sidecar resumes from", async () => {
    const { sidecar: victim } = await spawnSidecar();
    try {
      const root = await copyCodebase();
      const t = await target(root);
      const pid = victim.pid!;
      let killed = false;
      const sub = victim.onNotification("index/progress", (p) => {
        if (!killed && p.filesDone >= 8) {
          killed = true;
          process.kill(pid, "SIGKILL");
        }
      });
      expect((await errorOf(victim.request("index/build", { ...t, progressId: "k", batchSize: 1 }))).code).toBe(
        ErrorCodes.SidecarExited,
      );
      sub.dispose();
      await waitFor(() => victim.pid !== undefined && victim.pid !== pid, 20_000, "restart");
      const resumed = await victim.request("index/build", t);
      const clean = await victim.request("index/build", await target(root));
      expect(resumed.unchangedFiles).toBeGreaterThan(0);
      expect({ files: resumed.files, chunks: resumed.chunks }).toEqual({ files: clean.files, chunks: clean.chunks });
      expect((await victim.request("index/search", { ...t, query: "reciprocal rank fusion" })).hits[0]?.path).toBe(
        "search/fusion.ts",
      );
    } finally {
      await victim.stop();
    }
  });
});

describe("vector, hybrid and rerank with synthetic models (plumbing, not quality)", () => {
  let t: IndexTarget;
  let embedModel: string;

  beforeAll(async () => {
    embedModel = path.join(work, "synthetic-embedding.gguf");
    writeSyntheticEmbeddingModel(embedModel);
    const rerankModel = path.join(work, "synthetic-reranker.gguf");
    writeSyntheticRerankModel(rerankModel);
    t = await target(await copyCodebase());
    await sidecar.request("index/build", t); // lexical table first, to see the model change make a new one
    const info = await sidecar.request("model/load", {
      role: "embedding",
      model: { uri: embedModel },
      contextSize: 512,
    });
    expect(info.embeddingDimensions).toBe(64);
    await sidecar.request("model/load", { role: "rerank", model: { uri: rerankModel }, contextSize: 512 });
  });

  afterAll(async () => {
    await sidecar.request("model/unload", { role: "embedding" });
    await sidecar.request("model/unload", { role: "rerank" });
  });

  it("an embedding model gets its own table; nothing is shared with the lexical one", async () => {
    const r = await sidecar.request("index/build", t);
    expect(r.table).toMatch(/^chunks_synthetic_embedding_[0-9a-f]+_64$/);
    expect(r.embeddingModel).toBe("synthetic-embedding.gguf");
    expect(r.indexedFiles).toBe(r.files);
    expect(r.timings.embedTokens).toBeGreaterThan(r.chunks * 10);
    const status = await sidecar.request("index/status", t);
    expect(status).toMatchObject({ exists: true, dimensions: 64, table: r.table });
    expect(status.tables.sort()).toEqual(["chunks_lexical", r.table].sort());
  });

  it("hybrid search fuses the lexical and vector lists by reciprocal rank, and shows every score", async () => {
    const r = await sidecar.request("index/search", {
      ...t,
      query: "parse chat send params",
      rerank: false,
      topK: 100,
      fusion: "rrf",
    });
    expect(r.mode).toBe("hybrid");
    expect(r.hits.length).toBeGreaterThan(50);
    for (const h of r.hits) {
      const s = h.scores;
      const expected = (s.lexicalRank ? 1 / (60 + s.lexicalRank) : 0) + (s.vectorRank ? 1 / (60 + s.vectorRank) : 0);
      expect(s.fused).toBeCloseTo(expected, 10);
      expect(h.score).toBe(s.fused);
      if (s.vector !== undefined) expect(Math.abs(s.vector)).toBeLessThanOrEqual(1.0001); // unit vectors: cosine
    }
    expect(r.hits.map((h) => h.score)).toEqual([...r.hits.map((h) => h.score)].sort((a, b) => b - a));
    expect(r.hits.some((h) => h.scores.vector !== undefined && h.scores.lexical === undefined)).toBe(true);
    expect(r.timings.embedMs).toBeGreaterThan(0);
  });

  it("by default hybrid fuses by a convex combination of scores; vectorWeight weighs the vector side", async () => {
    const r = await sidecar.request("index/search", {
      ...t,
      query: "parse chat send params",
      rerank: false,
      topK: 100,
      vectorWeight: 0.25,
    });
    const best = Math.max(...r.hits.map((h) => h.scores.lexical ?? 0));
    for (const h of r.hits) {
      const s = h.scores;
      expect(s.fused).toBeCloseTo(0.8 * ((s.lexical ?? 0) / best) + 0.2 * (s.vector ?? 0), 6);
    }
    expect(r.hits.map((h) => h.score)).toEqual([...r.hits.map((h) => h.score)].sort((a, b) => b - a));
    const rrf = await sidecar.request("index/search", {
      ...t,
      query: "parse chat send params",
      rerank: false,
      topK: 100,
      fusion: "rrf",
      vectorWeight: 0.25,
    });
    for (const h of rrf.hits) {
      const s = h.scores;
      expect(s.fused).toBeCloseTo(
        (s.lexicalRank ? 1 / (60 + s.lexicalRank) : 0) + (s.vectorRank ? 0.25 / (60 + s.vectorRank) : 0),
        10,
      );
    }
    const e = await errorOf(sidecar.request("index/search", { ...t, query: "x", vectorWeight: -1 }));
    expect(e.code).toBe(ErrorCodes.InvalidParams);
    expect(e.message).toMatch(/vectorWeight/);
    expect(
      (await errorOf(sidecar.request("index/search", { ...t, query: "x", fusion: "max" as "rrf" }))).message,
    ).toMatch(/fusion/);
  });

  it("vector mode ranks by cosine similarity only", async () => {
    const r = await sidecar.request("index/search", { ...t, query: "widgets", mode: "vector", rerank: false });
    expect(r.hits.map((h) => h.scores.vectorRank)).toEqual(r.hits.map((_, i) => i + 1));
    expect(r.hits.every((h) => h.scores.lexical === undefined)).toBe(true);
  });

  it("reranks the top candidates with the reranker and orders them by its score", async () => {
    const r = await sidecar.request("index/search", {
      ...t,
      query: "cancel a running request",
      rerankTopN: 8,
      topK: 8,
    });
    expect(r.reranked).toBe(true);
    const scores = r.hits.map((h) => h.scores.rerank!);
    expect(scores.every((s) => s >= 0 && s <= 1)).toBe(true);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(r.hits.map((h) => h.score)).toEqual(scores);
  });

  it("past the rerank time budget the scored candidates are reordered and the rest keep the search order", async () => {
    const query = "cancel a running request";
    const key = (h: SearchHit) => `${h.path}:${h.startLine}`;
    const first = await sidecar.request("index/search", { ...t, query, rerank: false, topK: 8 });
    expect(first.hits).toHaveLength(8);
    // A microsecond is spent by the first candidate: only it gets a score.
    const cut = await sidecar.request("index/search", { ...t, query, rerankTopN: 8, topK: 8, rerankBudgetMs: 0.001 });
    expect(cut.reranked).toBe(true);
    expect(cut.rerankCut).toEqual({ scored: 1, candidates: 8 });
    expect(cut.hits.map(key)).toEqual(first.hits.map(key));
    expect(cut.hits[0]!.scores.rerank).toBeGreaterThanOrEqual(0);
    expect(cut.hits.slice(1).every((h) => h.scores.rerank === undefined)).toBe(true);
    // 0: no limit, every candidate scored.
    const all = await sidecar.request("index/search", { ...t, query, rerankTopN: 8, topK: 8, rerankBudgetMs: 0 });
    expect(all.rerankCut).toBeUndefined();
    expect(all.hits.every((h) => h.scores.rerank !== undefined)).toBe(true);
    const e = await errorOf(sidecar.request("index/search", { ...t, query: "x", rerankBudgetMs: -1 }));
    expect(e.code).toBe(ErrorCodes.InvalidParams);
    expect(e.message).toMatch(/rerankBudgetMs/);
  });

  it("rerankWeight below 1 orders the reranked head by reranker and fused scores, each min-max normalised", async () => {
    const query = "cancel a running request";
    const first = await sidecar.request("index/search", { ...t, query, rerank: false, topK: 8 });
    const r = await sidecar.request("index/search", { ...t, query, rerankTopN: 8, topK: 8, rerankWeight: 0.3 });
    expect(r.hits.map((h) => h.path + h.startLine).sort()).toEqual(first.hits.map((h) => h.path + h.startLine).sort());
    const norm = (xs: number[]) => xs.map((x) => (x - Math.min(...xs)) / (Math.max(...xs) - Math.min(...xs)));
    const rerank = norm(r.hits.map((h) => h.scores.rerank!));
    const fused = norm(r.hits.map((h) => h.scores.fused!));
    r.hits.forEach((h, i) => expect(h.scores.interpolated).toBeCloseTo(0.3 * rerank[i]! + 0.7 * fused[i]!, 10));
    expect(r.hits.map((h) => h.score)).toEqual(r.hits.map((h) => h.scores.interpolated));
    expect(r.hits.map((h) => h.score)).toEqual([...r.hits.map((h) => h.score)].sort((a, b) => b - a));
    const e = await errorOf(sidecar.request("index/search", { ...t, query: "x", rerankWeight: 1.5 }));
    expect(e.code).toBe(ErrorCodes.InvalidParams);
    expect(e.message).toMatch(/rerankWeight/);
  });

  it("vector search without an embedding model is refused with a hint; stale tables can be dropped", async () => {
    await sidecar.request("model/unload", { role: "embedding" });
    const e = await errorOf(sidecar.request("index/search", { ...t, query: "x", mode: "vector" }));
    expect(e.code).toBe(ErrorCodes.NoModelLoaded);
    expect(e.hint).toMatch(/hearth.models.embedding/);
    // Lexical search still works on the lexical table.
    expect((await sidecar.request("index/search", { ...t, query: "fusion", rerank: false })).table).toBe(
      "chunks_lexical",
    );
    const dropped = await sidecar.request("index/drop", { ...t, which: "stale" });
    expect(dropped.dropped.sort()).toEqual([
      expect.stringMatching(/^chunks_synthetic/),
      expect.stringMatching(/^files_synthetic/),
    ]);
    await sidecar.request("model/load", { role: "embedding", model: { uri: embedModel }, contextSize: 512 });
  });
});
