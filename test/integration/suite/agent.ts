/** /agent: scripted tool calls reviewed as one change, and other extensions' tools. */
import * as assert from "node:assert/strict";
import type * as net from "node:net";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { otherExtensionTool } from "../../../extension/chat/agentMode";
import type { HearthApi } from "../../../extension/extension";
import { EXTENSION_ID, hearth, lastMessage } from "./context";
import { test, waitFor } from "./harness";

/**
 * A RECORDED CONTRACT OpenAI-compatible engine on a free loopback port that answers each chat request with the
 * next of `replies` (a scripted agent: the tool results are real, the model's choices are not).
 * @returns its URL, the requests' bodies, and close().
 */
async function scriptedEngine(replies: string[]) {
  const http = await import("node:http");
  const bodies: Array<{ messages: Array<{ role: string; content: string }> }> = [];
  let turn = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString("utf8")));
    req.on("end", () => {
      if (req.method === "GET" && req.url === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ object: "list", data: [{ id: "scripted-agent", object: "model", owned_by: "test" }] }),
        );
      } else if (req.method === "POST" && req.url === "/v1/chat/completions") {
        bodies.push(JSON.parse(body) as (typeof bodies)[number]);
        const content = replies[Math.min(turn++, replies.length - 1)]!;
        const chunk = (delta: object, finish: string | null) => ({
          id: "c",
          object: "chat.completion.chunk",
          choices: [{ index: 0, delta, finish_reason: finish }],
        });
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(`data: ${JSON.stringify(chunk({ role: "assistant", content }, null))}\n\n`);
        res.write(`data: ${JSON.stringify(chunk({}, "stop"))}\n\ndata: [DONE]\n\n`);
        res.end();
      } else {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "not found" } }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return { url, bodies, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test("/agent: a scripted search → read → propose_edit over two files → one review; nothing changes before Accept, Reject writes nothing", async () => {
  hearth.api ??= await vscode.extensions.getExtension<HearthApi>(EXTENSION_ID)!.activate(); // also when run alone
  const config = vscode.workspace.getConfiguration("hearth");
  const root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const dir = path.join(root, "agent-under-test");
  const greet = path.join(dir, "greet.ts");
  const use = path.join(dir, "use.ts");
  const greetText = "export function greet(name: string): string {\n  return `Hi ${name}`;\n}\n";
  const useText = 'import { greet } from "./greet";\nconsole.log(greet("Ada"));\n';
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(greet, greetText);
  fs.writeFileSync(use, useText);
  const edit = {
    name: "propose_edit",
    arguments: {
      edits: [
        { path: "agent-under-test/greet.ts", old_text: "export function greet(", new_text: "export function welcome(" },
        { path: "agent-under-test/use.ts", old_text: "import { greet }", new_text: "import { welcome }" },
        { path: "agent-under-test/use.ts", old_text: 'greet("Ada")', new_text: 'welcome("Ada")' },
      ],
    },
  };
  const script = [
    { name: "search_codebase", arguments: { query: "greet" } },
    { name: "read_file", arguments: { path: "agent-under-test/greet.ts", start_line: 1, end_line: 3 } },
    edit,
    { answer: "Renamed greet to welcome in agent-under-test." },
  ].map((step) => JSON.stringify(step));
  let engine = await scriptedEngine(script);
  try {
    await config.update("engines.chat", engine.url, vscode.ConfigurationTarget.Global);
    hearth.api.roles.forget("chat");
    await hearth.api.session.newChat();
    const review = hearth.api.actions.review;
    const notices: string[] = [];
    const sub = hearth.api.session.onNotice((n) => notices.push(n.text));
    const running = hearth.api.session.submit("/agent Rename greet to welcome in agent-under-test.");
    await Promise.race([
      waitFor(() => review.pending !== undefined, "the agent's review", 60_000),
      // The run ended without a review: say what it showed.
      running.then(() =>
        assert.fail(`no review: ${JSON.stringify({ notices, last: lastMessage(), requests: engine.bodies.length })}`),
      ),
    ]);
    sub.dispose();
    // One review of both files, and neither file has changed, on disk or in an editor.
    assert.equal(review.pending!.more?.length, 1);
    assert.deepEqual([review.pending!.target.fsPath, review.pending!.more![0]!.target.fsPath], [greet, use]);
    assert.equal(fs.readFileSync(greet, "utf8"), greetText);
    assert.equal(fs.readFileSync(use, "utf8"), useText);
    assert.equal((await vscode.workspace.openTextDocument(greet)).getText(), greetText);
    await vscode.commands.executeCommand("hearth.acceptEdit");
    await running;
    assert.equal(fs.readFileSync(greet, "utf8"), greetText.replace("function greet(", "function welcome("));
    assert.equal(fs.readFileSync(use, "utf8"), 'import { welcome } from "./greet";\nconsole.log(welcome("Ada"));\n');
    const answer = lastMessage()!;
    assert.equal(answer.role, "assistant");
    for (const line of ["1 → search_codebase", "2 → read_file", "3 → propose_edit"])
      assert.ok(answer.content.includes(line), answer.content);
    assert.match(answer.content, /Renamed greet to welcome/);
    // The model was given the real tool results: the read lines, and the accepted change.
    const told = engine.bodies.map((b) => b.messages.at(-1)?.content ?? "");
    assert.match(told[2]!, /^Result of read_file:\n1: export function greet\(name: string\)/);
    assert.match(
      told[3]!,
      /accepted the change; written: agent-under-test\/greet.ts \(\+1 −1 lines\), agent-under-test\/use.ts/,
    );
    await engine.close();

    // Again, rejected: nothing is written and the model is told.
    fs.writeFileSync(greet, greetText);
    fs.writeFileSync(use, useText);
    engine = await scriptedEngine([JSON.stringify(edit), JSON.stringify({ answer: "Left as it was." })]);
    await config.update("engines.chat", engine.url, vscode.ConfigurationTarget.Global);
    hearth.api.roles.forget("chat");
    const again = hearth.api.session.submit("/agent Rename greet to welcome.");
    await waitFor(() => review.pending !== undefined, "the second review", 60_000);
    await vscode.commands.executeCommand("hearth.rejectEdit");
    await again;
    assert.equal(fs.readFileSync(greet, "utf8"), greetText);
    assert.equal(fs.readFileSync(use, "utf8"), useText);
    assert.match(engine.bodies[1]!.messages.at(-1)!.content, /rejected the change .*nothing was written/);
  } finally {
    await engine.close();
    await config.update("engines.chat", undefined, vscode.ConfigurationTarget.Global);
    hearth.api.roles.forget("chat");
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

test("/agent: another extension's tool is offered with its optional inputs nullable; a schema the grammar cannot follow is left out", () => {
  const info = (inputSchema: object | undefined): vscode.LanguageModelToolInformation => ({
    name: "other.find-things",
    description: "Find things.\nMore text.",
    inputSchema,
    tags: [],
  });
  const tool = otherExtensionTool(
    info({ type: "object", properties: { q: { type: "string" }, n: { type: "number" } }, required: ["q"] }),
  );
  assert.deepEqual(tool && { name: tool.name, description: tool.description, parameters: tool.parameters }, {
    name: "other_find-things",
    description: "Find things.",
    parameters: {
      type: "object",
      properties: { q: { type: "string" }, n: { oneOf: [{ type: "number" }, { type: "null" }] } },
      required: ["q", "n"],
    },
  });
  assert.equal(otherExtensionTool(info({ type: "object", properties: { q: { $ref: "#/defs/q" } } })), undefined);
  assert.equal(otherExtensionTool(info({ type: "string" })), undefined);
});
