/** Actions: reviewed edits (accept, reject, re-base), Apply confined to the workspace, unknown slash commands. */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { hearth } from "./context";
import { test, waitFor } from "./harness";

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
    const review = hearth.api.actions.review;
    const propose = async (name: string, input?: string) => {
      await select();
      const outcome = hearth.api.actions.run(name, input === undefined ? {} : { input });
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
    const result = hearth.api.actions.applyCode(`// file: ../apply-outside-${process.pid}.txt\npwned\n`).finally(() => {
      settled = true;
    });
    await waitFor(() => settled || hearth.api.actions.review.pending !== undefined, "Apply to settle or propose");
    assert.equal(
      hearth.api.actions.review.pending,
      undefined,
      "no diff may be proposed for a file outside the workspace",
    );
    assert.equal(await result, undefined);
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(outside)).toString("utf8"), "keep me\n");
  } finally {
    if (hearth.api.actions.review.pending) await vscode.commands.executeCommand("hearth.rejectEdit");
    await vscode.workspace.fs.delete(outside);
  }
});

test("unknown slash commands answer with a helpful notice", async () => {
  const notices: string[] = [];
  const sub = hearth.api.session.onNotice((n) => notices.push(n.text));
  await hearth.api.session.submit("/frobnicate");
  sub.dispose();
  assert.match(notices.join("\n"), /Unknown command '\/frobnicate'/);
});
