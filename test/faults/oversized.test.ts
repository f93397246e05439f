import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { MAX_CHAT_CHARS, MAX_CHAT_MESSAGES } from "../../shared/guards";
import { WATCHDOG_SOURCE } from "../../sidecar/parentWatchdog";
import { ErrorCodes, type ChatMessage } from "../../shared/protocol";
import { testModel } from "../testModels";
import { errorOf, spawnSidecar, waitFor } from "../sidecar/helpers";

/*
 * Oversized input through the real sidecar with the real stories260K model in a 512-token context: nothing is
 * cut silently, nothing blocks the sidecar, and a sidecar whose client died does not live on.
 */
describe("fault suite: oversized chat input gets a clear error, never a silent cut or a stall", () => {
  let sidecar: SidecarProcess;
  const send = (messages: ChatMessage[], system?: string) =>
    sidecar.request("chat/send", { streamId: "o", messages, system, params: { temperature: 0, maxTokens: 16 } });
  const user = (content: string): ChatMessage => ({ role: "user", content });

  beforeAll(async () => {
    const model = await testModel("stories260K");
    ({ sidecar } = await spawnSidecar());
    await sidecar.request("model/load", { role: "chat", model: { uri: model }, contextSize: 512 });
  });
  afterAll(async () => {
    await sidecar.stop();
  });

  it("a 10 MB message is refused as PromptTooLong, naming its size and the context window", async () => {
    const error = await errorOf(send([user("Once upon a time ".repeat(600_000))]));
    expect(error.code).toBe(ErrorCodes.PromptTooLong);
    expect(error.message).toMatch(/The message \(10,200,000 characters\) does not fit the 512-token context window/);
    expect(error.hint).toMatch(/hearth\.contextSize/);
  });

  it("a message a little longer than the window is refused with its token count (it was cut silently)", async () => {
    const error = await errorOf(send([user("Lily went to the park and played with her ball. ".repeat(60))]));
    expect(error.code).toBe(ErrorCodes.PromptTooLong);
    expect(error.message).toMatch(/\(\d{3,4} tokens\) does not fit the 512-token context window/);
  });

  it("a 270 KB system prompt is refused the same way, and the sidecar answers the next request", async () => {
    const error = await errorOf(send([user("Hello")], "You are a helpful storyteller. ".repeat(9000)));
    expect(error.code).toBe(ErrorCodes.PromptTooLong);
    expect(error.message).toMatch(/The message and the system prompt/);
    const ok = await send([user("Once upon a time")]);
    expect(ok.text.length).toBeGreaterThan(0);
  });

  it("a 3,000-message chat keeps the newest turns that fit and says how many were dropped", async () => {
    const messages: ChatMessage[] = [];
    for (let i = 0; i < 1500; i++) {
      messages.push(user(`Turn ${i}: the dog ran to the tree.`), { role: "assistant", content: "The cat sat down." });
    }
    messages.push(user("What happened next?"));
    const started = performance.now();
    const result = await send(messages);
    const ms = performance.now() - started;
    // Whole turns dropped from the front, most of them, and the answer came.
    expect(result.droppedMessages % 2).toBe(0);
    expect(result.droppedMessages).toBeGreaterThan(2900);
    expect(result.droppedMessages).toBeLessThan(3000);
    expect(result.usage.promptTokens).toBeLessThanOrEqual(512);
    console.info(`fault suite: 3,001 messages fitted and answered in ${ms.toFixed(0)} ms`);
  });

  it("more than the guards' bounds is InvalidParams before any tokenising", async () => {
    const tooMany = Array.from({ length: MAX_CHAT_MESSAGES + 1 }, (_, i) =>
      i % 2 ? { role: "assistant" as const, content: "a" } : user("u"),
    );
    const many = await errorOf(send(tooMany));
    expect(many.code).toBe(ErrorCodes.InvalidParams);
    expect(many.message).toMatch(/'messages' must be at most 100,000 messages/);
    const huge = await errorOf(send([user("x".repeat(MAX_CHAT_CHARS + 1))]));
    expect(huge.code).toBe(ErrorCodes.InvalidParams);
    expect(huge.message).toMatch(/'messages' must be at most 16,777,216 characters/);
  });
});

describe("fault suite: a sidecar whose client died exits", () => {
  let work: string;
  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-orphan-"));
    await fs.mkdir(path.join(work, "ws"));
    for (let i = 0; i < 400; i++) {
      const body = Array.from({ length: 40 }, (_, k) => `  const v${k} = n * ${i + k};`).join("\n");
      await fs.writeFile(
        path.join(work, "ws", `m${i}.ts`),
        `export function f${i}(n: number) {\n${body}\n  return n;\n}\n`,
      );
    }
  });
  afterAll(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  /** Whether `pid` runs (a zombie waiting for its new parent to reap it counts as gone). */
  const alive = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  };

  it("killing `hearth index` (SIGKILL) mid-build ends its sidecar within seconds", async () => {
    const cli = spawn(
      process.execPath,
      [path.resolve("dist/cli.mjs"), "index", "ws", "--index-dir", "db", "--batch-size", "2"],
      { cwd: work, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    cli.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    // The sidecar is the CLI's child: find it in /proc once it has started working.
    let sidecarPid: number | undefined;
    await waitFor(
      () => {
        sidecarPid ??= childPid(cli.pid!);
        return sidecarPid !== undefined;
      },
      20_000,
      "the CLI's sidecar to start",
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(alive(sidecarPid!)).toBe(true);
    cli.kill("SIGKILL");
    await waitFor(() => !alive(sidecarPid!), 15_000, `the orphaned sidecar ${sidecarPid} to exit (${stderr})`);
  });

  it("a one-shot command whose sidecar crashes says to run the command again, not to send the message again", async () => {
    const cli = spawn(
      process.execPath,
      [path.resolve("dist/cli.mjs"), "index", "ws", "--index-dir", "db2", "--batch-size", "2"],
      { cwd: work, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    cli.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once("exit", resolve));
    let sidecarPid: number | undefined;
    await waitFor(() => (sidecarPid ??= childPid(cli.pid!)) !== undefined, 20_000, "the CLI's sidecar to start");
    await new Promise((r) => setTimeout(r, 500));
    process.kill(sidecarPid!, "SIGKILL");
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/The Hearth sidecar stopped unexpectedly \(killed by SIGKILL\)/);
    expect(stderr).toMatch(/Run the command again/);
    expect(stderr).not.toMatch(/send the message again/);
  });
});

describe("fault suite: the parent watchdog ends a process whose main thread is stuck", () => {
  it("a child spinning in a synchronous loop exits within seconds of its parent's SIGKILL", async () => {
    // Parent: a shell that starts the child and waits. Child: the watchdog thread, then a main thread that never
    // yields (no IPC `disconnect` event could ever run).
    const child = `const { Worker } = require("node:worker_threads");
new Worker(process.env.WATCHDOG, { eval: true, workerData: { parentPid: process.ppid, intervalMs: 200 } });
setTimeout(() => { for (;;) {} }, 100);`;
    const parent = spawn("bash", ["-c", `"${process.execPath}" -e '${child}' & wait`], {
      env: { ...process.env, WATCHDOG: WATCHDOG_SOURCE },
      stdio: "ignore",
    });
    let pid: number | undefined;
    await waitFor(() => (pid ??= childPid(parent.pid!)) !== undefined, 10_000, "the child to start");
    await new Promise((r) => setTimeout(r, 500));
    const stat = () => {
      try {
        return readFileSync(`/proc/${pid}/stat`, "utf8");
      } catch {
        return "";
      }
    };
    expect(stat()).toMatch(/^\d+ \(node\) [RS]/);
    parent.kill("SIGKILL");
    try {
      await waitFor(() => !/^\d+ \(node\) [RSD]/.test(stat()), 10_000, `the spinning child ${pid} to exit`);
    } finally {
      // Never leave a spinning process behind when the watchdog failed.
      if (stat()) process.kill(pid!, "SIGKILL");
    }
  });
});

/** The first child process of `pid` (Linux: /proc/<pid>/task/<pid>/children), or undefined. */
function childPid(pid: number): number | undefined {
  try {
    // Synchronous on purpose: called from a polling predicate.
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8");
    const first = text.trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}
