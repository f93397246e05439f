import * as path from "node:path";
import * as vscode from "vscode";
import { applyProposal, rebase, type EditProposal } from "../../common/actions/proposal";

/** URI scheme of the read-only documents on either side of a proposed edit's diff. */
export const PROPOSAL_SCHEME = "hearth-proposal";

/** One file's change in a review. */
export interface ReviewItem {
  /** The document the edit changes, or the file a new-file proposal creates. */
  target: vscode.Uri;
  kind: "edit" | "newFile";
  proposal: EditProposal;
}

/** An edit waiting for the user's decision. */
export interface PendingReview extends ReviewItem {
  id: number;
  title: string;
  /**
   * Further files of the same review (the agent's edits of one call): shown together in VS Code's changes
   * editor, accepted or rejected together, applied as one `WorkspaceEdit`.
   */
  more?: ReviewItem[];
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
  private current?: PendingReview & { resolve(outcome: ReviewOutcome): void; label: string };
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
    const sides = [review, ...(review.more ?? [])].map((item, i) => {
      const name = path.basename(item.target.fsPath || item.target.path);
      // The first file keeps the one-file layout (/id/original/name) that the diff tab is found by.
      const dir = i === 0 ? `/${id}` : `/${id}/${i}`;
      const left = vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: `${dir}/original/${name}` });
      const right = vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: `${dir}/proposed/${name}` });
      this.texts.set(left.toString(), item.kind === "newFile" ? "" : item.proposal.original);
      this.texts.set(right.toString(), applyProposal(item.proposal));
      return { target: item.target, left, right };
    });
    const label = `${review.title} (Hearth: Accept ${acceptKey()} · Reject ${rejectKey()})`;
    const outcome = new Promise<ReviewOutcome>((resolve) => {
      this.current = { ...review, id, resolve, label };
    });
    await vscode.commands.executeCommand("setContext", "hearth.reviewingEdit", true);
    if (sides.length === 1) {
      await vscode.commands.executeCommand("vscode.diff", sides[0]!.left, sides[0]!.right, label, { preview: true });
    } else {
      // VS Code's changes (multi-diff) editor: every file of the review in one tab.
      await vscode.commands.executeCommand(
        "vscode.changes",
        label,
        sides.map((side) => [side.target, side.left, side.right]),
      );
    }
    return outcome;
  }

  /** Apply the pending proposal (re-based if the document changed), as one undoable edit. */
  async accept(): Promise<ReviewOutcome | undefined> {
    const review = this.current;
    if (!review) return undefined;
    if (review.more?.length) return this.acceptAll([review, ...review.more]);
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

  /** Apply every file of a several-file review as one `WorkspaceEdit`, or none when one cannot apply. */
  private async acceptAll(items: ReviewItem[]): Promise<ReviewOutcome> {
    const edit = new vscode.WorkspaceEdit();
    for (const item of items) {
      const name = vscode.workspace.asRelativePath(item.target);
      if (item.kind === "newFile") {
        edit.createFile(item.target, { ignoreIfExists: false, contents: Buffer.from(item.proposal.newText, "utf8") });
        continue;
      }
      const doc = await vscode.workspace.openTextDocument(item.target);
      const where = rebase(item.proposal, doc.getText());
      if ("refused" in where) return this.refuse(`${name}: ${where.refused} Nothing of this change was applied.`);
      edit.replace(
        doc.uri,
        new vscode.Range(doc.positionAt(where.start), doc.positionAt(where.end)),
        item.proposal.newText,
      );
    }
    if (!(await vscode.workspace.applyEdit(edit)))
      return this.refuse("VS Code did not apply the change (a file may be read-only or exist already).");
    await this.finish("accepted");
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
          (input instanceof vscode.TabInputTextDiff &&
            input.modified.scheme === PROPOSAL_SCHEME &&
            input.modified.path.startsWith(`/${review.id}/`)) ||
          // The changes editor of a several-file review (its tab input has no class in the API before 1.96).
          (!!review.more?.length && t.label === review.label)
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
