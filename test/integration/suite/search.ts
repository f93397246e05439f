/** Code search: indexing, updates, /search and @codebase, the language-model tools and the MCP server VS Code is offered. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { HearthApi } from "../../../extension/extension";
import { EXTENSION_ID, hearth, eventually } from "./context";
import { test } from "./harness";

test("code search: indexes the workspace, finds code, picks up a new file and its deletion, /search and @codebase in chat", async () => {
  const root = vscode.workspace.workspaceFolders![0]!.uri;
  const first = await hearth.api.index.search("greet someone by name");
  assert.equal(hearth.api.index.state, "ready");
  assert.ok(
    hearth.api.index.lastBuild && hearth.api.index.lastBuild.files >= 1,
    JSON.stringify(hearth.api.index.lastBuild),
  );
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
      () => hearth.api.index.search("frobnicate widgets"),
      (r) => r.hits[0]?.path === "widgets-under-test.ts",
      "the new file to become searchable",
    );
    assert.equal(found.hits[0]?.symbol, "frobnicateWidgets");
    assert.equal(found.hits[0]?.startLine, 1);

    const notices: { text: string; hits?: unknown[] }[] = [];
    const sub = hearth.api.session.onNotice((n) => notices.push(n));
    await hearth.api.session.submit("/search frobnicate widgets");
    assert.equal(
      (notices.at(-1)?.hits?.[0] as { path: string } | undefined)?.path,
      "widgets-under-test.ts",
      JSON.stringify(notices),
    );
    await hearth.api.session.submit("/params max-tokens 8");
    await hearth.api.session.submit("@codebase what does frobnicateWidgets do?");
    sub.dispose();
    const asked = hearth.api.session.controller.conversation.messages.at(-2);
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
    () => hearth.api.index.search("frobnicate widgets"),
    (r) => !r.hits.some((h) => h.path === "widgets-under-test.ts"),
    "the deleted file to leave the index",
  );
}, 90_000);

test("language-model tools: hearth_searchCodebase and hearth_indexStatus answer vscode.lm.invokeTool", async () => {
  hearth.api ??= await vscode.extensions.getExtension<HearthApi>(EXTENSION_ID)!.activate(); // also when run alone
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
  const launch = hearth.api.mcpLaunch();
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
