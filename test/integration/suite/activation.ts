/** Activation and commands: cheap activation, every contributed command registered and safe without an editor or a model. */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { HearthApi } from "../../../extension/extension";
import { EXTENSION_ID, hearth } from "./context";
import { test } from "./harness";

test("activation is cheap: no sidecar process, no model", async () => {
  const ext = vscode.extensions.getExtension<HearthApi>(EXTENSION_ID);
  assert.ok(ext, "extension not found");
  const started = performance.now();
  hearth.api = await ext.activate();
  console.log(`    activation: ${(performance.now() - started).toFixed(1)} ms`);
  assert.equal(hearth.api.sidecar.running, false);
  assert.equal(hearth.api.sidecar.info, undefined);
  assert.equal(hearth.api.statusBar.state, "idle");
});

test("the Get started walkthrough: its steps' commands are registered, and a Welcome tab is open after the first activation", async () => {
  const walkthroughs = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.walkthroughs as Array<{
    id: string;
    steps: Array<{ description: string }>;
  }>;
  assert.equal(walkthroughs[0]!.id, "hearth.firstRun");
  const registered = new Set(await vscode.commands.getCommands(true));
  const linked = walkthroughs[0]!.steps.flatMap((s) =>
    [...s.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]!),
  );
  assert.deepEqual(linked, ["hearth.setupModels", "hearth.openChat", "hearth.indexWorkspace"]);
  for (const id of linked) assert.ok(registered.has(id), id);
  // VS Code may show its own Welcome page at startup too, so this says only that a Welcome editor is there.
  const tabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label));
  const started = Date.now();
  while (!tabs().some((l) => /Welcome|Walkthrough|Get started/i.test(l)) && Date.now() - started < 10_000)
    await new Promise((r) => setTimeout(r, 100));
  console.log(`    tabs: ${JSON.stringify(tabs())}`);
  assert.ok(
    tabs().some((l) => /Welcome|Walkthrough|Get started/i.test(l)),
    JSON.stringify(tabs()),
  );
  await vscode.commands.executeCommand("workbench.action.closeAllEditors");
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
