import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insideRoot } from "../../common/actions/workspacePath";

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
