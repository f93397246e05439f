/**
 * Extension tests inside a real VS Code (test/integration/runTests.mjs). They drive the extension through its
 * commands and its exported API with the real sidecar and the real stories260K model, and wait on real signals
 * (events, state), never on fixed sleeps.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import { otherExtensionTool } from "../../../extension/chat/agentMode";
import type { HearthApi } from "../../../extension/extension";
import { writeSyntheticFimModel } from "../../fixtures/synthetic/syntheticModels";
import { runAll, test, waitFor } from "./harness";

const EXTENSION_ID = "hearth.hearth";
let api: HearthApi;

/** Call `fn` until its result satisfies `ok` (every 100 ms, at most `timeoutMs`); returns that result. */
async function eventually<T>(
  fn: () => Promise<T>,
  ok: (value: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await fn();
    if (ok(value)) return value;
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function lastMessage() {
  return api.session.controller.conversation.messages.at(-1);
}

test("activation is cheap: no sidecar process, no model", async () => {
  const ext = vscode.extensions.getExtension<HearthApi>(EXTENSION_ID);
  assert.ok(ext, "extension not found");
  const started = performance.now();
  api = await ext.activate();
  console.log(`    activation: ${(performance.now() - started).toFixed(1)} ms`);
  assert.equal(api.sidecar.running, false);
  assert.equal(api.sidecar.info, undefined);
  assert.equal(api.statusBar.state, "idle");
});

test("every contributed command is registered", async () => {
  const contributed = (
    vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.commands as { command: string }[]
  ).map((c) => c.command);
  const registered = new Set(await vscode.commands.getCommands(true));
  const missing = contributed.filter((c) => !registered.has(c));
  assert.deepEqual(missing, []);
  assert.ok(contributed.length >= 10);
});

test("commands run without an editor or a model, or fail with a message, never throw", async () => {
  for (const id of [
    "hearth.openChat",
    "hearth.newChat",
    "hearth.stopGeneration",
    "hearth.showLog",
    "hearth.addSelectionToChat",
    "hearth.addFileToChat",
  ]) {
    await vscode.commands.executeCommand(id);
  }
  // Commands that open a quick pick: close it, and the command must settle.
  for (const id of ["hearth.showHistory", "hearth.selectChatModel", "hearth.indexActions"]) {
    const run = vscode.commands.executeCommand(id);
    await new Promise((r) => setTimeout(r, 1500));
    await vscode.commands.executeCommand("workbench.action.closeQuickOpen");
    await run;
  }
});

test("chat streams an answer from the real model through the sidecar", async () => {
  const model = process.env["HEARTH_TEST_MODEL"];
  assert.ok(model, "HEARTH_TEST_MODEL is not set");
  await vscode.workspace.getConfiguration("hearth").update("models.chat", model, vscode.ConfigurationTarget.Global);
  await vscode.workspace.getConfiguration("hearth").update("threads", 1, vscode.ConfigurationTarget.Global);
  await api.session.newChat();
  await api.session.submit("/params temperature 0");
  await api.session.submit("/params max-tokens 48");
  const deltas: string[] = [];
  const sub = api.session.onDelta((d) => deltas.push(d.text));
  await api.session.submit("Once upon a time");
  sub.dispose();
  const answer = lastMessage();
  assert.equal(answer?.role, "assistant");
  assert.ok(deltas.length >= 1, "no deltas");
  assert.equal(deltas.join(""), answer?.content);
  assert.ok((answer?.content.split(/\s+/).length ?? 0) > 5, `answer too short: ${answer?.content}`);
  assert.equal(api.sidecar.running, true);
  await waitFor(() => api.statusBar.state === "ready", "status bar 'ready'");
}, 90_000);

test("VS Code's model picker: Hearth's chat model answers vscode.lm requests, streamed, and stops on cancel", async () => {
  api ??= await vscode.extensions.getExtension<HearthApi>(EXTENSION_ID)!.activate(); // also when run alone
  const model = process.env["HEARTH_TEST_MODEL"]!;
  await vscode.workspace.getConfiguration("hearth").update("models.chat", model, vscode.ConfigurationTarget.Global);
  const models = await vscode.lm.selectChatModels({ vendor: "hearth" });
  if (!(vscode.lm as unknown as { registerLanguageModelChatProvider?: unknown }).registerLanguageModelChatProvider) {
    // VS Code before 1.104 has no provider API: Hearth registers nothing there, and nothing breaks.
    assert.deepEqual(models, []);
    return;
  }
  const chat = models.find((m) => m.id === model);
  assert.ok(chat, JSON.stringify(models.map((m) => m.id)));
  assert.match(chat.name, /stories260K/);
  const source = new vscode.CancellationTokenSource();
  const response = await chat.sendRequest(
    [vscode.LanguageModelChatMessage.User("Once upon a time")],
    { modelOptions: {} },
    source.token,
  );
  let text = "";
  for await (const piece of response.text) text += piece;
  assert.ok(text.length > 0, "no text streamed");
  assert.ok((await chat.countTokens("Once upon a time")) >= 3);
  // Tools VS Code passes come back as a well-formed tool-call part (the grammar allows nothing else here).
  const withTools = await chat.sendRequest(
    [vscode.LanguageModelChatMessage.User("What is the weather in Paris?")],
    {
      tools: [
        {
          name: "get_weather",
          description: "The weather in a city",
          inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        },
      ],
      toolMode: vscode.LanguageModelChatToolMode.Required,
    },
    source.token,
  );
  const calls: vscode.LanguageModelToolCallPart[] = [];
  for await (const part of withTools.stream) if (part instanceof vscode.LanguageModelToolCallPart) calls.push(part);
  assert.equal(calls.length, 1, "no tool call");
  assert.equal(calls[0]!.name, "get_weather");
  assert.equal(typeof (calls[0]!.input as { city?: unknown }).city, "string");
  // A long answer, cancelled after its first piece: the stream ends early.
  await vscode.workspace.getConfiguration("hearth").update("chat.maxTokens", 2000, vscode.ConfigurationTarget.Global);
  try {
    const cancel = new vscode.CancellationTokenSource();
    const long = await chat.sendRequest([vscode.LanguageModelChatMessage.User("The dragon")], {}, cancel.token);
    let pieces = 0;
    for await (const _ of long.text) {
      if (++pieces === 1) cancel.cancel();
    }
    assert.ok(pieces < 200, `${pieces} pieces after cancel`);
  } finally {
    await vscode.workspace
      .getConfiguration("hearth")
      .update("chat.maxTokens", undefined, vscode.ConfigurationTarget.Global);
  }
}, 60_000);

test("Start Local API Server: the window's chat model answers an OpenAI-shaped request over loopback; Stop ends it", async () => {
  api ??= await vscode.extensions.getExtension<HearthApi>(EXTENSION_ID)!.activate(); // also when run alone
  const config = vscode.workspace.getConfiguration("hearth");
  await config.update("models.chat", process.env["HEARTH_TEST_MODEL"], vscode.ConfigurationTarget.Global);
  await config.update("server.port", 0, vscode.ConfigurationTarget.Global); // a free port
  const url = (await vscode.commands.executeCommand("hearth.startLocalServer")) as string | undefined;
  try {
    assert.match(String(url), /^http:\/\/127\.0\.0\.1:\d+$/);
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    assert.ok(
      models.data.some((m) => m.id === "stories260K.gguf"),
      JSON.stringify(models),
    );
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 8 }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    assert.ok(body.choices[0]!.message.content.length > 0);
  } finally {
    await vscode.commands.executeCommand("hearth.stopLocalServer");
    await config.update("server.port", undefined, vscode.ConfigurationTarget.Global);
  }
  await assert.rejects(fetch(`${url}/health`), "the server still answers after Stop");
});

test("stop cancels a long answer; the partial answer is kept as cancelled", async () => {
  await api.session.submit("/params max-tokens 4000");
  let deltas = 0;
  const sub = api.session.onDelta(() => deltas++);
  const running = api.session.submit("Tell me a very long story");
  await waitFor(() => deltas >= 2, "first deltas");
  await vscode.commands.executeCommand("hearth.stopGeneration");
  await running;
  sub.dispose();
  assert.equal(lastMessage()?.stopReason, "cancelled");
  assert.equal(api.session.generating, false);
});

test("killing the sidecar mid-answer shows an error, restarts it, keeps the chat, and chat works again", async () => {
  const notices: { kind: string; text: string }[] = [];
  const subNotice = api.session.onNotice((n) => notices.push(n));
  const pid = api.sidecar.info!.pid;
  let deltas = 0;
  const sub = api.session.onDelta(() => deltas++);
  const before = api.session.controller.conversation.messages.length;
  const running = api.session.submit("Once upon a time there was a dragon");
  await waitFor(() => deltas >= 2, "deltas before the kill");
  process.kill(pid, "SIGKILL");
  await running;
  sub.dispose();
  assert.ok(
    notices.some((n) => n.kind === "error" && /stopped unexpectedly/.test(n.text)),
    JSON.stringify(notices),
  );
  // The user's message is still in the conversation, and so is what had arrived of the answer, marked.
  const messages = api.session.controller.conversation.messages;
  assert.equal(messages.length, before + 2);
  assert.equal(messages.at(-2)?.content, "Once upon a time there was a dragon");
  assert.equal(messages.at(-1)?.stopReason, "interrupted");
  assert.ok((messages.at(-1)?.content.length ?? 0) > 0);
  // The sidecar comes back (new process) and the model is reloaded.
  await waitFor(() => api.sidecar.running && api.sidecar.info?.pid !== pid, "sidecar restart", 30_000);
  await waitFor(() => api.statusBar.state === "ready", "model reloaded", 30_000);
  await api.session.submit("/params max-tokens 12");
  await api.session.submit("The dragon");
  assert.equal(lastMessage()?.role, "assistant");
  // And the whole chat is in the on-disk history.
  const saved = await api.session.history.load(api.session.controller.conversation.id);
  assert.equal(saved.messages.length, api.session.controller.conversation.messages.length);
  subNotice.dispose();
}, 90_000);

test("inline completions: a SYNTHETIC FIM model gives suggestions; a model without FIM says why", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-fim-"));
  const fim = path.join(dir, "synthetic-fim.gguf");
  writeSyntheticFimModel(fim);
  const config = vscode.workspace.getConfiguration("hearth");
  await config.update("models.completion", fim, vscode.ConfigurationTarget.Global);
  await config.update("completion.debounceMs", 0, vscode.ConfigurationTarget.Global);
  const doc = await vscode.workspace.openTextDocument({
    language: "typescript",
    content: "function add(a: number, b: number) {\n  return a + b;\n}\nconst total = add(",
  });
  const token = new vscode.CancellationTokenSource().token;
  const context = { triggerKind: vscode.InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined };
  let items: vscode.InlineCompletionItem[] | undefined;
  // The synthetic model's output is noise that post-processing may filter; try a few cursor positions.
  for (let column = 18; column >= 10 && !items?.length; column--) {
    items =
      (await api.completions.provideInlineCompletionItems(doc, new vscode.Position(3, column), context, token)) ??
      undefined;
  }
  console.log(`    suggestion after ${api.completions.stats.modelCalls} model call(s)`);
  assert.ok(items?.length, `no suggestion: ${JSON.stringify(api.completions.lastOutcome)}`);
  const insertText = items[0]?.insertText;
  assert.ok(typeof insertText === "string" && insertText.length > 0);
  assert.ok(api.completions.stats.modelCalls >= 1);
  assert.equal(api.statusBar.completionState, "idle");

  // Recently edited ranges of other files become context (ring buffer), as comments with their path.
  const other = await vscode.workspace.openTextDocument({
    language: "typescript",
    content: "export const RATE = 0.2;\n",
  });
  const edit = new vscode.WorkspaceEdit();
  edit.insert(other.uri, new vscode.Position(1, 0), "export function tax(x: number) { return x * RATE; }\n");
  await vscode.workspace.applyEdit(edit);
  const snippets = api.completions.contextTracker.snippets(doc, 0);
  assert.ok(
    snippets.some((s) => s.text.includes("function tax")),
    JSON.stringify(snippets),
  );

  await config.update("models.completion", process.env["HEARTH_TEST_MODEL"], vscode.ConfigurationTarget.Global);
  // A new model URI is loaded on the next request.
  const none = await api.completions.provideInlineCompletionItems(doc, new vscode.Position(3, 18), context, token);
  assert.equal(none, undefined);
  assert.equal(api.completions.lastOutcome?.reason, "noFim");
  assert.equal(api.statusBar.completionState, "error");
  await vscode.commands.executeCommand("hearth.whyNoCompletion");

  await config.update("completion.disabledLanguages", ["typescript"], vscode.ConfigurationTarget.Global);
  assert.equal(
    await api.completions.provideInlineCompletionItems(doc, new vscode.Position(3, 18), context, token),
    undefined,
  );
  assert.equal(api.completions.lastOutcome?.reason, "disabled");
  await config.update("completion.disabledLanguages", undefined, vscode.ConfigurationTarget.Global);
}, 90_000);

test("code search: indexes the workspace, finds code, picks up a new file and its deletion, /search and @codebase in chat", async () => {
  const root = vscode.workspace.workspaceFolders![0]!.uri;
  const first = await api.index.search("greet someone by name");
  assert.equal(api.index.state, "ready");
  assert.ok(api.index.lastBuild && api.index.lastBuild.files >= 1, JSON.stringify(api.index.lastBuild));
  assert.equal(first.mode, "lexical");
  assert.equal(first.hits[0]?.path, "hello.ts", JSON.stringify(first.hits));

  const file = vscode.Uri.joinPath(root, "widgets-under-test.ts");
  try {
    await vscode.workspace.fs.writeFile(
      file,
      Buffer.from(
        "/** Turns widgets inside out. */\nexport function frobnicateWidgets(n: number) {\n  return -n;\n}\n",
      ),
    );
    // The watcher may report the create (empty file) and the write separately: wait until the content is in.
    const found = await eventually(
      () => api.index.search("frobnicate widgets"),
      (r) => r.hits[0]?.path === "widgets-under-test.ts",
      "the new file to become searchable",
    );
    assert.equal(found.hits[0]?.symbol, "frobnicateWidgets");
    assert.equal(found.hits[0]?.startLine, 1);

    const notices: { text: string; hits?: unknown[] }[] = [];
    const sub = api.session.onNotice((n) => notices.push(n));
    await api.session.submit("/search frobnicate widgets");
    assert.equal(
      (notices.at(-1)?.hits?.[0] as { path: string } | undefined)?.path,
      "widgets-under-test.ts",
      JSON.stringify(notices),
    );
    await api.session.submit("/params max-tokens 8");
    await api.session.submit("@codebase what does frobnicateWidgets do?");
    sub.dispose();
    const asked = api.session.controller.conversation.messages.at(-2);
    assert.equal(asked?.role, "user");
    assert.equal(asked?.content, "@codebase what does frobnicateWidgets do?");
    assert.ok(
      asked?.sources?.some((s) => s.path === "widgets-under-test.ts"),
      JSON.stringify(asked?.sources),
    );
    assert.match(asked?.context ?? "", /widgets-under-test\.ts:1-4/);
  } finally {
    await vscode.workspace.fs.delete(file);
  }
  await eventually(
    () => api.index.search("frobnicate widgets"),
    (r) => !r.hits.some((h) => h.path === "widgets-under-test.ts"),
    "the deleted file to leave the index",
  );
}, 90_000);

test("language-model tools: hearth_searchCodebase and hearth_indexStatus answer vscode.lm.invokeTool", async () => {
  api ??= await vscode.extensions.getExtension<HearthApi>(EXTENSION_ID)!.activate(); // also when run alone
  const names = vscode.lm.tools.map((t) => t.name);
  assert.ok(names.includes("hearth_searchCodebase") && names.includes("hearth_indexStatus"), JSON.stringify(names));
  const token = new vscode.CancellationTokenSource().token;
  const result = await vscode.lm.invokeTool(
    "hearth_searchCodebase",
    { input: { query: "greet someone by name", top_k: 3 }, toolInvocationToken: undefined },
    token,
  );
  const text = result.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : "")).join("");
  assert.match(text, /^hello\.ts:\d+-\d+/, text);
  assert.match(text, /function greet/, text);
  const status = await vscode.lm.invokeTool("hearth_indexStatus", { input: {}, toolInvocationToken: undefined }, token);
  // The MCP server VS Code is offered: started as VS Code would, it lists its tools and searches the same index.
  const launch = api.mcpLaunch();
  assert.ok(launch, "no MCP launch for the workspace");
  const transport = new StdioClientTransport({
    command: launch.command,
    args: launch.args,
    env: { ...(process.env as Record<string, string>), ...launch.env },
  });
  const client = new Client({ name: "hearth-integration", version: "1.0.0" });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    assert.ok(
      tools.some((t) => t.name === "search_codebase"),
      JSON.stringify(tools.map((t) => t.name)),
    );
    const found = (await client.callTool({
      name: "search_codebase",
      arguments: { query: "greet someone by name", top_k: 1 },
    })) as { structuredContent?: { hits: Array<{ path: string }> } };
    assert.equal(found.structuredContent?.hits[0]?.path, "hello.ts", JSON.stringify(found));
  } finally {
    await client.close();
  }
  const statusText = status.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : "")).join("");
  assert.match(statusText, /"exists":true/, statusText);
}, 60_000);

test("actions: reviewed edits — accept applies exactly the proposal (one undo restores), reject changes nothing, a changed document is re-based or refused", async () => {
  await vscode.workspace.getConfiguration("hearth").update("actions.maxTokens", 160, vscode.ConfigurationTarget.Global);
  const root = vscode.workspace.workspaceFolders![0]!.uri;
  const file = vscode.Uri.joinPath(root, "actions-under-test.ts");
  const original = "export function add(a: number, b: number) {\n  return a + b;\n}\n\nexport const answer = 42;\n";
  await vscode.workspace.fs.writeFile(file, Buffer.from(original));
  try {
    const doc = await vscode.workspace.openTextDocument(file);
    // As a user would: bring the file's editor to the front and select the function.
    const select = async () =>
      ((await vscode.window.showTextDocument(doc)).selection = new vscode.Selection(0, 0, 3, 0));
    const review = api.actions.review;
    const propose = async (name: string, input?: string) => {
      await select();
      const outcome = api.actions.run(name, input === undefined ? {} : { input });
      await waitFor(() => review.pending !== undefined, `a proposal from '${name}'`, 60_000);
      return { outcome, proposal: review.pending!.proposal };
    };

    // The lightbulb offers the actions.
    const codeActions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      "vscode.executeCodeActionProvider",
      file,
      new vscode.Range(0, 0, 2, 1),
    );
    assert.ok(
      codeActions.some((a) => a.title === "Explain with Hearth"),
      JSON.stringify(codeActions.map((a) => a.title)),
    );

    // Accept: exactly the proposed text; one undo restores the file.
    let { outcome, proposal } = await propose("doc");
    assert.equal(doc.getText(), original, "nothing may change before Accept");
    await vscode.commands.executeCommand("hearth.acceptEdit");
    assert.equal(await outcome, "accepted");
    assert.equal(
      doc.getText(),
      proposal.original.slice(0, proposal.start) + proposal.newText + proposal.original.slice(proposal.end),
    );
    assert.ok(doc.getText().endsWith(original), "the documented code is kept");
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand("undo");
    assert.equal(doc.getText(), original, "one undo restores the file");

    // Reject: byte for byte unchanged.
    ({ outcome } = await propose("fix"));
    await vscode.commands.executeCommand("hearth.rejectEdit");
    assert.equal(await outcome, "rejected");
    assert.equal(doc.getText(), original);

    // The document changed elsewhere meanwhile: the edit is re-based onto the same code.
    ({ outcome, proposal } = await propose("edit", "make it generic"));
    const header = new vscode.WorkspaceEdit();
    header.insert(file, new vscode.Position(0, 0), "// header\n");
    await vscode.workspace.applyEdit(header);
    await vscode.commands.executeCommand("hearth.acceptEdit");
    assert.equal(await outcome, "accepted");
    assert.equal(doc.getText(), `// header\n${proposal.newText}${original.slice(proposal.end)}`);
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand("undo");
    await vscode.commands.executeCommand("undo");
    assert.equal(doc.getText(), original);

    // The code the edit replaces changed meanwhile: refused with a message, nothing applied.
    ({ outcome } = await propose("fix"));
    const inside = new vscode.WorkspaceEdit();
    inside.replace(file, new vscode.Range(1, 11, 1, 16), "a - b");
    await vscode.workspace.applyEdit(inside);
    const changed = doc.getText();
    await vscode.commands.executeCommand("hearth.acceptEdit");
    assert.equal(await outcome, "refused");
    assert.match(review.last?.message ?? "", /was changed since it was proposed/);
    assert.equal(doc.getText(), changed);
    await vscode.commands.executeCommand("workbench.action.files.revert");
  } finally {
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    await vscode.workspace.fs.delete(file);
  }
}, 180_000);

test("Apply refuses a code block that names a file outside the workspace", async () => {
  const root = vscode.workspace.workspaceFolders![0]!.uri;
  // A real file just outside the workspace folder, which `// file: ../name` points at.
  const outside = vscode.Uri.joinPath(root, "..", `apply-outside-${process.pid}.txt`);
  await vscode.workspace.fs.writeFile(outside, Buffer.from("keep me\n"));
  try {
    let settled = false;
    const result = api.actions.applyCode(`// file: ../apply-outside-${process.pid}.txt\npwned\n`).finally(() => {
      settled = true;
    });
    await waitFor(() => settled || api.actions.review.pending !== undefined, "Apply to settle or propose");
    assert.equal(api.actions.review.pending, undefined, "no diff may be proposed for a file outside the workspace");
    assert.equal(await result, undefined);
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(outside)).toString("utf8"), "keep me\n");
  } finally {
    if (api.actions.review.pending) await vscode.commands.executeCommand("hearth.rejectEdit");
    await vscode.workspace.fs.delete(outside);
  }
});

test("unknown slash commands answer with a helpful notice", async () => {
  const notices: string[] = [];
  const sub = api.session.onNotice((n) => notices.push(n.text));
  await api.session.submit("/frobnicate");
  sub.dispose();
  assert.match(notices.join("\n"), /Unknown command '\/frobnicate'/);
});

/** Start a real llama-server on a free loopback port and wait for /health (the suite's own, as in test/engines). */
async function startLlamaServer(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const binary = process.env["HEARTH_LLAMA_SERVER"];
  assert.ok(binary, "HEARTH_LLAMA_SERVER is not set");
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  const child = spawn(binary, ["--host", "127.0.0.1", "--port", String(port), "-t", "1", ...args], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    () =>
      fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      ),
    (ok) => ok,
    `llama-server on ${url}`,
    60_000,
  );
  return { url, child };
}

test("remote engine: chat and completion on a real llama-server through settings; a server gone mid-answer keeps the text", async () => {
  api ??= await vscode.extensions.getExtension<HearthApi>(EXTENSION_ID)!.activate(); // also when run alone
  const config = vscode.workspace.getConfiguration("hearth");
  await config.update("threads", 1, vscode.ConfigurationTarget.Global);
  const chat = await startLlamaServer(["-m", process.env["HEARTH_TEST_MODEL"]!, "-c", "512", "--ignore-eos"]);
  const fim = await startLlamaServer(["-m", process.env["HEARTH_LAB_FIM_MODEL"]!, "-c", "1024"]);
  try {
    await config.update("engines.chat", chat.url, vscode.ConfigurationTarget.Global);
    await config.update("models.chat", "", vscode.ConfigurationTarget.Global);
    await config.update("engines.completion", fim.url, vscode.ConfigurationTarget.Global);
    await config.update("models.completion", "", vscode.ConfigurationTarget.Global);
    api.roles.forget("chat");
    await api.session.newChat();
    await api.session.submit("/params max-tokens 24");
    let deltas = 0;
    const sub = api.session.onDelta(() => deltas++);
    await api.session.submit("Once upon a time");
    assert.equal(lastMessage()?.role, "assistant");
    assert.ok((lastMessage()?.content.length ?? 0) > 0, "empty answer");
    assert.ok(deltas >= 1);
    assert.equal(api.roles.info("chat")?.engine?.url, chat.url);

    const doc = await vscode.workspace.openTextDocument({
      language: "typescript",
      content: "export function add(a: number, b: number): number {\n  return \n}\n",
    });
    const token = new vscode.CancellationTokenSource().token;
    const context = { triggerKind: vscode.InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined };
    await api.completions.provideInlineCompletionItems(doc, new vscode.Position(1, 9), context, token);
    // A model answer came back (from /infill: the engine's prompt-token count is in it).
    assert.ok(
      (api.completions.lastOutcome?.result?.usage.promptTokens ?? 0) > 0,
      JSON.stringify(api.completions.lastOutcome),
    );
    assert.ok(
      !["noModel", "noFim", "error"].includes(String(api.completions.lastOutcome?.reason)),
      JSON.stringify(api.completions.lastOutcome),
    );
    assert.equal(api.roles.info("completion")?.engine?.url, fim.url);

    // Check Engines: both roles work on their engines (the command returns what it found).
    const checks = (await vscode.commands.executeCommand("hearth.checkEngines")) as Array<{
      role: string;
      ok: boolean;
      line: string;
    }>;
    assert.deepEqual(
      checks.map((c) => [c.role, c.ok]),
      [
        ["chat", true],
        ["completion", true],
      ],
      JSON.stringify(checks),
    );
    assert.match(checks[0]!.line, new RegExp(`on llama-server at ${chat.url.replace(/\./g, "\\.")}`));

    // The chat server dies mid-answer: an error notice, the text so far kept and marked.
    const notices: string[] = [];
    const subNotice = api.session.onNotice((n) => notices.push(n.text));
    await api.session.submit("/params max-tokens 480");
    deltas = 0;
    const running = api.session.submit("The dragon flew");
    await waitFor(() => deltas >= 2, "deltas before the server stops");
    chat.child.kill("SIGKILL");
    await running;
    sub.dispose();
    subNotice.dispose();
    assert.ok(
      notices.some((n) => n.includes(`engine at ${chat.url}`)),
      JSON.stringify(notices),
    );
    assert.equal(lastMessage()?.stopReason, "interrupted");
    assert.ok((lastMessage()?.content.length ?? 0) > 0);
  } finally {
    chat.child.kill("SIGKILL");
    fim.child.kill("SIGKILL");
    for (const key of ["engines.chat", "engines.completion"]) {
      await config.update(key, undefined, vscode.ConfigurationTarget.Global);
    }
  }
}, 120_000);

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
  api ??= await vscode.extensions.getExtension<HearthApi>(EXTENSION_ID)!.activate(); // also when run alone
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
    api.roles.forget("chat");
    await api.session.newChat();
    const review = api.actions.review;
    const notices: string[] = [];
    const sub = api.session.onNotice((n) => notices.push(n.text));
    const running = api.session.submit("/agent Rename greet to welcome in agent-under-test.");
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
    api.roles.forget("chat");
    const again = api.session.submit("/agent Rename greet to welcome.");
    await waitFor(() => review.pending !== undefined, "the second review", 60_000);
    await vscode.commands.executeCommand("hearth.rejectEdit");
    await again;
    assert.equal(fs.readFileSync(greet, "utf8"), greetText);
    assert.equal(fs.readFileSync(use, "utf8"), useText);
    assert.match(engine.bodies[1]!.messages.at(-1)!.content, /rejected the change .*nothing was written/);
  } finally {
    await engine.close();
    await config.update("engines.chat", undefined, vscode.ConfigurationTarget.Global);
    api.roles.forget("chat");
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

/** Entry point called by VS Code's test runner. */
export function run(): Promise<void> {
  return runAll();
}
