import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import type { IndexTarget } from "../../shared/protocol";
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

describe("fault suite: hostile files in the workspace are skipped with a reason, and the build finishes", () => {
  let sidecar: SidecarProcess;
  let base: string;
  let target: IndexTarget;
  beforeAll(async () => {
    ({ sidecar } = await spawnSidecar());
    base = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-files-"));
    const root = path.join(base, "ws");
    await fs.mkdir(path.join(root, "many"), { recursive: true });
    await fs.writeFile(path.join(root, "good.ts"), "export function goodFunction() {\n  return 1;\n}\n");
    execFileSync("mkfifo", [path.join(root, "pipe.ts")]); // reading it would block forever
    await fs.writeFile(path.join(root, "nul.ts"), Buffer.from("export const a = 1;\0\0\0binary\n"));
    await fs.writeFile(
      path.join(root, "latin1.ts"),
      Buffer.from([0x63, 0x6f, 0x6e, 0x73, 0x74, 0x20, 0xe9, 0xff, 0x0a]),
    );
    await fs.writeFile(path.join(root, "huge-line.ts"), "x".repeat(50 * 1024 * 1024)); // 50 MB, one line
    await fs.symlink("loop-b", path.join(root, "loop-a"));
    await fs.symlink("loop-a", path.join(root, "loop-b"));
    // 20,000 tiny files.
    for (let d = 0; d < 20; d++) {
      await fs.mkdir(path.join(root, "many", `d${d}`));
      await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          fs.writeFile(path.join(root, "many", `d${d}`, `t${i}.ts`), `export const v${d}x${i} = ${i};\n`),
        ),
      );
    }
    target = { root, storageDir: path.join(base, "db") };
  }, 120_000);
  afterAll(async () => {
    await sidecar.stop();
    await fs.rm(base, { recursive: true, force: true });
  });

  it("FIFOs, NUL bytes, invalid UTF-8, a 50 MB line and link loops are skipped; 20k tiny files are indexed", async () => {
    const build = await sidecar.request("index/build", { ...target, maxFileBytes: 64 * 1024 * 1024, batchSize: 1024 });
    const skipped = new Map(build.skipped.map((s) => [s.path, s.reason]));
    expect(skipped.get("pipe.ts")).toMatch(/not a regular file/);
    expect(skipped.get("nul.ts")).toMatch(/binary/);
    expect(skipped.get("latin1.ts")).toMatch(/not UTF-8/);
    expect(skipped.get("huge-line.ts")).toMatch(/minified/);
    expect(skipped.get("loop-a")).toMatch(/broken symlink/);
    expect(build.files).toBe(20_001);
    const r = await sidecar.request("index/search", { ...target, query: "v7x123", mode: "lexical" });
    expect(r.hits[0]?.path).toBe("many/d7/t123.ts");
  }, 180_000);

  it("files deleted between discovery and read are skipped as unreadable, and the build completes", async () => {
    const root = path.join(base, "small");
    for (let d = 0; d < 10; d++) {
      await fs.mkdir(path.join(root, `d${d}`), { recursive: true });
      for (let i = 0; i < 100; i++)
        await fs.writeFile(path.join(root, `d${d}`, `t${i}.ts`), `export const w${i} = ${i};\n`);
    }
    let deleted = false;
    const sub = sidecar.onNotification("index/progress", (p) => {
      if (p.progressId !== "del" || deleted || p.phase !== "index") return;
      deleted = true;
      // Discovery is over; the last folder's files have not been read yet.
      void fs.rm(path.join(root, "d9"), { recursive: true });
    });
    try {
      const build = await sidecar.request("index/build", {
        root,
        storageDir: path.join(base, "db-deleted"),
        progressId: "del",
        batchSize: 16,
      });
      expect(deleted).toBe(true);
      const unreadable = build.skipped.filter((s) => /unreadable \(ENOENT\)/.test(s.reason));
      expect(unreadable.length).toBeGreaterThan(0);
      expect(build.files + unreadable.length).toBe(1000);
    } finally {
      sub.dispose();
    }
  }, 120_000);
});
