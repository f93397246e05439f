import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unifiedDiff } from "../../common/actions/proposal";
import { insideRoot } from "../../shared/workspacePath";

describe("fault suite: paths a model names stay inside the workspace", () => {
  let base: string;
  let root: string;
  beforeAll(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-paths-"));
    root = path.join(base, "workspace");
    await fs.mkdir(path.join(root, "src"), { recursive: true });
    await fs.writeFile(path.join(root, "src", "a.ts"), "a");
    await fs.writeFile(path.join(base, "outside.txt"), "secret");
    await fs.symlink(path.join(base, "outside.txt"), path.join(root, "link-out.txt"));
    await fs.symlink("/", path.join(root, "slash"));
    await fs.symlink(path.join(root, "src"), path.join(root, "src-link"));
  });
  afterAll(() => fs.rm(base, { recursive: true, force: true }));

  it.each([
    ["../outside.txt"],
    ["../../.bashrc"],
    ["src/../../outside.txt"],
    ["/etc/passwd"],
    ["C:/Windows/win.ini"],
    [""],
    ["link-out.txt"],
    ["slash/etc/passwd"],
  ])("refuses %j", (rel) => {
    expect(insideRoot(root, rel)).toBeUndefined();
  });

  it.each([
    ["src/a.ts", "src/a.ts"],
    ["./src/a.ts", "src/a.ts"],
    ["src/../src/a.ts", "src/a.ts"],
    ["src-link/a.ts", "src-link/a.ts"],
    ["new/file.ts", "new/file.ts"],
  ])("keeps %j inside", (rel, expected) => {
    expect(insideRoot(root, rel)).toBe(path.join(root, expected));
  });
});

describe("fault suite: diffs for non-ASCII file names apply with git", () => {
  it.each(["café.ts", "with space.ts", "данные.ts", "日本.ts"])(
    "%s: an edit and a new file beside it",
    async (name) => {
      const repo = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-diff-"));
      try {
        const before = "export function add(a: number, b: number) {\n  return a + b;\n}\n";
        await fs.writeFile(path.join(repo, name), before);
        execFileSync("git", ["init", "-q"], { cwd: repo });
        const edit = unifiedDiff(name, before, `// Adds two numbers.\n${before}`);
        const created = unifiedDiff(`${name.replace(/\.ts$/, "")}.test.ts`, "", "it('adds', () => {});\n", {
          newFile: true,
        });
        expect(created).toMatch(/^--- \/dev\/null$/m);
        await fs.writeFile(path.join(repo, "change.diff"), edit + created);
        execFileSync("git", ["apply", "change.diff"], { cwd: repo });
        expect(await fs.readFile(path.join(repo, name), "utf8")).toMatch(/^\/\/ Adds two numbers\./);
        expect(await fs.readFile(path.join(repo, `${name.replace(/\.ts$/, "")}.test.ts`), "utf8")).toContain("adds");
      } finally {
        await fs.rm(repo, { recursive: true, force: true });
      }
    },
  );
});
