import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repairToolCall, runAgent, type AgentEvent } from "../../common/agent/AgentLoop";
import {
  EDIT_TOOLS,
  READ_TOOLS,
  ToolError,
  type ProposedChange,
  type ToolContext,
} from "../../common/agent/agentTools";
import { planTools, readToolAnswer } from "../../common/serve/tools";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { chunk, json, RecordedEngine, sse } from "../engines/recordedEngine";
import { spawnSidecar } from "../sidecar/helpers";
import { testModel } from "../testModels";
import { hearth } from "./hearth";

/*
 * The agent loop on real parts: stories260K in the real sidecar for the grammar-made calls, a real workspace on
 * a temp dir, and (RECORDED CONTRACT) an OpenAI-compatible server replaying what remote models write when no
 * grammar holds them: calls in code fences, with trailing text, with a wrong argument type.
 */

let work: string;
let ws: string;
let sidecar: SidecarProcess;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-agent-"));
  ws = path.join(work, "ws");
  await fs.mkdir(path.join(ws, "src"), { recursive: true });
  await fs.writeFile(
    path.join(ws, "src", "greet.ts"),
    "export function greet(name: string) {\n  return `Hi ${name}`;\n}\n",
  );
  await fs.writeFile(path.join(ws, ".env"), "API_KEY=secret\n");
  await fs.writeFile(path.join(work, "outside.txt"), "not yours\n");
  await fs.symlink(path.join(work, "outside.txt"), path.join(ws, "link.txt"));
  ({ sidecar } = await spawnSidecar());
  await sidecar.request("model/load", { role: "chat", model: { uri: await testModel("stories260K") } });
}, 60_000);

afterAll(async () => {
  await sidecar?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

/**
 * Run the agent on a recorded OpenAI-compatible engine that answers each chat request with the next of
 * `replies` (the last one repeated), through a real sidecar. @returns the result, the events and what the
 * engine was sent.
 */
async function replayAgent(replies: string[]) {
  let turn = 0;
  const engine = new RecordedEngine({
    "GET /v1/models": (_q, res) => json(res, 200, { data: [{ id: "remote-coder", owned_by: "organization" }] }),
    "POST /v1/chat/completions": (_q, res) =>
      sse(res, [chunk({ content: replies[Math.min(turn++, replies.length - 1)] }, "stop")]),
  });
  const url = await engine.start();
  const { sidecar: remote } = await spawnSidecar();
  try {
    await remote.request("model/load", { role: "chat", model: { uri: "", engine: { url, kind: "openai" } } });
    const events: AgentEvent[] = [];
    const result = await runAgent({
      api: remote,
      target: { root: ws, storageDir: path.join(work, "index") },
      task: "Where is greet defined?",
      tools: READ_TOOLS,
      onEvent: (e) => events.push(e),
    });
    const sent = engine.seen.filter((x) => x.path === "/v1/chat/completions").map((x) => x.body);
    return { result, events, sent: sent as Array<{ messages: Array<{ content: string }> }> };
  } finally {
    await remote.stop();
    await engine.stop();
  }
}

describe("agent: tool calls made under the tools' grammar", () => {
  it("for every tool and 8 seeds, stories260K's forced call parses and validates against the tool's schema", async () => {
    const ajv = new Ajv({ strict: false });
    const tools = READ_TOOLS.map((t) => ({
      type: "function" as const,
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
    let checked = 0;
    for (const tool of READ_TOOLS) {
      const plan = planTools(tools, { type: "function", function: { name: tool.name } })!;
      const validate = ajv.compile(tool.parameters);
      for (let seed = 1; seed <= 8; seed++) {
        const r = await sidecar.request("chat/send", {
          streamId: `g-${tool.name}-${seed}`,
          system: plan.instructions,
          messages: [{ role: "user", content: "Find where greet is defined." }],
          params: { maxTokens: 400, temperature: 1, seed },
          responseSchema: plan.schema,
        });
        expect(r.stopReason, `${tool.name} seed ${seed}: ${r.text}`).toBe("stop");
        const read = readToolAnswer(r.json, "c");
        expect("call" in read && read.call.function.name).toBe(tool.name);
        const args = JSON.parse("call" in read ? read.call.function.arguments : "null") as unknown;
        expect(validate(args), `${tool.name} seed ${seed}: ${JSON.stringify(args)}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe(READ_TOOLS.length * 8);
  }, 120_000);

  it("the loop with a required tool choice: one valid call and its result per step, then the step limit", async () => {
    const events: AgentEvent[] = [];
    const r = await runAgent({
      api: sidecar,
      target: { root: ws, storageDir: path.join(work, "index") },
      task: "Where is greet defined?",
      tools: READ_TOOLS,
      toolChoice: "required",
      maxSteps: 3,
      params: { maxTokens: 300, temperature: 0 },
      onEvent: (e) => events.push(e),
    });
    expect(r).toMatchObject({ stopped: "maxSteps", steps: 3, calls: 3 });
    expect(events.map((e) => e.kind)).toEqual(["call", "result", "call", "result", "call", "result"]);
  }, 60_000);

  it("Stop during decoding ends the loop at once as cancelled", async () => {
    const abort = new AbortController();
    const running = runAgent({
      api: sidecar,
      target: { root: ws, storageDir: path.join(work, "index") },
      task: "Where is greet defined?",
      tools: READ_TOOLS,
      toolChoice: "required",
      maxSteps: 12,
      params: { maxTokens: 1000, temperature: 1, seed: 3 },
      signal: abort.signal,
    });
    setTimeout(() => abort.abort(), 20);
    expect((await running).stopped).toBe("cancelled");
  });
});

describe("agent tools: confined to the workspace", () => {
  const ctx = (): ToolContext => ({
    api: sidecar,
    target: { root: ws, storageDir: path.join(work, "index") },
    signal: new AbortController().signal,
  });
  const readFile = READ_TOOLS.find((t) => t.name === "read_file")!;

  it("read_file reads numbered lines; ../, absolute paths, a symlink out and secrets files are refused", async () => {
    expect(await readFile.run({ path: "src/greet.ts", start_line: 1, end_line: 1 }, ctx())).toBe(
      "1: export function greet(name: string) {",
    );
    for (const p of ["../outside.txt", path.join(work, "outside.txt"), "link.txt"]) {
      await expect(readFile.run({ path: p, start_line: null, end_line: null }, ctx())).rejects.toThrow(
        /outside the workspace folder/,
      );
    }
    await expect(readFile.run({ path: ".env", start_line: null, end_line: null }, ctx())).rejects.toThrow(ToolError);
    const list = await READ_TOOLS.find((t) => t.name === "list_files")!.run({ dir: "" }, ctx());
    expect(list.split("\n")).toContain("src/greet.ts");
    expect(list).not.toContain(".env");
    const grep = await READ_TOOLS.find((t) => t.name === "grep")!.run({ pattern: "function \\w+" }, ctx());
    expect(grep).toBe("src/greet.ts:1: export function greet(name: string) {");
  });
});

describe("agent edit tools: a reviewed diff, nothing written before Accept", () => {
  const ctx = (review?: (c: ProposedChange) => Promise<boolean>): ToolContext => ({
    api: sidecar,
    target: { root: ws, storageDir: path.join(work, "index") },
    signal: new AbortController().signal,
    ...(review ? { review } : {}),
  });
  const edit = EDIT_TOOLS.find((t) => t.name === "propose_edit")!;
  const create = EDIT_TOOLS.find((t) => t.name === "create_file")!;
  const file = () => path.join(ws, "src", "greet.ts");

  it("propose_edit: rejected or unreviewed, the file is unchanged; accepted, it is written as the diff shows", async () => {
    const original = await fs.readFile(file(), "utf8");
    const args = { path: "src/greet.ts", old_text: "`Hi ${name}`", new_text: "`Hello, ${name}!`" };
    const seen: ProposedChange[] = [];
    expect(await edit.run(args, ctx())).toMatch(/not applied/);
    expect(
      await edit.run(
        args,
        ctx(async (c) => (seen.push(c), false)),
      ),
    ).toMatch(/rejected/);
    expect(await fs.readFile(file(), "utf8")).toBe(original);
    expect(seen[0]!.diff).toMatch(/^- {2}return `Hi \$\{name\}`;$/m);
    expect(seen[0]!.diff).toMatch(/^\+ {2}return `Hello, \$\{name\}!`;$/m);
    expect(
      await edit.run(
        args,
        ctx(async () => true),
      ),
    ).toMatch(/was written \(\+1 −1 lines\)/);
    expect(await fs.readFile(file(), "utf8")).toBe(original.replace("`Hi ${name}`", "`Hello, ${name}!`"));
    await fs.writeFile(file(), original);
  });

  it("propose_edit refuses text that is missing or not unique, and paths out; create_file refuses an existing file", async () => {
    const accept = ctx(async () => true);
    await expect(edit.run({ path: "src/greet.ts", old_text: "nope", new_text: "x" }, accept)).rejects.toThrow(
      /not in src\/greet.ts/,
    );
    await expect(edit.run({ path: "src/greet.ts", old_text: "e", new_text: "x" }, accept)).rejects.toThrow(
      /occurs \d+ times/,
    );
    await expect(edit.run({ path: "../outside.txt", old_text: "not", new_text: "x" }, accept)).rejects.toThrow(
      /outside the workspace folder/,
    );
    await expect(create.run({ path: "src/greet.ts", content: "x" }, accept)).rejects.toThrow(/already exists/);
    expect(await create.run({ path: "src/new.ts", content: "export const n = 1;" }, accept)).toMatch(/was written/);
    expect(await fs.readFile(path.join(ws, "src", "new.ts"), "utf8")).toBe("export const n = 1;\n");
    await fs.rm(path.join(ws, "src", "new.ts"));
  });
});

describe("agent: remote models without a grammar (RECORDED CONTRACT)", () => {
  it("repairToolCall lifts a call out of a code fence or trailing text; nothing parses from prose", () => {
    const call = { name: "grep", arguments: { pattern: "greet" } };
    expect(repairToolCall("Sure, let me look.\n```json\n" + JSON.stringify(call) + "\n```\nDone.")).toEqual(call);
    expect(repairToolCall(`${JSON.stringify(call)} I will now wait for the result {`)).toEqual(call);
    expect(repairToolCall('{"name": "grep", "arguments": {"pattern": "a}b"}}')).toEqual({
      name: "grep",
      arguments: { pattern: "a}b" },
    });
    expect(repairToolCall("I think the answer is in greet.ts.")).toBeUndefined();
  });

  it("the loop on a recorded engine: a fenced call runs, a wrong argument type goes back once, then the answer", async () => {
    const replies = [
      "Let me search.\n```json\n" + JSON.stringify({ name: "grep", arguments: { pattern: "greet" } }) + "\n```",
      JSON.stringify({ name: "read_file", arguments: { path: "src/greet.ts", start_line: "one", end_line: null } }),
      `${JSON.stringify({ answer: "greet is defined in src/greet.ts" })} Hope this helps!`,
    ];
    const { result, events, sent } = await replayAgent(replies);
    expect(result).toMatchObject({ answer: "greet is defined in src/greet.ts", steps: 3, calls: 1 });
    expect(events.map((e) => e.kind)).toEqual(["call", "result", "invalid", "answer"]);
    expect(events[1]).toMatchObject({ kind: "result", text: "src/greet.ts:1: export function greet(name: string) {" });
    expect((events[2] as { reason: string }).reason).toMatch(/start_line/);
    // What the engine was told about the invalid call.
    expect(sent[2]!.messages.at(-1)?.content).toMatch(/not a valid call: .*start_line/);
  });
});

describe("agent: JSON that is neither a call nor an answer (RECORDED CONTRACT)", () => {
  it("goes back to the model as an invalid call instead of ending the loop with an empty answer", async () => {
    const replies = [JSON.stringify({ thoughts: "let me think" }), JSON.stringify({ answer: "done" })];
    const { result, events } = await replayAgent(replies);
    expect(result).toMatchObject({ answer: "done", steps: 2, calls: 0 });
    expect(events.map((e) => e.kind)).toEqual(["invalid", "answer"]);
  });
});

describe("hearth agent (CLI)", () => {
  it("prints every call and result on stderr; stops at --max-steps with exit 1; without a terminal or --yes no edit is written; run is refused", async () => {
    const r = await hearth([
      "agent",
      ws,
      "--model",
      await testModel("stories260K"),
      "-p",
      "Where is greet defined?",
      "--tool-choice",
      "required",
      "--allow",
      "read,search,edit",
      "--max-steps",
      "2",
      "--index-dir",
      path.join(work, "cli-index"),
      "--threads",
      "1",
      "--temperature",
      "0",
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/\[1\] → \w+ \{/);
    expect(r.stderr).toMatch(/\[2\] ← /);
    expect(r.stderr).toMatch(/stopped without an answer after 2 steps and 2 tool calls \(the step limit/);
    // Whatever the tiny model proposed, no change was written: stdin is not a terminal and --yes was not given.
    expect(await fs.readFile(path.join(ws, "src", "greet.ts"), "utf8")).toBe(
      "export function greet(name: string) {\n  return `Hi ${name}`;\n}\n",
    );
    expect((await fs.readdir(path.join(ws, "src"))).sort()).toEqual(["greet.ts"]);
    const refused = await hearth(["agent", ws, "-p", "x", "--allow", "read,run"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/run tool is not built yet/);
  }, 60_000);
});
