/**
 * First run in real VS Code: *Hearth: Set Up Models* against a loopback catalog (plain http:// URLs to a file host
 * in this test, each with its sha256) ends with every role tested, the `hearth.models.*` settings written, and the
 * chat answering with the model it set up. The models are real: stories260K (chat) and the lab's tiny trained FIM,
 * embedding and reranker models.
 */
import * as assert from "node:assert/strict";
import { statSync } from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import type { SetupOutcome } from "../../../extension/models/setupModels";
import { hearth, lastMessage } from "./context";
import { test } from "./harness";
import { fourRoleFixtures } from "../../setup/fixtureCatalog";

test("Set Up Models with a loopback catalog: every role tested, settings written; the chat answers, a FIM suggestion comes, search is hybrid", async () => {
  const fixtures = fourRoleFixtures(
    process.env["HEARTH_TEST_MODEL"]!,
    path.dirname(process.env["HEARTH_LAB_FIM_MODEL"]!),
  );
  const host = await fixtures.serve();
  const config = vscode.workspace.getConfiguration("hearth");
  const before = Object.fromEntries(
    ["chat", "completion", "embedding", "rerank"].map((r) => [r, config.inspect(`models.${r}`)?.globalValue]),
  );
  try {
    const outcome = (await vscode.commands.executeCommand("hearth.setupModels", {
      yes: true,
      catalog: `${host.url}/catalog.json`,
    })) as SetupOutcome;
    assert.deepEqual(
      outcome.checks.map((c) => [c.role, c.ok]),
      [
        ["chat", true],
        ["completion", true],
        ["embedding", true],
        ["rerank", true],
      ],
      JSON.stringify(outcome.checks),
    );
    for (const role of ["chat", "completion", "embedding", "rerank"]) {
      const value = vscode.workspace.getConfiguration("hearth").get<string>(`models.${role}`);
      assert.ok(value && statSync(value).isFile(), `hearth.models.${role} = ${value}`);
    }
    await hearth.api.session.newChat();
    await hearth.api.session.submit("Once upon a time");
    assert.equal(lastMessage()?.role, "assistant");
    assert.ok((lastMessage()?.content.length ?? 0) > 0, "no answer");

    // Ghost text from the FIM model it set up (the lab model completes code like its training set's).
    const asked = Date.now();
    const doc = await vscode.workspace.openTextDocument({
      language: "javascript",
      content: "export function add(a, b) {\n  return a + b;\n}\n\nexport function sub(a, b) {\n  return ",
    });
    const context = { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined };
    const token = new vscode.CancellationTokenSource().token;
    const items = await hearth.api.completions.provideInlineCompletionItems(
      doc,
      new vscode.Position(5, 9),
      context,
      token,
    );
    // A model result made for this request (the engine's counters belong to whichever engine the settings made).
    const suggestion = hearth.api.completions.lastOutcome;
    assert.ok(suggestion && suggestion.at.getTime() >= asked && suggestion.result, JSON.stringify(suggestion));
    console.log(
      `    suggestion: ${JSON.stringify(items?.[0]?.insertText ?? null)} (${JSON.stringify(hearth.api.completions.lastOutcome)})`,
    );

    // Search with the embedding and rerank models it set up: the index gets vectors, and search is hybrid.
    await hearth.api.index.build(true);
    const found = await hearth.api.index.search("greet someone by name");
    assert.equal(found.mode, "hybrid", JSON.stringify({ mode: found.mode, table: found.table }));
    assert.ok(found.hits.length > 0);
    // The reranker (tested by the set-up's own rerank pair) scores candidates when there are two or more.
    assert.ok(found.reranked || found.hits.length < 2, JSON.stringify({ ...found, hits: found.hits.length }));
    console.log(`    search: ${found.mode}, ${found.hits.length} hit(s), top ${found.hits[0]!.path}`);
  } finally {
    for (const [role, value] of Object.entries(before))
      await config.update(`models.${role}`, value, vscode.ConfigurationTarget.Global);
    await host.close();
  }
}, 180_000);
