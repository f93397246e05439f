import * as path from "node:path";
import * as vscode from "vscode";
import { applyProposal, rebase, type EditProposal } from "../../common/actions/proposal";

/** URI scheme of the read-only documents on either side of a proposed edit's diff. */
export const PROPOSAL_SCHEME = "hearth-proposal";

/** An edit waiting for the user's decision. */
export interface PendingReview {
  id: number;
  /** The document the edit changes, or the file a new-file proposal creates. */
  target: vscode.Uri;
  kind: "edit" | "newFile";
  proposal: EditProposal;
  title: string;
}

/** How a review ended, for the caller and the tests. */
export type ReviewOutcome = "accepted" | "rejected" | "refused" | "replaced";

/**
 * Shows a proposed edit as a diff (VS Code's diff editor, between read-only `hearth-proposal:` documents) with
 * Accept / Reject in the editor title and on keys; nothing touches the file before Accept. Accept applies one
 * `WorkspaceEdit` (one undo step restores the file); if the document changed meanwhile the edit is re-based onto
 * the same code, or refused with a message — never applied to other lines. Reject leaves the file as it is.
 */
export class ReviewController implements vscode.Disposable, vscode.TextDocumentContentProvider {
  private current?: PendingReview & { resolve(outcome: ReviewOutcome): void };
  private nextId = 1;
  /** Text of each side of each open diff (a side never changes: a new proposal gets new URIs). */
  private readonly texts = new Map<string, string>();
  private readonly disposables: vscode.Disposable[];
  /** Last outcome and message, for tests. */
  last?: { outcome: ReviewOutcome; message?: string };

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.disposables = [vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, this)];
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? "";
  }

  get pending(): PendingReview | undefined {
    return this.current;
  }

  /**
   * Open the diff of a proposal and resolve when the user accepts, rejects, or the edit is refused or replaced
   * by a newer proposal.
   */
  async propose(review: Omit<PendingReview, "id">): Promise<ReviewOutcome> {
    await this.finish("replaced");
    const id = this.nextId++;
    const name = path.basename(review.target.fsPath || review.target.path);
    const left = vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: `/${id}/original/${name}` });
    const right = vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: `/${id}/proposed/${name}` });
    this.texts.set(left.toString(), review.kind === "newFile" ? "" : review.proposal.original);
    this.texts.set(right.toString(), applyProposal(review.proposal));
    const outcome = new Promise<ReviewOutcome>((resolve) => {
      this.current = { ...review, id, resolve };
    });
    await vscode.commands.executeCommand("setContext", "hearth.reviewingEdit", true);
    await vscode.commands.executeCommand(
      "vscode.diff",
      left,
      right,
      `${review.title} (Hearth: Accept ${acceptKey()} · Reject ${rejectKey()})`,
      {
        preview: true,
      },
    );
    return outcome;
  }

  /** Apply the pending proposal (re-based if the document changed), as one undoable edit. */
  async accept(): Promise<ReviewOutcome | undefined> {
    const review = this.current;
    if (!review) return undefined;
    if (review.kind === "newFile") {
      const edit = new vscode.WorkspaceEdit();
      edit.createFile(review.target, { ignoreIfExists: false, contents: Buffer.from(review.proposal.newText, "utf8") });
      if (!(await vscode.workspace.applyEdit(edit)))
        return this.refuse(`Could not create ${vscode.workspace.asRelativePath(review.target)}: it exists already.`);
      await this.finish("accepted");
      await vscode.window.showTextDocument(review.target);
      return "accepted";
    }
    const doc = await vscode.workspace.openTextDocument(review.target);
    const where = rebase(review.proposal, doc.getText());
    if ("refused" in where) return this.refuse(where.refused);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(
      doc.uri,
      new vscode.Range(doc.positionAt(where.start), doc.positionAt(where.end)),
      review.proposal.newText,
    );
    if (!(await vscode.workspace.applyEdit(edit)))
      return this.refuse("VS Code did not apply the edit (the file may be read-only).");
    if (where.moved)
      this.log.info(
        `Edit re-based: the document changed since the proposal; applied at the same code (offset ${where.start}).`,
      );
    await this.finish("accepted");
    await vscode.window.showTextDocument(doc, {
      selection: new vscode.Range(
        doc.positionAt(where.start),
        doc.positionAt(where.start + review.proposal.newText.length),
      ),
    });
    return "accepted";
  }

  /** Drop the pending proposal; the file is untouched. */
  async reject(): Promise<ReviewOutcome | undefined> {
    if (!this.current) return undefined;
    await this.finish("rejected");
    return "rejected";
  }

  private async refuse(message: string): Promise<ReviewOutcome> {
    this.log.warn(`Edit refused: ${message}`);
    void vscode.window.showErrorMessage(`Hearth: ${message}`);
    await this.finish("refused", message);
    return "refused";
  }

  private async finish(outcome: ReviewOutcome, message?: string): Promise<void> {
    const review = this.current;
    if (!review) return;
    this.current = undefined;
    this.last = { outcome, message };
    review.resolve(outcome);
    await vscode.commands.executeCommand("setContext", "hearth.reviewingEdit", false);
    // Close the diff tab(s) of this proposal.
    const tabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => {
        const input = t.input;
        return (
          input instanceof vscode.TabInputTextDiff &&
          input.modified.scheme === PROPOSAL_SCHEME &&
          input.modified.path.startsWith(`/${review.id}/`)
        );
      });
    for (const key of [...this.texts.keys()]) if (key.includes(`/${review.id}/`)) this.texts.delete(key);
    // Not awaited: the outcome is decided, and on VS Code 1.99 the close of a diff tab could stay pending after
    // an undo in the edited file (seen in the extension suite on code-server 4.99.3), which hung Reject.
    if (tabs.length)
      void vscode.window.tabGroups
        .close(tabs)
        .then(undefined, (e: unknown) => this.log.warn(`Closing the diff failed: ${String(e)}`));
  }

  dispose(): void {
    void this.finish("rejected");
    this.disposables.forEach((d) => d.dispose());
  }
}

const mac = process.platform === "darwin";
const acceptKey = () => (mac ? "⌘⇧⏎" : "Ctrl+Shift+Enter");
const rejectKey = () => (mac ? "⌘⇧⌫" : "Ctrl+Shift+Backspace");
