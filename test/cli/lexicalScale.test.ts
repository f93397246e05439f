import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../testModels";
import { hearth } from "./hearth";

/*
 * A lexical index of over 30,000 chunks of real code (TypeScript's lib, prettier, zod, jsdom, apache-arrow from
 * node_modules) built in one run by the real CLI and sidecar. On a 2-core machine Lance's CPU pool had one thread,
 * and its full-text index builder deadlocked at this size (0 % CPU, for good) in the build's final createIndex
 * (seen: 35,075 chunks, still hung after 90 s with LANCE_CPU_THREADS=1; 29.4 s with the fix); the sidecar now
 * gives the pool two threads (sidecar/search/store.ts, setLanceCpuThreads). Bounded: a hang fails the test.
 */
let work: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-lexical-scale-"));
  for (const pkg of ["typescript/lib", "prettier", "zod", "jsdom/lib", "apache-arrow"]) {
    execFileSync("cp", ["-R", path.join(REPO_ROOT, "node_modules", pkg), path.join(work, pkg.replace(/\//g, "_"))]);
  }
}, 60_000);

afterAll(() => fs.rm(work, { recursive: true, force: true }));

describe("a lexical index of 30,000+ chunks", () => {
  it("builds in one run and is searchable: the full-text index step finishes", async () => {
    const started = Date.now();
    const run = hearth(["index", work, "--index-dir", path.join(work, ".index")]);
    const bound = new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 180_000).unref());
    const r = await Promise.race([run, bound]);
    expect(r, `index did not finish within 180 s (started ${new Date(started).toISOString()})`).not.toBe("hung");
    const done = r as Awaited<typeof run>;
    expect(done.code, done.stderr).toBe(0);
    const chunks = Number(/\((\d+) chunks\)/.exec(done.stderr)?.[1]);
    expect(chunks, done.stderr).toBeGreaterThan(30_000);
    const found = await hearth([
      "search",
      work,
      "zod object schema",
      "--index-dir",
      path.join(work, ".index"),
      "--json",
    ]);
    expect(found.code, found.stderr).toBe(0);
    expect((JSON.parse(found.stdout) as unknown[]).length).toBeGreaterThan(0);
  }, 300_000);
});
