import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IndexStore, MAX_VECTOR_INDEX_DELTAS, type ChunkRow } from "../../sidecar/search/store";

/*
 * The vector index of a large table (issue 21: an exact scan took 276 ms at 102k chunks), on a real LanceDB in
 * a temp dir: built by `finalize` only once the table is big enough, searches through it still find each row
 * by its own vector, and rows written after it are found before they are folded in. The threshold is lowered
 * so that the test stays small; the product's is VECTOR_INDEX_FROM_ROWS.
 */

const DIMENSIONS = 64;
let seed = 7;
/** A deterministic pseudo-random unit vector. */
function unit(): number[] {
  const v = Array.from({ length: DIMENSIONS }, () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  });
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function rows(file: string, count: number): ChunkRow[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${file}#${i}`,
    path: file,
    language: "typescript",
    startLine: i + 1,
    endLine: i + 1,
    symbol: "",
    text: `line ${i}`,
    terms: `line ${i}`,
    vector: unit(),
  }));
}

async function vectorIndex(store: IndexStore) {
  const table = await store.chunks();
  const index = (await table.listIndices()).find((i) => i.columns.includes("vector"));
  return index ? { ...index, stats: await table.indexStats(index.name) } : undefined;
}

async function nearest(store: IndexStore, vector: number[]): Promise<string | undefined> {
  const hits = (await (
    await store.chunks()
  )
    .vectorSearch(vector)
    .distanceType("cosine")
    .select(["id"])
    .limit(5)
    .toArray()) as Array<{ id: string }>;
  return hits[0]?.id;
}

describe("the vector index of a large chunk table", () => {
  let dir: string;
  let store: IndexStore;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-vector-index-"));
    store = await IndexStore.open(dir, { model: "SYNTHETIC", dimensions: DIMENSIONS }, { vectorIndexFromRows: 2000 });
  });
  afterAll(async () => {
    store.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("is built at the threshold, finds rows by their own vectors, and scans rows written after it", async () => {
    const first = rows("a.ts", 1500);
    await store.replaceFiles([{ path: "a.ts", hash: "1", chunks: first.length }], first);
    await store.finalize();
    expect(await vectorIndex(store)).toBeUndefined(); // under the threshold: the exact scan

    const second = rows("b.ts", 1000);
    await store.replaceFiles([{ path: "b.ts", hash: "2", chunks: second.length }], second);
    await store.finalize();
    const index = await vectorIndex(store);
    expect(index?.indexType).toMatch(/HNSW/i);
    expect(index?.stats?.numIndexedRows).toBe(2500);

    const all = [...first, ...second];
    let found = 0;
    for (let i = 0; i < all.length; i += 125) if ((await nearest(store, all[i]!.vector!)) === all[i]!.id) found++;
    expect(found).toBeGreaterThanOrEqual(19); // of 20: an approximate index, nearly always exact here

    // Written after the index, not yet folded in: still found (scanned exactly beside the index).
    const third = rows("c.ts", 10);
    await store.replaceFiles([{ path: "c.ts", hash: "3", chunks: third.length }], third);
    expect((await vectorIndex(store))?.stats?.numUnindexedRows).toBe(10);
    for (const r of third) expect(await nearest(store, r.vector!)).toBe(r.id);
    await store.finalize();
    expect((await vectorIndex(store))?.stats?.numUnindexedRows).toBe(0);
  });

  it("is re-created whole at a build's end once folding rows in has left it in too many pieces", async () => {
    // Every finalize after a write folds the new rows in as one more delta index (LanceDB's optimize); the
    // fold-in of updates leaves them, however many.
    const pieces: number[] = [];
    for (let i = 0; i <= MAX_VECTOR_INDEX_DELTAS; i++) {
      const more = rows(`d${i}.ts`, 20);
      await store.replaceFiles([{ path: `d${i}.ts`, hash: String(i), chunks: more.length }], more);
      await store.finalize();
      pieces.push((await vectorIndex(store))?.stats?.numIndices ?? 0);
    }
    expect(pieces.at(-1)).toBeGreaterThan(MAX_VECTOR_INDEX_DELTAS);
    const more = rows("d-last.ts", 20);
    await store.replaceFiles([{ path: "d-last.ts", hash: "last", chunks: more.length }], more);
    await store.finalize({ mergeVectorDeltas: true }); // as a build ends
    const index = await vectorIndex(store);
    expect(index?.stats?.numIndices).toBe(1);
    expect(index?.stats?.numIndexedRows).toBe(2510 + 20 * (MAX_VECTOR_INDEX_DELTAS + 2));
    const probe = rows("e.ts", 1)[0]!;
    await store.replaceFiles([{ path: "e.ts", hash: "e", chunks: 1 }], [probe]);
    expect(await nearest(store, probe.vector!)).toBe(probe.id);
  });
});
