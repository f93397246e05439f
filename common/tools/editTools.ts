/**
 * The edit tools: each call proposes changes that become one reviewed diff (`ToolContext.review`); nothing is
 * written before the user accepts it. Defined once (see `definition.ts`); the agent offers them.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { unifiedDiff } from "../actions/proposal";
import { writeFileAtomic } from "../chat/atomicWrite";
import { ToolError, type ProposedChange, type ToolContext, type ToolDefinition, type ToolOutput } from "./definition";
import { executionWarning } from "../../shared/workspaceFiles";
import { readText, refuseSecrets, resolveForEdit } from "./workspaceAccess";

/** Characters of text an edit tool takes per argument. */
export const MAX_EDIT_CHARS = 4_000;

/** Put the changes of one call through the host's review, as one; write them all only when accepted. */
async function reviewed(ctx: ToolContext, changes: ProposedChange[]): Promise<ToolOutput> {
  const names = changes.map((c) => c.path).join(", ");
  if (!ctx.review) return { text: "The edit was not applied: nobody can review it here." };
  const decision = await ctx.review(changes);
  if (decision === "rejected") return { text: `The user rejected the change to ${names}; nothing was written.` };
  const counts: string[] = [];
  for (const change of changes) {
    const lines = change.diff.split("\n");
    const added = lines.filter((l) => l.startsWith("+") && !l.startsWith("+++")).length;
    const removed = lines.filter((l) => l.startsWith("-") && !l.startsWith("---")).length;
    counts.push(`${change.path} (+${added} −${removed} lines)`);
    if (decision === "applied") continue;
    // Resolved again at write time: a symlink swapped in since the proposal cannot lead the write out.
    const { file } = resolveForEdit(ctx.target.root, change.path);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, change.after);
  }
  const warnings = changes.flatMap((c) => (c.warning ? [c.warning] : []));
  return {
    text: `The user accepted the change; written: ${counts.join(", ")}.${warnings.length ? ` Note: ${warnings.join(" ")}` : ""}`,
    data: { written: counts },
  };
}

/** The review warning of a file that configures commands, as a {@link ProposedChange} field. */
function withWarning(rel: string): { warning?: string } {
  const warning = executionWarning(rel);
  return warning ? { warning } : {};
}

/** Edits one `propose_edit` call may carry (one review). */
export const MAX_EDITS_PER_CALL = 8;

/**
 * The agent's edit tools: each call proposes changes that become one reviewed diff (`ToolContext.review`);
 * nothing is written before the user accepts it.
 */
/** `propose_edit`: exact, unique replacements in files, all of one call one review. */
export const PROPOSE_EDIT: ToolDefinition = {
  name: "propose_edit",
  title: "Propose an edit",
  description:
    "Replace exact, unique pieces of files' text with new text; all edits of one call are shown to the user as one change to accept.",
  parameters: {
    type: "object",
    properties: {
      edits: {
        type: "array",
        minItems: 1,
        maxItems: MAX_EDITS_PER_CALL,
        items: {
          type: "object",
          properties: {
            path: { type: "string", maxLength: 300 },
            old_text: { type: "string", maxLength: MAX_EDIT_CHARS },
            new_text: { type: "string", maxLength: MAX_EDIT_CHARS },
          },
          required: ["path", "old_text", "new_text"],
        },
      },
    },
    required: ["edits"],
  },
  permission: "edit",
  readOnly: false,
  async run(args, ctx) {
    const edits = Array.isArray(args["edits"]) ? (args["edits"] as Array<Record<string, unknown>>) : [];
    if (!edits.length) throw new ToolError("Give at least one edit: {path, old_text, new_text}.");
    // Edits of one file apply in order to its text; each file becomes one change of the review.
    const files = new Map<string, { before: string; after: string }>();
    for (const [i, edit] of edits.entries()) {
      const { file, rel } = resolveForEdit(ctx.target.root, edit["path"]);
      await refuseSecrets(ctx.target.root, rel);
      const current = files.get(rel) ?? { before: await readText(file, rel), after: "" };
      const text = files.has(rel) ? current.after : current.before;
      const oldText = String(edit["old_text"] ?? "");
      const which = edits.length > 1 ? `edit ${i + 1}: ` : "";
      if (!oldText) throw new ToolError(`${which}give the exact text to replace in old_text.`);
      const count = text.split(oldText).length - 1;
      if (count !== 1) {
        throw new ToolError(
          which +
            (count
              ? `old_text occurs ${count} times in ${rel}; include more lines so it is unique.`
              : `old_text is not in ${rel}; read the file and copy the text exactly.`),
        );
      }
      files.set(rel, { before: current.before, after: text.replace(oldText, () => String(edit["new_text"] ?? "")) });
    }
    return reviewed(
      ctx,
      [...files].map(([rel, { before, after }]) => ({
        path: rel,
        before,
        after,
        diff: unifiedDiff(rel, before, after),
        newFile: false,
        ...withWarning(rel),
      })),
    );
  },
};

/** `create_file`: a new file, reviewed before it is written. */
export const CREATE_FILE: ToolDefinition = {
  name: "create_file",
  title: "Create a file",
  description: "Create a new file with the given content (shown to the user to accept).",
  parameters: {
    type: "object",
    properties: { path: { type: "string", maxLength: 300 }, content: { type: "string", maxLength: MAX_EDIT_CHARS } },
    required: ["path", "content"],
  },
  permission: "edit",
  readOnly: false,
  async run(args, ctx) {
    const { file, rel } = resolveForEdit(ctx.target.root, args["path"]);
    if (
      await fs.stat(file).then(
        () => true,
        () => false,
      )
    ) {
      throw new ToolError(`${rel} already exists; use propose_edit to change it.`);
    }
    const content = String(args["content"] ?? "");
    const after = content.endsWith("\n") ? content : `${content}\n`;
    return reviewed(ctx, [
      {
        path: rel,
        before: "",
        after,
        diff: unifiedDiff(rel, "", after, { newFile: true }),
        newFile: true,
        ...withWarning(rel),
      },
    ]);
  },
};
