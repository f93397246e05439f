import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import type { IndexTarget } from "../../sidecar/protocol";
import { spawnSidecar } from "../sidecar/helpers";

describe("fault suite: symlinks do not lead indexing out of the workspace", () => {
  let sidecar: SidecarProcess;
  let base: string;
  let target: IndexTarget;
  beforeAll(async () => {
    ({ sidecar } = await spawnSidecar());
    base = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-links-"));
    const root = path.join(base, "workspace");
    const outside = path.join(base, "elsewhere");
    await fs.mkdir(path.join(root, "src"), { recursive: true });
    await fs.mkdir(outside);
    await fs.writeFile(path.join(root, "src", "inside.ts"), "export function insideWidget() {\n  return 1;\n}\n");
    await fs.writeFile(path.join(outside, "secret.ts"), "export function outsideSecretToken() {\n  return 2;\n}\n");
    await fs.symlink("/", path.join(root, "slash")); // would walk the whole file system
    await fs.symlink(outside, path.join(root, "other-project"));
    await fs.symlink(path.join(outside, "secret.ts"), path.join(root, "src", "linked-secret.ts"));
    await fs.symlink(path.join(root, "src"), path.join(root, "src-again")); // inside: a loop, skipped once
    target = { root, storageDir: path.join(base, "db") };
  });
  afterAll(async () => {
    await sidecar.stop();
    await fs.rm(base, { recursive: true, force: true });
  });

  it("builds only what lies inside, lists the links it skipped, and never searches outside files", async () => {
    const started = performance.now();
    const build = await sidecar.request("index/build", target);
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(build.files).toBe(1);
    const skipped = new Map(build.skipped.map((s) => [s.path, s.reason]));
    for (const link of ["slash", "other-project", "src/linked-secret.ts"]) {
      expect(skipped.get(link), link).toMatch(/symlink out of the folder/);
    }
    const r = await sidecar.request("index/search", { ...target, query: "outside secret token" });
    expect(r.hits.map((h) => h.path)).toEqual([]);
    expect((await sidecar.request("index/search", { ...target, query: "inside widget" })).hits[0]?.path).toBe(
      "src/inside.ts",
    );
  });

  it("a watcher event for a linked file outside indexes nothing", async () => {
    const u = await sidecar.request("index/update", {
      ...target,
      changed: [path.join(target.root, "src", "linked-secret.ts")],
    });
    expect(u.updated).toBe(0);
    const r = await sidecar.request("index/search", { ...target, query: "outside secret token" });
    expect(r.hits).toEqual([]);
  });
});
