import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PATH } from "../testModels";

/*
 * Issue 31, m12: `hearth mcp` answers every request it is sent, malformed ones included, with JSON-RPC's error for
 * it and the request's id — never silence (the client would wait for ever) nor a stack of validation errors. The
 * real `hearth mcp` over stdio, raw lines; bounded waits.
 */
describe("fault suite: hearth mcp answers malformed frames", () => {
  let work: string;
  let child: ChildProcessWithoutNullStreams;
  const answers = new Map<unknown, { error?: { code: number; message: string }; result?: unknown }>();
  let pending = "";

  const send = (message: unknown) =>
    child.stdin.write(`${typeof message === "string" ? message : JSON.stringify(message)}\n`);
  async function answerFor(id: unknown, timeoutMs = 10_000) {
    const started = Date.now();
    while (!answers.has(id)) {
      if (Date.now() - started > timeoutMs) throw new Error(`no answer for id ${String(id)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return answers.get(id)!;
  }

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-mcp-"));
    await fs.mkdir(path.join(work, "ws"));
    await fs.writeFile(path.join(work, "ws", "a.ts"), "export const a = 1;\n");
    child = spawn(process.execPath, [
      CLI_PATH,
      "mcp",
      path.join(work, "ws"),
      "--index-dir",
      path.join(work, "index"),
      "--threads",
      "1",
    ]);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      pending += chunk;
      let newline;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const message = JSON.parse(line) as {
          id?: unknown;
          error?: { code: number; message: string };
          result?: unknown;
        };
        answers.set(message.id ?? null, message);
      }
    });
    send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "fault-suite", version: "1" } },
    });
    await answerFor(1, 30_000);
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
  });
  afterAll(async () => {
    child?.kill();
    await fs.rm(work, { recursive: true, force: true });
  });

  it("a request whose params are not an object gets Invalid Request with its id", async () => {
    send({ jsonrpc: "2.0", id: 5, method: "tools/call", params: "x" });
    expect((await answerFor(5)).error).toMatchObject({ code: -32600, message: expect.stringMatching(/'params'/) });
  });

  it("tools/call without a tool name gets Invalid params naming the field, not an internal error", async () => {
    send({ jsonrpc: "2.0", id: 6, method: "tools/call", params: { name: 42 } });
    send({ jsonrpc: "2.0", id: 7, method: "tools/call" });
    for (const id of [6, 7]) {
      expect((await answerFor(id)).error).toMatchObject({
        code: -32602,
        message: "Invalid params: 'params.name' must be the name of a tool (a string).",
      });
    }
  });

  it("a frame with an id but no method gets Invalid Request; a line that is not JSON gets Parse error", async () => {
    send({ jsonrpc: "2.0", id: 8 });
    expect((await answerFor(8)).error?.code).toBe(-32600);
    send("{not json");
    expect((await answerFor(null)).error?.code).toBe(-32700);
  });

  it("well-formed requests still work after the malformed ones", async () => {
    send({ jsonrpc: "2.0", id: 9, method: "tools/list" });
    const tools = (await answerFor(9)).result as { tools: Array<{ name: string }> };
    expect(tools.tools.map((t) => t.name)).toContain("search_codebase");
  });
});
