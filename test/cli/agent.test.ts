import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import type { ServerResponse } from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAgent, trimToolResults, type AgentEvent, type AgentOptions } from "../../common/agent/AgentLoop";
import { EDIT_TOOLS, READ_TOOLS } from "../../common/agent/agentTools";
import {
  ToolError,
  type CommandPolicy,
  type ProposedChange,
  type ReviewDecision,
  type ToolContext,
} from "../../common/tools/definition";
import { allowlisted, RUN_COMMAND_TOOL } from "../../common/agent/runCommand";
import { discoverFiles } from "../../sidecar/search/discover";
import { repairToolCall } from "../../sidecar/engines/toolCalling";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { chunk, json, RecordedEngine, sse } from "../engines/recordedEngine";
import { spawnSidecar } from "../sidecar/helpers";
import { REPO_ROOT, testModel } from "../testModels";
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

/** What the agent's runs sent the recorded engine's `/v1/chat/completions`. */
type SentBody = {
  tools?: Array<{ type: string; function: { name: string } }>;
  tool_choice?: string;
  response_format?: unknown;
  messages: Array<{ content: string }>;
};

/**
 * Run the agent through a real sidecar on a recorded OpenAI-compatible engine (`kind`) that answers each chat
 * request with the next of `turns` (the last one repeated). @returns the result, the events and what the engine
 * was sent.
 */
async function agentOnEngine(
  turns: Array<(res: ServerResponse) => void>,
  options: Partial<AgentOptions> & { kind?: "openai" | "vllm" } = {},
) {
  const { kind = "openai", ...more } = options;
  let turn = 0;
  const engine = new RecordedEngine({
    "GET /v1/models": (_q, res) =>
      json(res, 200, { data: [{ id: "remote-coder", owned_by: kind === "vllm" ? "vllm" : "organization" }] }),
    "POST /v1/chat/completions": (_q, res) => turns[Math.min(turn++, turns.length - 1)]!(res),
  });
  const url = await engine.start();
  const { sidecar: remote } = await spawnSidecar();
  try {
    await remote.request("model/load", { role: "chat", model: { uri: "", engine: { url, kind } } });
    const events: AgentEvent[] = [];
    const result = await runAgent({
      api: remote,
      target: { root: ws, storageDir: path.join(work, "index") },
      task: "Where is greet defined?",
      tools: READ_TOOLS,
      onEvent: (e) => events.push(e),
      ...more,
    });
    const sent = engine.seen.filter((x) => x.path === "/v1/chat/completions").map((x) => x.body as SentBody);
    return { result, events, sent };
  } finally {
    await remote.stop();
    await engine.stop();
  }
}

/** {@link agentOnEngine} with each reply streamed as one text chunk. */
function replayAgent(replies: string[], more: Partial<AgentOptions> = {}) {
  return agentOnEngine(
    replies.map((content) => (res: ServerResponse) => sse(res, [chunk({ content }, "stop")])),
    more,
  );
}

describe("agent: tool calls made under the tools' grammar", () => {
  it("for every tool and 8 seeds, stories260K's forced call parses and validates against the tool's schema", async () => {
    const ajv = new Ajv({ strict: false });
    const all = [...READ_TOOLS, ...EDIT_TOOLS, RUN_COMMAND_TOOL];
    const tools = all.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters }));
    let checked = 0;
    for (const tool of all) {
      const validate = ajv.compile(tool.parameters);
      for (let seed = 1; seed <= 8; seed++) {
        // Tool calling is the engine's: chat/send with tools and a forced tool comes back with the call.
        const r = await sidecar.request("chat/send", {
          streamId: `g-${tool.name}-${seed}`,
          messages: [{ role: "user", content: "Find where greet is defined." }],
          params: { maxTokens: 1400, temperature: 1, seed },
          tools,
          toolChoice: { name: tool.name },
        });
        expect(r.stopReason, `${tool.name} seed ${seed}: ${r.text}`).toBe("stop");
        expect(
          r.toolCalls?.map((c) => c.name),
          `${tool.name} seed ${seed}: ${r.toolCallError}`,
        ).toEqual([tool.name]);
        const args = JSON.parse(r.toolCalls![0]!.arguments) as unknown;
        expect(validate(args), `${tool.name} seed ${seed}: ${JSON.stringify(args)}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe(all.length * 8);
  }, 240_000);

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

describe("one workspace-file policy (shared/workspaceFiles.ts)", () => {
  it("the index and the agent's list_files see the same files: never-walked folders, secrets and ignored files left out", async () => {
    const root = await fs.mkdtemp(path.join(work, "policy-"));
    const files: Record<string, string> = {
      "src/app.ts": "export const app = 1;\n",
      "dist/out.js": "export const built = 1;\n", // a build folder not ignored: both walk it
      "build/make.py": "print('build')\n",
      ".git/hooks/pre-commit.sh": "echo hook\n", // never walked, whatever the excludes say
      "node_modules/dep/index.js": "module.exports = 1;\n",
      ".venv/lib/site.py": "x = 1\n",
      ".cache/tool/cache.json": "{}\n",
      "pkg/__pycache__/m.py": "x = 1\n",
      ".env.json": '{"API_KEY": "secret"}\n', // a secrets file with an indexable extension
      "config/.env.local.yaml": "token: secret\n",
      "ignored/skip.ts": "export const skipped = 1;\n",
      ".gitignore": "ignored/\n",
    };
    for (const [rel, text] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await fs.writeFile(path.join(root, rel), text);
    }
    // The index gets no excludes at all (as from a workspace whose settings cleared files.exclude).
    const indexed = (await discoverFiles(root, { exclude: [] })).files.map((f) => f.path).sort();
    expect(indexed).toEqual(["build/make.py", "dist/out.js", "src/app.ts"]);
    const listed = await READ_TOOLS.find((t) => t.name === "list_files")!.run(
      { dir: "", glob: null },
      { api: sidecar, target: { root, storageDir: path.join(work, "index") }, signal: new AbortController().signal },
    );
    // list_files also shows files the index has no language for (.gitignore); every indexed file is listed.
    expect(listed.split("\n").sort()).toEqual([".gitignore", ...indexed].sort());
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
    // A secrets file is read only on the user's yes, asked with its name.
    const asked: string[] = [];
    const withAnswer = (yes: boolean): ToolContext => ({
      ...ctx(),
      confirmSecret: async (rel) => (asked.push(rel), yes),
    });
    await expect(readFile.run({ path: ".env", start_line: null, end_line: null }, withAnswer(false))).rejects.toThrow(
      /only when the user allows it/,
    );
    expect(await readFile.run({ path: ".env", start_line: null, end_line: null }, withAnswer(true))).toBe(
      "1: API_KEY=secret\n2: ",
    );
    expect(asked).toEqual([".env", ".env"]);
    const list = await READ_TOOLS.find((t) => t.name === "list_files")!.run({ dir: "" }, ctx());
    expect(list.split("\n")).toContain("src/greet.ts");
    expect(list).not.toContain(".env");
    const grep = await READ_TOOLS.find((t) => t.name === "grep")!.run({ pattern: "function \\w+" }, ctx());
    expect(grep).toBe("src/greet.ts:1: export function greet(name: string) {");
  });

  it("list_files and grep honour .gitignore and take a glob; read_file says when a file is ignored", async () => {
    await fs.writeFile(path.join(ws, ".gitignore"), "generated/\n*.log\n");
    await fs.mkdir(path.join(ws, "generated"), { recursive: true });
    await fs.writeFile(path.join(ws, "generated", "out.ts"), "export function generated() {}\n");
    await fs.writeFile(path.join(ws, "debug.log"), "function noise\n");
    try {
      const list = (args: object) =>
        READ_TOOLS.find((t) => t.name === "list_files")!.run({ glob: null, ...args }, ctx());
      expect((await list({ dir: "" })).split("\n").sort()).toEqual([".gitignore", "src/greet.ts"]);
      expect(await list({ dir: "", glob: "*.ts" })).toBe("src/greet.ts");
      expect(await list({ dir: "src", glob: "src/**/*.md" })).toBe("No files under 'src' match 'src/**/*.md'.");
      const grep = await READ_TOOLS.find((t) => t.name === "grep")!.run({ pattern: "function \\w+" }, ctx());
      expect(grep).toBe("src/greet.ts:1: export function greet(name: string) {");
      expect(await readFile.run({ path: "generated/out.ts", start_line: null, end_line: null }, ctx())).toMatch(
        /^\(generated\/out.ts is ignored by .gitignore or .hearthignore: not one of the project's sources\)\n1: export function generated/,
      );
    } finally {
      await fs.rm(path.join(ws, ".gitignore"));
      await fs.rm(path.join(ws, "generated"), { recursive: true });
      await fs.rm(path.join(ws, "debug.log"));
    }
  });
});

describe("agent edit tools: a reviewed diff, nothing written before Accept", () => {
  const ctx = (review?: (c: ProposedChange[]) => Promise<ReviewDecision>): ToolContext => ({
    api: sidecar,
    target: { root: ws, storageDir: path.join(work, "index") },
    signal: new AbortController().signal,
    ...(review ? { review } : {}),
  });
  const edit = EDIT_TOOLS.find((t) => t.name === "propose_edit")!;
  const create = EDIT_TOOLS.find((t) => t.name === "create_file")!;
  const file = () => path.join(ws, "src", "greet.ts");
  const one = (p: string, oldText: string, newText: string) => ({
    edits: [{ path: p, old_text: oldText, new_text: newText }],
  });

  it("propose_edit: rejected or unreviewed, the file is unchanged; accepted, it is written as the diff shows", async () => {
    const original = await fs.readFile(file(), "utf8");
    const args = one("src/greet.ts", "`Hi ${name}`", "`Hello, ${name}!`");
    const seen: ProposedChange[][] = [];
    expect(await edit.run(args, ctx())).toMatch(/not applied/);
    expect(
      await edit.run(
        args,
        ctx(async (c) => (seen.push(c), "rejected")),
      ),
    ).toMatch(/rejected/);
    expect(await fs.readFile(file(), "utf8")).toBe(original);
    expect(seen[0]!).toHaveLength(1);
    expect(seen[0]![0]!.diff).toMatch(/^- {2}return `Hi \$\{name\}`;$/m);
    expect(seen[0]![0]!.diff).toMatch(/^\+ {2}return `Hello, \$\{name\}!`;$/m);
    // "applied": the host wrote the change itself (VS Code's WorkspaceEdit); the tool writes nothing.
    expect(
      await edit.run(
        args,
        ctx(async () => "applied"),
      ),
    ).toMatch(/src\/greet.ts \(\+1 −1 lines\)/);
    expect(await fs.readFile(file(), "utf8")).toBe(original);
    expect(
      await edit.run(
        args,
        ctx(async () => "accepted"),
      ),
    ).toMatch(/written: src\/greet.ts \(\+1 −1 lines\)/);
    expect(await fs.readFile(file(), "utf8")).toBe(original.replace("`Hi ${name}`", "`Hello, ${name}!`"));
    await fs.writeFile(file(), original);
  });

  it("the edits of one call, in two files and twice in one, are one review: all written or none", async () => {
    const original = await fs.readFile(file(), "utf8");
    await fs.writeFile(path.join(ws, "src", "use.ts"), 'import { greet } from "./greet";\ngreet("a");\n');
    const args = {
      edits: [
        { path: "src/greet.ts", old_text: "function greet(", new_text: "function welcome(" },
        { path: "src/use.ts", old_text: "import { greet }", new_text: "import { welcome }" },
        { path: "src/use.ts", old_text: 'greet("a")', new_text: 'welcome("a")' },
      ],
    };
    const reviews: ProposedChange[][] = [];
    expect(
      await edit.run(
        args,
        ctx(async (c) => (reviews.push(c), "rejected")),
      ),
    ).toMatch(/rejected/);
    expect(reviews).toHaveLength(1);
    expect(reviews[0]!.map((c) => c.path)).toEqual(["src/greet.ts", "src/use.ts"]);
    expect(await fs.readFile(path.join(ws, "src", "use.ts"), "utf8")).toContain("greet(");
    expect(
      await edit.run(
        args,
        ctx(async () => "accepted"),
      ),
    ).toMatch(/src\/greet.ts .*src\/use.ts/);
    expect(await fs.readFile(path.join(ws, "src", "use.ts"), "utf8")).toBe(
      'import { welcome } from "./greet";\nwelcome("a");\n',
    );
    expect(await fs.readFile(file(), "utf8")).toContain("function welcome(");
    // One bad edit refuses the whole call before any review.
    await expect(
      edit.run(
        { edits: [{ path: "src/use.ts", old_text: "welcome", new_text: "x" }] },
        ctx(async () => "accepted"),
      ),
    ).rejects.toThrow(/occurs 2 times/);
    await fs.writeFile(file(), original);
    await fs.rm(path.join(ws, "src", "use.ts"));
  });

  it("propose_edit refuses text that is missing or not unique, and paths out; create_file refuses an existing file", async () => {
    const accept = ctx(async () => "accepted");
    await expect(edit.run(one("src/greet.ts", "nope", "x"), accept)).rejects.toThrow(/not in src\/greet.ts/);
    await expect(edit.run(one("src/greet.ts", "e", "x"), accept)).rejects.toThrow(/occurs \d+ times/);
    await expect(edit.run(one("../outside.txt", "not", "x"), accept)).rejects.toThrow(/outside the workspace folder/);
    await expect(create.run({ path: "src/greet.ts", content: "x" }, accept)).rejects.toThrow(/already exists/);
    expect(await create.run({ path: "src/new.ts", content: "export const n = 1;" }, accept)).toMatch(/written/);
    expect(await fs.readFile(path.join(ws, "src", "new.ts"), "utf8")).toBe("export const n = 1;\n");
    await fs.rm(path.join(ws, "src", "new.ts"));
  });
});

describe("agent run_command: confirmed, bounded, never in an untrusted workspace", () => {
  const exists = (p: string) =>
    fs.stat(path.join(ws, p)).then(
      () => true,
      () => false,
    );
  const ctx = (commands?: Partial<CommandPolicy>, signal = new AbortController().signal): ToolContext => ({
    api: sidecar,
    target: { root: ws, storageDir: path.join(work, "index") },
    signal,
    ...(commands ? { commands: { trusted: true, confirm: async () => false, ...commands } } : {}),
  });
  const run = (command: string, c: ToolContext) => RUN_COMMAND_TOOL.run({ command }, c);

  it("untrusted or without a policy it refuses, and nothing runs", async () => {
    await expect(run("touch ran.txt", ctx())).rejects.toThrow(/not allowed here/);
    await expect(run("touch ran.txt", ctx({ trusted: false, confirm: async () => true }))).rejects.toThrow(
      /not trusted/,
    );
    expect(await exists("ran.txt")).toBe(false);
  });

  it("waits for the user's confirmation of the full command; declined, it does not run", async () => {
    let answer!: (yes: boolean) => void;
    const asked: string[] = [];
    const confirm = (command: string) => {
      asked.push(command);
      return new Promise<boolean>((resolve) => (answer = resolve));
    };
    const running = run("touch ran.txt && echo made it", ctx({ confirm }));
    await new Promise((r) => setTimeout(r, 300));
    expect(asked).toEqual(["touch ran.txt && echo made it"]);
    expect(await exists("ran.txt")).toBe(false);
    answer(true);
    expect(await running).toMatch(/^\$ touch ran.txt && echo made it {2}\(exit code 0, [\d.]+ s\)\nmade it/);
    expect(await exists("ran.txt")).toBe(true);
    await fs.rm(path.join(ws, "ran.txt"));
    expect(await run("touch ran.txt", ctx({ confirm: async () => false }))).toMatch(/declined/);
    expect(await exists("ran.txt")).toBe(false);
  });

  it("an allowlisted command runs unasked; shell operators never ride on an entry", async () => {
    expect(allowlisted("npm test", ["npm test"])).toBe(true);
    expect(allowlisted("npm tester", ["npm test"])).toBe(false);
    // Issue 31, M7: more arguments only when each is a plain path inside the workspace — never an option (which
    // may write anywhere), nothing quoted, globbed or outside.
    expect(allowlisted("git diff src/a.ts", ["git diff"], ws)).toBe(true);
    expect(allowlisted("git  diff   src/a.ts", ["git diff"], ws)).toBe(true);
    for (const c of [
      "npm test -- --run",
      "git diff --output=/tmp/x",
      "git diff ../../etc/passwd",
      "git diff /etc/passwd",
      "git diff 'src/a.ts'",
      "git diff src/*",
      "git diff ~/.ssh/id_rsa",
    ])
      expect(allowlisted(c, ["npm test", "git diff"], ws), c).toBe(false);
    expect(allowlisted("git diff src/a.ts", ["git diff"]), "no workspace: no arguments").toBe(false);
    for (const c of ["npm test; rm -rf x", "npm test && curl x", "npm test | sh", "npm test > f", "npm test $(x)"])
      expect(allowlisted(c, ["npm test"]), c).toBe(false);
    expect(await run("echo hi there", ctx({ allowlist: ["echo hi"] }))).toMatch(/exit code 0.*\nhi there/s);
  });

  it("a non-zero exit is reported; the timeout kills it; long output keeps its head and tail", async () => {
    const yes = { confirm: async () => true };
    expect(await run("echo oops >&2; exit 3", ctx(yes))).toMatch(/exit code 3.*\noops/s);
    expect(await run("sleep 5", ctx({ ...yes, timeoutMs: 300 }))).toMatch(/killed after the 0 s timeout/);
    const long = await run("seq 1 100000", ctx(yes));
    expect(long).toMatch(/^\$ seq 1 100000 {2}\(exit code 0/);
    expect(long).toMatch(/left out/);
    expect(long.trimEnd().endsWith("100000")).toBe(true);
    expect(long.length).toBeLessThan(8000);
  });

  it("Stop during a command kills it and everything it started, and the loop ends cancelled", async () => {
    const abort = new AbortController();
    const replies = [JSON.stringify({ name: "run_command", arguments: { command: "sleep 2 && touch late.txt" } })];
    const stopping = replayAgent(replies, {
      tools: [RUN_COMMAND_TOOL],
      signal: abort.signal,
      commands: { trusted: true, confirm: async () => true },
      onEvent: (e) => e.kind === "call" && setTimeout(() => abort.abort(), 300),
    });
    const { result } = await stopping;
    expect(result.stopped).toBe("cancelled");
    await new Promise((r) => setTimeout(r, 2500));
    expect(await exists("late.txt")).toBe(false);
  }, 20_000);
});

describe("agent: the context window and the token budget", () => {
  it("trimToolResults replaces the oldest results with a notice and keeps the task", () => {
    const big = "x".repeat(1000);
    const messages = [
      { role: "user" as const, content: `task ${big}` },
      { role: "assistant" as const, content: '{"name":"grep"}' },
      { role: "user" as const, content: `Result of grep:\n${big}` },
      { role: "assistant" as const, content: '{"name":"read_file"}' },
      { role: "user" as const, content: `Result of read_file (error):\n${big}` },
      { role: "assistant" as const, content: '{"name":"grep"}' },
      { role: "user" as const, content: `Result of grep:\n${big}` },
    ];
    expect(trimToolResults(messages, 2500)).toBe(2);
    expect(messages[0]!.content).toBe(`task ${big}`);
    expect(messages[2]!.content).toMatch(/^Result of grep: \[left out to fit the context window/);
    expect(messages[4]!.content).toMatch(/^Result of read_file \(error\): \[left out/);
    expect(messages[6]!.content).toBe(`Result of grep:\n${big}`);
    expect(trimToolResults(messages, 2500)).toBe(0);
  });

  it("a small window: old results are left out with a notice the transcript shows, and the engine sees it", async () => {
    const call = JSON.stringify({
      name: "read_file",
      arguments: { path: "src/greet.ts", start_line: null, end_line: null },
    });
    const { result, events, sent } = await replayAgent([call, call, call, JSON.stringify({ answer: "done" })], {
      contextTokens: 400,
      params: { maxTokens: 64 },
      system: "y".repeat(900),
    });
    expect(result.answer).toBe("done");
    const trimmed = events.filter((e) => e.kind === "trimmed");
    expect(trimmed.length).toBeGreaterThan(0);
    expect((trimmed[0] as { notice: string }).notice).toMatch(/left out to fit the model's 400-token context window/);
    expect(sent.at(-1)!.messages.some((m) => /\[left out to fit the context window/.test(m.content))).toBe(true);
  });

  it("the token budget ends the run once spent", async () => {
    const call = JSON.stringify({ name: "grep", arguments: { pattern: "greet" } });
    const { result } = await replayAgent([call], { tokenBudget: 1 });
    expect(result).toMatchObject({ stopped: "tokenBudget", steps: 1, calls: 1 });
    expect(result.tokens.prompt + result.tokens.completion).toBeGreaterThanOrEqual(1);
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
  it("prints every call and result on stderr; stops at --max-steps with exit 1; without a terminal or --yes no edit is written", async () => {
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
  }, 60_000);
});

describe("hearth agent --allow run (CLI, RECORDED CONTRACT engine)", () => {
  /** `hearth agent` on an engine that asks to run `touch ran.txt`, then answers. */
  async function agentRun(flags: string[]) {
    const replies = [
      JSON.stringify({ name: "run_command", arguments: { command: "touch ran.txt" } }),
      JSON.stringify({ answer: "ok" }),
    ];
    let turn = 0;
    const engine = new RecordedEngine({
      "GET /v1/models": (_q, res) => json(res, 200, { data: [{ id: "remote-coder", owned_by: "organization" }] }),
      "POST /v1/chat/completions": (_q, res) =>
        sse(res, [chunk({ content: replies[Math.min(turn++, replies.length - 1)] }, "stop")]),
    });
    const url = await engine.start();
    try {
      return await hearth(["agent", ws, "-p", "Touch the file.", "--engine-url", url, "--allow", "run", ...flags]);
    } finally {
      await engine.stop();
    }
  }
  const ran = () =>
    fs.stat(path.join(ws, "ran.txt")).then(
      () => true,
      () => false,
    );

  it("shows the command; without a terminal, --yes or an allowlist entry it does not run; with one it does", async () => {
    const refused = await agentRun([]);
    expect(refused.code, refused.stderr).toBe(0);
    expect(refused.stderr).toMatch(/command: touch ran.txt/);
    expect(refused.stderr).toMatch(/not run: no terminal to confirm on/);
    expect(refused.stderr).toMatch(/declined to run/);
    expect(await ran()).toBe(false);
    const allowed = await agentRun(["--allow-command", "touch"]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toMatch(/exit code 0/);
    expect(allowed.stdout.trim()).toBe("ok");
    expect(await ran()).toBe(true);
    await fs.rm(path.join(ws, "ran.txt"));
  }, 60_000);

  it("--token-budget ends the run once spent, with exit 1 and the reason", async () => {
    const r = await agentRun(["--token-budget", "1"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /stopped without an answer after 1 steps and 1 tool calls \(the token budget, --token-budget\)/,
    );
    expect(await ran()).toBe(false);
  }, 60_000);
});

describe("npm run eval:agent (RECORDED CONTRACT engine)", () => {
  /** The eval on an engine that replays `replies` in order across its three tasks. @returns its stdout. */
  async function evalOn(replies: object[]): Promise<string> {
    let turn = 0;
    const engine = new RecordedEngine({
      "GET /v1/models": (_q, res) => json(res, 200, { data: [{ id: "scripted", owned_by: "organization" }] }),
      "POST /v1/chat/completions": (_q, res) =>
        sse(res, [chunk({ content: JSON.stringify(replies[Math.min(turn++, replies.length - 1)]) }, "stop")]),
    });
    const url = await engine.start();
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [path.join(REPO_ROOT, "dist", "eval-agent.mjs"), "--engine-url", url],
        { timeout: 60_000 },
      );
      return stdout;
    } finally {
      await engine.stop();
    }
  }
  const edit = (edits: Array<[string, string, string]>) => ({
    name: "propose_edit",
    arguments: { edits: edits.map(([p, o, n]) => ({ path: p, old_text: o, new_text: n })) },
  });

  it("its checks pass when the agent does each task (run, edit, answer) and fail when it only answers", async () => {
    const right = await evalOn([
      { answer: "parseConfig is defined in src/config.js; it reads settings with defaults." },
      { name: "run_command", arguments: { command: "node test/math.test.js" } },
      edit([["src/math.js", "total -= v", "total += v"]]),
      { answer: "Fixed." },
      edit([
        ["src/strings.js", "function shout(", "function yell("],
        ["src/strings.js", "{ shout }", "{ yell }"],
        ["src/app.js", "{ shout }", "{ yell }"],
        ["src/app.js", "shout('hello')", "yell('hello')"],
        ["src/banner.js", "{ shout }", "{ yell }"],
        ["src/banner.js", "shout('welcome')", "yell('welcome')"],
      ]),
      { answer: "Renamed." },
    ]);
    expect(right).toMatch(/^fix +1 +yes +3 +2 /m);
    expect(right).toMatch(/success rate: 3\/3 \(100 %\)/);
    const lazy = await evalOn([{ answer: "Done." }]);
    expect(lazy).toMatch(/success rate: 0\/3 \(0 %\)/);
  }, 60_000);
});

describe("agent: native tool calls on a remote engine (RECORDED CONTRACT, OpenAI/vLLM stream shape)", () => {
  /** The agent with native tool calls and the edit tools on a recorded vLLM. */
  const nativeAgent = (turns: Array<(res: ServerResponse) => void>, more: Partial<AgentOptions> = {}) =>
    agentOnEngine(turns, {
      kind: "vllm",
      task: "Rename greet to welcome.",
      tools: [...READ_TOOLS, ...EDIT_TOOLS],
      ...more,
    });
  const call = (index: number, piece: { id?: string; name?: string; arguments?: string }) =>
    chunk({
      tool_calls: [
        {
          index,
          ...(piece.id ? { id: piece.id, type: "function" } : {}),
          function: { ...(piece.name ? { name: piece.name } : {}), arguments: piece.arguments ?? "" },
        },
      ],
    });

  it("calls streamed in pieces by index are joined; two propose_edit calls of a step are one review; text is the answer", async () => {
    const original = await fs.readFile(path.join(ws, "src", "greet.ts"), "utf8");
    await fs.writeFile(path.join(ws, "src", "use.ts"), 'import { greet } from "./greet";\n');
    const reviews: ProposedChange[][] = [];
    try {
      const { result, events, sent } = await nativeAgent(
        [
          (res) =>
            sse(res, [
              call(0, { id: "call_a", name: "propose_edit", arguments: '{"edits": [{"path": "src/greet.ts", ' }),
              call(1, { id: "call_b", name: "propose_edit", arguments: '{"edits": [{"path": "src/use.ts", ' }),
              call(0, { arguments: '"old_text": "function greet(", "new_text": "function welcome("}]}' }),
              call(1, { arguments: '"old_text": "{ greet }", "new_text": "{ welcome }"}]}' }),
              chunk({}, "tool_calls"),
            ]),
          (res) => sse(res, [chunk({ content: "Renamed greet to welcome in both files." }, "stop")]),
        ],
        { review: async (changes) => (reviews.push(changes), "accepted") },
      );
      expect(result).toMatchObject({ answer: "Renamed greet to welcome in both files.", steps: 2, calls: 1 });
      expect(reviews.map((r) => r.map((c) => c.path))).toEqual([["src/greet.ts", "src/use.ts"]]);
      expect(events.map((e) => e.kind)).toEqual(["call", "result", "answer"]);
      expect(await fs.readFile(path.join(ws, "src", "use.ts"), "utf8")).toBe('import { welcome } from "./greet";\n');
      // The engine got OpenAI tools and tool_choice, not a response_format grammar.
      expect(sent[0]!.tools?.map((t) => t.function.name)).toEqual([...READ_TOOLS, ...EDIT_TOOLS].map((t) => t.name));
      expect(sent[0]).toMatchObject({ tool_choice: "auto" });
      expect(sent[0]!.response_format).toBeUndefined();
    } finally {
      await fs.writeFile(path.join(ws, "src", "greet.ts"), original);
      await fs.rm(path.join(ws, "src", "use.ts"), { force: true });
    }
  });

  it("arguments that are not JSON go back to the model once; a call written in the text is still repaired", async () => {
    const { result, events } = await nativeAgent([
      (res) => sse(res, [call(0, { id: "c1", name: "grep", arguments: '{"pattern": ' }), chunk({}, "tool_calls")]),
      (res) =>
        sse(res, [
          chunk({ content: 'Let me look.\n```json\n{"name": "grep", "arguments": {"pattern": "greet"}}\n```' }),
        ]),
      (res) => sse(res, [chunk({ content: "greet is in src/greet.ts." }, "stop")]),
    ]);
    expect(events.map((e) => e.kind)).toEqual(["invalid", "call", "result", "answer"]);
    expect((events[0] as { reason: string }).reason).toMatch(/arguments of grep are not valid JSON/);
    expect(result.answer).toBe("greet is in src/greet.ts.");
  });

  it("a required call answered in text (a template without tools, as stories260K's on llama-server) falls back to JSON calls", async () => {
    const { result, events, sent } = await nativeAgent(
      [
        (res) => sse(res, [chunk({ content: "Once upon a time" }, "stop")]),
        (res) => sse(res, [chunk({ content: JSON.stringify({ name: "grep", arguments: { pattern: "greet" } }) })]),
      ],
      { toolChoice: "required", maxSteps: 1 },
    );
    expect(sent[0]).toMatchObject({ tool_choice: "required" });
    expect(events.map((e) => e.kind)).toEqual(["notice", "call", "result"]);
    expect(sent[1]!.response_format).toBeDefined();
    expect(result).toMatchObject({ stopped: "maxSteps", calls: 1 });
  });

  it("an engine that refuses tools (vLLM without --enable-auto-tool-choice: 400) falls back to the grammar's JSON, saying so", async () => {
    const { result, events, sent } = await nativeAgent([
      (res) =>
        json(res, 400, {
          object: "error",
          message: '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
          type: "BadRequestError",
          code: 400,
        }),
      (res) => sse(res, [chunk({ content: JSON.stringify({ answer: "done" }) }, "stop")]),
    ]);
    expect(result).toMatchObject({ answer: "done", steps: 1 });
    expect(events[0]).toMatchObject({ kind: "notice" });
    expect((events[0] as { text: string }).text).toMatch(/refused native tool calls.*asking for JSON calls instead/);
    expect(sent[1]!.tools).toBeUndefined();
    expect(sent[1]!.response_format).toBeDefined();
  });
});
