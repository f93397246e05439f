/** Remote engines: chat and completion on a real llama-server through settings. */
import * as assert from "node:assert/strict";
import * as net from "node:net";
import * as vscode from "vscode";
import type { HearthApi } from "../../../extension/extension";
import { spawn, type ChildProcess } from "node:child_process";
import { EXTENSION_ID, hearth, eventually, lastMessage } from "./context";
import { test, waitFor } from "./harness";

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
  hearth.api ??= await vscode.extensions.getExtension<HearthApi>(EXTENSION_ID)!.activate(); // also when run alone
  const config = vscode.workspace.getConfiguration("hearth");
  await config.update("threads", 1, vscode.ConfigurationTarget.Global);
  const chat = await startLlamaServer(["-m", process.env["HEARTH_TEST_MODEL"]!, "-c", "512", "--ignore-eos"]);
  const fim = await startLlamaServer(["-m", process.env["HEARTH_LAB_FIM_MODEL"]!, "-c", "1024"]);
  try {
    await config.update("engines.chat", chat.url, vscode.ConfigurationTarget.Global);
    await config.update("models.chat", "", vscode.ConfigurationTarget.Global);
    await config.update("engines.completion", fim.url, vscode.ConfigurationTarget.Global);
    await config.update("models.completion", "", vscode.ConfigurationTarget.Global);
    hearth.api.roles.forget("chat");
    await hearth.api.session.newChat();
    await hearth.api.session.submit("/params max-tokens 24");
    let deltas = 0;
    const sub = hearth.api.session.onDelta(() => deltas++);
    await hearth.api.session.submit("Once upon a time");
    assert.equal(lastMessage()?.role, "assistant");
    assert.ok((lastMessage()?.content.length ?? 0) > 0, "empty answer");
    assert.ok(deltas >= 1);
    assert.equal(hearth.api.roles.info("chat")?.engine?.url, chat.url);

    const doc = await vscode.workspace.openTextDocument({
      language: "typescript",
      content: "export function add(a: number, b: number): number {\n  return \n}\n",
    });
    const token = new vscode.CancellationTokenSource().token;
    const context = { triggerKind: vscode.InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined };
    await hearth.api.completions.provideInlineCompletionItems(doc, new vscode.Position(1, 9), context, token);
    // A model answer came back (from /infill: the engine's prompt-token count is in it).
    assert.ok(
      (hearth.api.completions.lastOutcome?.result?.usage.promptTokens ?? 0) > 0,
      JSON.stringify(hearth.api.completions.lastOutcome),
    );
    assert.ok(
      !["noModel", "noFim", "error"].includes(String(hearth.api.completions.lastOutcome?.reason)),
      JSON.stringify(hearth.api.completions.lastOutcome),
    );
    assert.equal(hearth.api.roles.info("completion")?.engine?.url, fim.url);

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
    const subNotice = hearth.api.session.onNotice((n) => notices.push(n.text));
    await hearth.api.session.submit("/params max-tokens 480");
    deltas = 0;
    const running = hearth.api.session.submit("The dragon flew");
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
