import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileLines } from "../../sidecar/search/fileLines";

/* The cache of files that search hits are checked against: real files in a temp dir. */
describe("FileLines", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-file-lines-"));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("sees an edit at once, even one that keeps the size; forgets a deleted file", async () => {
    const cache = new FileLines();
    const file = path.join(dir, "a.ts");
    await fs.writeFile(file, "one\ntwo\n");
    expect(await cache.get(file)).toEqual(["one", "two", ""]);
    await fs.writeFile(file, "uno\ndos\n"); // same size, new content
    expect(await cache.get(file)).toEqual(["uno", "dos", ""]);
    await fs.rm(file);
    expect(await cache.get(file)).toBeUndefined();
    await fs.writeFile(path.join(dir, "bin"), Buffer.from([1, 0, 2]));
    expect(await cache.get(path.join(dir, "bin"))).toBeUndefined();
  });

  it("keeps at most maxChars of text, dropping the least recently used file", async () => {
    const cache = new FileLines(25);
    const files = ["x", "y", "z"].map((n) => path.join(dir, `${n}.txt`));
    for (const f of files) await fs.writeFile(f, "0123456789");
    for (const f of files) await cache.get(f); // x is dropped when z comes in (30 > 25)
    // What it holds, oldest first (private state: a re-read would look the same from outside).
    const held = (cache as unknown as { entries: Map<string, unknown> }).entries;
    expect([...held.keys()]).toEqual([files[1], files[2]]);
    await cache.get(files[1]!); // y used: z is now the oldest
    await cache.get(files[0]!);
    expect([...held.keys()]).toEqual([files[1], files[0]]);
  });
});
