import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Chunker, lineWindows } from "../../sidecar/search/chunker";
import { discoverFiles, isIndexable, readIndexableFile } from "../../sidecar/search/discover";

async function tree(files: Record<string, string | Buffer>): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-discover-"));
  for (const [rel, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fs.writeFile(path.join(root, rel), content);
  }
  return root;
}

describe("discovery on a real folder", () => {
  it("honours nested .gitignore, .hearthignore, excludes, the size cap and never-indexed names", async () => {
    const root = await tree({
      ".gitignore": "build/\n*.log\n",
      ".hearthignore": "secret.ts\n",
      "src/a.ts": "export const a = 1;\n",
      "src/.gitignore": "gen/\n!keep.log\n",
      "src/gen/g.ts": "x",
      "src/keep.log": "not a source type",
      "src/secret.ts": "x",
      "build/out.js": "x",
      "node_modules/dep/index.js": "x",
      "docs/readme.md": "# Docs\n",
      "package-lock.json": "{}",
      "big.ts": "x".repeat(2000),
      "image.png": Buffer.from([0x89, 0x50]),
      "vendor/lib.ts": "x",
    });
    const { files, skipped } = await discoverFiles(root, {
      maxFileBytes: 1000,
      exclude: ["**/node_modules", "{vendor,other}/**"],
    });
    expect(files.map((f) => f.path)).toEqual(["docs/readme.md", "src/a.ts"]);
    const reasons = Object.fromEntries(skipped.map((s) => [s.path, s.reason]));
    expect(reasons["package-lock.json"]).toBe("lockfile");
    expect(reasons["big.ts"]).toMatch(/too large/);
    expect(reasons["image.png"]).toMatch(/binary/);
    expect(reasons["src/keep.log"]).toMatch(/not a known source/); // un-ignored by the nested file, then typed out
    expect(Object.keys(reasons)).not.toContain("src/secret.ts");
    expect(await isIndexable(root, "src/gen/g.ts")).toBe(false);
    expect(await isIndexable(root, "src/secret.ts")).toBe(false);
    expect(await isIndexable(root, "src/new.ts")).toBe(true);
    expect(await isIndexable(root, "node_modules/dep/index.js")).toBe(false);
  });

  it("skips symlink loops, broken links, binary and non-UTF-8 files with reasons instead of hanging", async () => {
    const root = await tree({
      "src/a.ts": "const a = 1;\n",
      "src/bin.ts": Buffer.from([1, 0, 2]),
      "src/latin1.ts": Buffer.from([0x63, 0xe9, 0x0a]),
    });
    await fs.symlink(root, path.join(root, "src", "loop"));
    await fs.symlink(path.join(root, "missing"), path.join(root, "dangling.ts"));
    const { files, skipped } = await discoverFiles(root);
    expect(skipped).toEqual(
      expect.arrayContaining([
        { path: "src/loop", reason: "symlink loop (folder already visited)" },
        { path: "dangling.ts", reason: "broken symlink" },
      ]),
    );
    const read = Object.fromEntries(
      await Promise.all(files.map(async (f) => [f.path, await readIndexableFile(f.absPath)] as const)),
    );
    expect(read["src/bin.ts"]).toEqual({ skip: "binary (NUL bytes)" });
    expect(read["src/latin1.ts"]).toEqual({ skip: "not UTF-8 text" });
    expect(read["src/a.ts"]).toMatchObject({ text: "const a = 1;\n" });
  });

  it("fails clearly when the root is not a folder", async () => {
    await expect(discoverFiles("/nonexistent/hearth")).rejects.toThrow(/ENOENT/);
  });
});

describe("tree-sitter chunking", () => {
  let chunker: Chunker;
  beforeAll(async () => {
    chunker = await Chunker.create();
  });

  const ts = `import { x } from "./x";

/** Adds business days to a date. */
export function addBusinessDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86400000);
}

export class Calendar {
  private holidays: Date[] = [];

  /** Whether the date is a holiday. */
  isHoliday(d: Date): boolean {
    return this.holidays.some((h) => h.getTime() === d.getTime());
  }
}

const double = (n: number) => n * 2;
const answer = 42;
`;

  it("makes one chunk per function / class / arrow function with its doc comment, symbol and 1-based lines", async () => {
    const chunks = await chunker.chunk("src/cal.ts", "typescript", ts);
    const bySymbol = Object.fromEntries(chunks.map((c) => [c.symbol ?? "(glue)", c]));
    expect(bySymbol["addBusinessDays"]).toMatchObject({
      startLine: 3,
      endLine: 6,
      language: "typescript",
      path: "src/cal.ts",
    });
    expect(bySymbol["addBusinessDays"]?.text.startsWith("/** Adds business days")).toBe(true);
    expect(bySymbol["Calendar"]).toMatchObject({ startLine: 8, endLine: 15 });
    expect(bySymbol["double"]).toMatchObject({ startLine: 17, endLine: 17 });
    // Imports and plain constants are glue.
    expect(chunks.filter((c) => !c.symbol).map((c) => c.text)).toEqual([
      `import { x } from "./x";`,
      "const answer = 42;",
    ]);
  });

  it("splits a class larger than the budget into its header and its members, qualified by the class name", async () => {
    const chunks = await chunker.chunk("src/cal.ts", "typescript", ts, { maxTokens: 50 });
    const symbols = chunks.map((c) => c.symbol);
    expect(symbols).toContain("Calendar.isHoliday");
    const method = chunks.find((c) => c.symbol === "Calendar.isHoliday")!;
    expect(method).toMatchObject({ startLine: 11, endLine: 14 });
    expect(method.text).toContain("/** Whether the date is a holiday. */");
    for (const c of chunks) expect(c.endLine).toBeGreaterThanOrEqual(c.startLine);
  });

  it("chunks Python by def/class and unknown languages by overlapping line windows", async () => {
    const py =
      'import os\n\ndef load_config(path):\n    """Read the config."""\n    return open(path).read()\n\nclass Store:\n    def get(self, k):\n        return k\n';
    const chunks = await chunker.chunk("cfg.py", "python", py);
    expect(chunks.map((c) => c.symbol)).toEqual([undefined, "load_config", "Store"]);
    const md = Array.from({ length: 200 }, (_, i) => `line ${i + 1} of the notes`).join("\n");
    const windows = await chunker.chunk("notes.md", "markdown", md, { maxTokens: 100, overlapTokens: 20 });
    expect(windows.length).toBeGreaterThan(5);
    expect(windows[0]?.startLine).toBe(1);
    expect(windows.at(-1)!.endLine).toBe(200);
    for (let i = 1; i < windows.length; i++) {
      // Consecutive windows overlap by a few lines and always advance.
      expect(windows[i]!.startLine).toBeLessThanOrEqual(windows[i - 1]!.endLine);
      expect(windows[i]!.startLine).toBeGreaterThan(windows[i - 1]!.startLine);
    }
  });

  it("splits one huge function into overlapping windows that keep its symbol", async () => {
    const body = Array.from({ length: 300 }, (_, i) => `  total += ${i};`).join("\n");
    const chunks = await chunker.chunk(
      "big.js",
      "javascript",
      `function sum() {\n  let total = 0;\n${body}\n  return total;\n}\n`,
      { maxTokens: 200 },
    );
    expect(chunks.length).toBeGreaterThan(3);
    expect(new Set(chunks.map((c) => c.symbol))).toEqual(new Set(["sum"]));
    expect(chunks[0]?.startLine).toBe(1);
    expect(chunks.at(-1)!.endLine).toBe(304);
  });

  it("never throws on broken source and one line longer than the budget becomes its own window", async () => {
    const chunks = await chunker.chunk("bad.ts", "typescript", "function (((( {{{ class\n" + "y".repeat(5000));
    expect(chunks.length).toBeGreaterThan(0);
    const opts = { maxTokens: 10, overlapTokens: 2, countTokens: (s: string) => s.length };
    expect(
      lineWindows("f", "plaintext", ["a".repeat(50), "b"], 1, undefined, opts).map((c) => [c.startLine, c.endLine]),
    ).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });
});
