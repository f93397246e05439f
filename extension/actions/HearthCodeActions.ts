import * as vscode from "vscode";

/** Lightbulb entries: "Fix with Hearth" on diagnostics, "Explain with Hearth" on a selection. */
export class HearthCodeActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix.append("hearth")];

  provideCodeActions(
    doc: vscode.TextDocument,
    range: vscode.Range | vscode.Selection,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    if (context.diagnostics.length) {
      const span = context.diagnostics.reduce((r, d) => r.union(d.range), context.diagnostics[0]!.range);
      // Whole lines around the problems, so the model sees complete statements.
      const lines = new vscode.Range(span.start.line, 0, span.end.line, doc.lineAt(span.end.line).text.length);
      const fix = new vscode.CodeAction("Fix with Hearth", HearthCodeActions.kinds[0]);
      fix.diagnostics = [...context.diagnostics];
      fix.command = { command: "hearth.fixSelection", title: "Fix with Hearth", arguments: [doc.uri, lines] };
      actions.push(fix);
    }
    if (!range.isEmpty) {
      const explain = new vscode.CodeAction("Explain with Hearth", HearthCodeActions.kinds[0]);
      explain.command = {
        command: "hearth.explainSelection",
        title: "Explain with Hearth",
        arguments: [doc.uri, range],
      };
      actions.push(explain);
    }
    return actions;
  }
}
