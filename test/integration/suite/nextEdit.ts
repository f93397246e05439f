/**
 * Next-edit suggestions in the real VS Code, driven by the SCRIPTED next-edit engine (a loopback OpenAI-compatible
 * server answering with recorded rewrites: bench/nesScenarios.ts) set as `hearth.engines.nes`. A user's edit in one
 * place gives a ranged suggestion accepted with Tab (VS Code's inline-suggestion commit), a jump hint accepted with
 * Tab-Tab, a dismissal, and a hint dropped because the user typed over its lines.
 */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { HearthApi } from "../../../extension/extension";
import { NES_EDITOR_FLOWS, startScriptedNesEngine } from "../../../bench/nesScenarios";
import { EXTENSION_ID, eventually, hearth } from "./context";
import { test } from "./harness";

const context = { triggerKind: vscode.InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined };

/** Open `before`, make the user's edit (replace line `line` with `after`) as typing would, put the cursor. */
async function edited(before: string, line: number, after: string, cursor: vscode.Position) {
  const doc = await vscode.workspace.openTextDocument({ language: "typescript", content: before });
  const editor = await vscode.window.showTextDocument(doc);
  await editor.edit((b) => b.replace(doc.lineAt(line).range, after));
  editor.selection = new vscode.Selection(cursor, cursor);
  return { doc, editor };
}

/** Ask as VS Code does until the prediction made in the background is there; @returns the provider's answer. */
async function suggestion(doc: vscode.TextDocument, at: vscode.Position) {
  const token = new vscode.CancellationTokenSource().token;
  const nes = hearth.api.nextEdit;
  const before = nes.stats.requests;
  await nes.provideInlineCompletionItems(doc, at, context, token);
  await eventually(
    async () => nes.stats.requests > before && nes.lastResult !== undefined,
    (done) => done,
    "a next-edit prediction",
  );
  await eventually(
    async () => nes.stats.cacheHits,
    () => true,
    "the cache",
  );
  return nes.provideInlineCompletionItems(doc, at, context, token);
}

test("next-edit: a ranged suggestion accepted with Tab, a jump hint with Tab-Tab, dismissed, dropped by typing", async () => {
  hearth.api ??= await vscode.extensions.getExtension<HearthApi>(EXTENSION_ID)!.activate(); // also when run alone
  const { point: ranged, rename: far } = NES_EDITOR_FLOWS;
  const engine = await startScriptedNesEngine(
    new Map([
      [ranged.now, ranged.after],
      [far.now, far.after],
    ]),
  );
  const config = vscode.workspace.getConfiguration("hearth");
  try {
    await config.update("engines.nes", engine.url, vscode.ConfigurationTarget.Global);
    await config.update("models.nes", "", vscode.ConfigurationTarget.Global);
    await config.update("nes.debounceMs", 0, vscode.ConfigurationTarget.Global);
    const nes = hearth.api.nextEdit;

    // 1. Ranged: the user added `z` on line 0; the cursor is on line 1, where the same insertion is offered.
    const cursor = new vscode.Position(1, "export const other = { x: 4, y: 5".length);
    const a = await edited(ranged.before, 0, "export const point = { x: 1, y: 2, z: 3 };", cursor);
    const ofA = () => nes.history.recent().filter((e) => e.path === a.doc.uri.toString());
    assert.deepEqual(
      ofA().map((e) => [e.original, e.updated]),
      [["export const point = { x: 1, y: 2 };", "export const point = { x: 1, y: 2, z: 3 };"]],
    );
    const items = await suggestion(a.doc, cursor);
    assert.equal(items?.length, 1, JSON.stringify(nes.lastResult));
    assert.equal(items![0]!.insertText, "export const other = { x: 4, y: 5, z: 6 };");
    assert.deepEqual(items![0]!.range, new vscode.Range(1, 0, 1, "export const other = { x: 4, y: 5 };".length));
    // The prompt reached the engine in Sweep's format, with the user's edit as a diff block.
    assert.match(
      engine.prompts.at(-1)!,
      /\.diff\noriginal:\nexport const point = \{ x: 1, y: 2 \};\nupdated:\nexport const point = \{ x: 1, y: 2, z: 3 \};\n/,
    );
    // Tab: VS Code shows the suggestion and commits it.
    await vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
    await eventually(
      async () => {
        await vscode.commands.executeCommand("editor.action.inlineSuggest.commit");
        return a.doc.getText();
      },
      (text) => text === ranged.after,
      "the ranged suggestion accepted",
    );
    // Hearth's own edit is not history.
    assert.ok(!ofA().some((e) => e.updated.includes("z: 6")), JSON.stringify(ofA()));

    // 2. A hint: the edit is two lines further down; Tab jumps there, Tab again applies it.
    const b = await edited(far.before, 0, "let sum = 0;", new vscode.Position(0, 7));
    assert.equal(await suggestion(b.doc, new vscode.Position(0, 7)), undefined);
    await eventually(
      async () => nes.pendingHint,
      (h) => h?.stage === "jump",
      "a jump hint",
    );
    assert.deepEqual(nes.pendingHint!.edit, { startLine: 2, endLine: 5, text: "  sum += x;\n}\nconsole.log(sum);\n" });
    await vscode.commands.executeCommand("hearth.nextEdit.tab");
    assert.equal(nes.pendingHint?.stage, "accept");
    assert.equal(b.editor.selection.active.line, 2);
    await vscode.commands.executeCommand("hearth.nextEdit.tab");
    assert.equal(b.doc.getText(), far.after);
    assert.equal(nes.pendingHint, undefined);

    // 3. Escape dismisses a hint; nothing changes.
    const c = await edited(far.before, 0, "let sum = 0;", new vscode.Position(0, 7));
    await suggestion(c.doc, new vscode.Position(0, 7));
    await eventually(
      async () => nes.pendingHint,
      (h) => h !== undefined,
      "a hint to dismiss",
    );
    await vscode.commands.executeCommand("hearth.nextEdit.dismiss");
    assert.equal(nes.pendingHint, undefined);
    await vscode.commands.executeCommand("hearth.nextEdit.tab");
    assert.equal(c.doc.getText(), far.now);

    // 4. The user types over the hint's lines: it is dropped, Tab applies nothing.
    const d = await edited(far.before, 0, "let sum = 0;", new vscode.Position(0, 7));
    await suggestion(d.doc, new vscode.Position(0, 7));
    await eventually(
      async () => nes.pendingHint,
      (h) => h !== undefined,
      "a hint to type over",
    );
    await d.editor.edit((e) => e.insert(new vscode.Position(2, 2), "// "));
    assert.equal(nes.pendingHint, undefined);
    await vscode.commands.executeCommand("hearth.nextEdit.tab");
    assert.equal(d.doc.lineAt(2).text, "  // total += x;");
    console.log(`    next-edit: ${JSON.stringify(nes.stats)}`);
  } finally {
    await config.update("engines.nes", undefined, vscode.ConfigurationTarget.Global);
    await config.update("nes.debounceMs", undefined, vscode.ConfigurationTarget.Global);
    await engine.stop();
  }
}, 90_000);
