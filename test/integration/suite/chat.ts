/** Chat: streaming from the real model, VS Code's model picker, the local API server, stop, and a sidecar killed mid-answer. */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { HearthApi } from "../../../extension/extension";
import { EXTENSION_ID, hearth, lastMessage } from "./context";
import { test, waitFor } from "./harness";

test("chat streams an answer from the real model through the sidecar", async () => {
  const model = process.env["HEARTH_TEST_MODEL"];
  assert.ok(model, "HEARTH_TEST_MODEL is not set");
  await vscode.workspace.getConfiguration("hearth").update("models.chat", model, vscode.ConfigurationTarget.Global);
  await vscode.workspace.getConfiguration("hearth").update("threads", 1, vscode.ConfigurationTarget.Global);
  await hearth.api.session.newChat();
  await hearth.api.session.submit("/params temperature 0");
  await hearth.api.session.submit("/params max-tokens 48");
  const deltas: string[] = [];
  const sub = hearth.api.session.onDelta((d) => deltas.push(d.text));
  await hearth.api.session.submit("Once upon a time");
  sub.dispose();
  const answer = lastMessage();
  assert.equal(answer?.role, "assistant");
  assert.ok(deltas.length >= 1, "no deltas");
  assert.equal(deltas.join(""), answer?.content);
  assert.ok((answer?.content.split(/\s+/).length ?? 0) > 5, `answer too short: ${answer?.content}`);
  assert.equal(hearth.api.sidecar.running, true);
  await waitFor(() => hearth.api.statusBar.state === "ready", "status bar 'ready'");
}, 90_000);

test("VS Code's model picker: Hearth's chat model answers vscode.lm requests, streamed, and stops on cancel", async () => {
  hearth.api ??= await vscode.extensions.getExtension<HearthApi>(EXTENSION_ID)!.activate(); // also when run alone
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
  hearth.api ??= await vscode.extensions.getExtension<HearthApi>(EXTENSION_ID)!.activate(); // also when run alone
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
  await hearth.api.session.submit("/params max-tokens 4000");
  let deltas = 0;
  const sub = hearth.api.session.onDelta(() => deltas++);
  const running = hearth.api.session.submit("Tell me a very long story");
  await waitFor(() => deltas >= 2, "first deltas");
  await vscode.commands.executeCommand("hearth.stopGeneration");
  await running;
  sub.dispose();
  assert.equal(lastMessage()?.stopReason, "cancelled");
  assert.equal(hearth.api.session.generating, false);
});

test("killing the sidecar mid-answer shows an error, restarts it, keeps the chat, and chat works again", async () => {
  const notices: { kind: string; text: string }[] = [];
  const subNotice = hearth.api.session.onNotice((n) => notices.push(n));
  const pid = hearth.api.sidecar.info!.pid;
  let deltas = 0;
  const sub = hearth.api.session.onDelta(() => deltas++);
  const before = hearth.api.session.controller.conversation.messages.length;
  const running = hearth.api.session.submit("Once upon a time there was a dragon");
  await waitFor(() => deltas >= 2, "deltas before the kill");
  process.kill(pid, "SIGKILL");
  await running;
  sub.dispose();
  assert.ok(
    notices.some((n) => n.kind === "error" && /stopped unexpectedly/.test(n.text)),
    JSON.stringify(notices),
  );
  // The user's message is still in the conversation, and so is what had arrived of the answer, marked.
  const messages = hearth.api.session.controller.conversation.messages;
  assert.equal(messages.length, before + 2);
  assert.equal(messages.at(-2)?.content, "Once upon a time there was a dragon");
  assert.equal(messages.at(-1)?.stopReason, "interrupted");
  assert.ok((messages.at(-1)?.content.length ?? 0) > 0);
  // The sidecar comes back (new process) and the model is reloaded.
  await waitFor(() => hearth.api.sidecar.running && hearth.api.sidecar.info?.pid !== pid, "sidecar restart", 30_000);
  await waitFor(() => hearth.api.statusBar.state === "ready", "model reloaded", 30_000);
  await hearth.api.session.submit("/params max-tokens 12");
  await hearth.api.session.submit("The dragon");
  assert.equal(lastMessage()?.role, "assistant");
  // And the whole chat is in the on-disk history.
  const saved = await hearth.api.session.history.load(hearth.api.session.controller.conversation.id);
  assert.equal(saved.messages.length, hearth.api.session.controller.conversation.messages.length);
  subNotice.dispose();
}, 90_000);
