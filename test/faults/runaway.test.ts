import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { READ_TOOLS } from "../../common/agent/agentTools";
import { RUN_COMMAND_TOOL } from "../../common/agent/runCommand";
import type { SidecarApi } from "../../common/sidecar/SidecarApi";
import type { ToolContext } from "../../common/tools/definition";

/*
 * Issue 31, M5 and M6: runaway work the agent starts. A command whose child leaves the process group (setsid, a
 * daemon) keeps the output pipes open, so the agent waited for ever; a backtracking grep pattern froze the host's
 * thread. Real shells, processes and files in temp folders; every stray process is killed after.
 */
describe("fault suite: run_command ends even when a child leaves its process group", () => {
  let root: string;
  const marker = "19.731"; // an unusual sleep, so the cleanup finds exactly the strays of this test
  const ctx = (signal = new AbortController().signal): ToolContext => ({
    api: {} as SidecarApi,
    target: { root, storageDir: path.join(root, "index") },
    signal,
    commands: { trusted: true, confirm: async () => true, timeoutMs: 3_000 },
  });

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-commands-"));
  });
  afterAll(async () => {
    try {
      execFileSync("pkill", ["-f", `sleep ${marker}`]);
    } catch {
      // none left
    }
    await fs.rm(root, { recursive: true, force: true });
  });

  it("answers once the shell has exited, with its output, while an escaped child still holds the pipes", async () => {
    const started = Date.now();
    const out = await RUN_COMMAND_TOOL.run({ command: `setsid sleep ${marker} & echo started` }, ctx());
    expect(out).toMatch(/exit code 0/);
    expect(out).toMatch(/started/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("the timeout and Stop end the wait too, even though the escaped child lives on", async () => {
    const started = Date.now();
    const timedOut = await RUN_COMMAND_TOOL.run({ command: `setsid sleep ${marker} & sleep ${marker}` }, ctx());
    expect(timedOut).toMatch(/killed after the 3 s timeout/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 300);
    const stopped = Date.now();
    await expect(
      RUN_COMMAND_TOOL.run({ command: `setsid sleep ${marker} & sleep ${marker}` }, ctx(stop.signal)),
    ).rejects.toThrow("Stopped.");
    expect(Date.now() - stopped).toBeLessThan(8_000);
  });
});

describe("fault suite: grep with a catastrophic regular expression ends at its deadline", () => {
  let root: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-grep-"));
    await fs.writeFile(path.join(root, "a.txt"), `${"a".repeat(40)}!\nplain line\n`);
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  const ctx = (signal = new AbortController().signal): ToolContext => ({
    api: {} as SidecarApi,
    target: { root, storageDir: path.join(root, "index") },
    signal,
  });
  const grep = READ_TOOLS.find((t) => t.name === "grep")!;

  it("a backtracking pattern is refused after the deadline, and the thread stays free meanwhile", async () => {
    const started = Date.now();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 100);
    try {
      await expect(grep.run({ pattern: "^(a+)+$" }, ctx())).rejects.toThrow(/took longer than 5 s .* simpler pattern/);
    } finally {
      clearInterval(ticker);
    }
    expect(Date.now() - started).toBeLessThan(9_000);
    expect(ticks).toBeGreaterThan(20); // the caller's event loop kept running while the worker spun
    expect(await grep.run({ pattern: "plain" }, ctx())).toBe("a.txt:2: plain line");
  });

  it("Stop ends a running grep at once", async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 200);
    const started = Date.now();
    await expect(grep.run({ pattern: "^(a+)+$" }, ctx(stop.signal))).rejects.toThrow("Stopped.");
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
