/** Inline completions from a SYNTHETIC FIM model, and the reason when a model has no FIM. */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import { writeSyntheticFimModel } from "../../fixtures/synthetic/syntheticModels";
import { hearth } from "./context";
import { test } from "./harness";

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
      (await hearth.api.completions.provideInlineCompletionItems(
        doc,
        new vscode.Position(3, column),
        context,
        token,
      )) ?? undefined;
  }
  console.log(`    suggestion after ${hearth.api.completions.stats.modelCalls} model call(s)`);
  assert.ok(items?.length, `no suggestion: ${JSON.stringify(hearth.api.completions.lastOutcome)}`);
  const insertText = items[0]?.insertText;
  assert.ok(typeof insertText === "string" && insertText.length > 0);
  assert.ok(hearth.api.completions.stats.modelCalls >= 1);
  assert.equal(hearth.api.statusBar.completionState, "idle");

  // Recently edited ranges of other files become context (ring buffer), as comments with their path.
  const other = await vscode.workspace.openTextDocument({
    language: "typescript",
    content: "export const RATE = 0.2;\n",
  });
  const edit = new vscode.WorkspaceEdit();
  edit.insert(other.uri, new vscode.Position(1, 0), "export function tax(x: number) { return x * RATE; }\n");
  await vscode.workspace.applyEdit(edit);
  const snippets = hearth.api.completions.contextTracker.snippets(doc, 0);
  assert.ok(
    snippets.some((s) => s.text.includes("function tax")),
    JSON.stringify(snippets),
  );

  await config.update("models.completion", process.env["HEARTH_TEST_MODEL"], vscode.ConfigurationTarget.Global);
  // A new model URI is loaded on the next request.
  const none = await hearth.api.completions.provideInlineCompletionItems(
    doc,
    new vscode.Position(3, 18),
    context,
    token,
  );
  assert.equal(none, undefined);
  assert.equal(hearth.api.completions.lastOutcome?.reason, "noFim");
  assert.equal(hearth.api.statusBar.completionState, "error");
  await vscode.commands.executeCommand("hearth.whyNoCompletion");

  await config.update("completion.disabledLanguages", ["typescript"], vscode.ConfigurationTarget.Global);
  assert.equal(
    await hearth.api.completions.provideInlineCompletionItems(doc, new vscode.Position(3, 18), context, token),
    undefined,
  );
  assert.equal(hearth.api.completions.lastOutcome?.reason, "disabled");
  await config.update("completion.disabledLanguages", undefined, vscode.ConfigurationTarget.Global);
}, 90_000);
