import * as path from "node:path";
import * as vscode from "vscode";
import { EDIT_TOOLS, READ_TOOLS, type AgentTool } from "../../common/agent/agentTools";
import { ToolError, type CommandPolicy, type ProposedChange, type ReviewDecision } from "../../common/tools/definition";
import { RUN_COMMAND_TOOL } from "../../common/agent/runCommand";
import type { EditProposal } from "../../common/actions/proposal";
import type { ReviewController, ReviewItem } from "../actions/ReviewController";

/**
 * The chat view's agent mode (`/agent <task>`) on VS Code: the tools the loop gets here, edits through Hearth's
 * reviewed diff, commands confirmed in a modal dialog, and the transcript as chat markdown.
 */

/** The smallest replaced range that turns `before` into `after`, as a proposal the review can re-base. */
export function proposalOf(change: ProposedChange): EditProposal {
  const { before, after } = change;
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let end = 0;
  while (
    end < before.length - start &&
    end < after.length - start &&
    before[before.length - 1 - end] === after[after.length - 1 - end]
  )
    end++;
  return { original: before, start, end: before.length - end, newText: after.slice(start, after.length - end) };
}

/**
 * The agent's review on VS Code: every change of one call in one review (the diff editor for one file, the
 * changes editor for several), applied as one `WorkspaceEdit` on Accept and saved, since the agent's next reads
 * come from disk. Stop rejects a review still open.
 */
export function vscodeReview(
  review: ReviewController,
  root: string,
  signal: AbortSignal,
): (changes: ProposedChange[]) => Promise<ReviewDecision> {
  return async (changes) => {
    const items: ReviewItem[] = changes.map((c) => ({
      target: vscode.Uri.file(path.join(root, c.path)),
      kind: c.newFile ? "newFile" : "edit",
      proposal: c.newFile ? { original: "", start: 0, end: 0, newText: c.after } : proposalOf(c),
    }));
    const onAbort = () => void review.reject();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const outcome = await review.propose({
        ...items[0]!,
        ...(items.length > 1 ? { more: items.slice(1) } : {}),
        title: `Agent: ${changes.map((c) => c.path).join(", ")}${changes.some((c) => c.warning) ? " ⚠ configures commands" : ""}`,
      });
      if (outcome !== "accepted") return "rejected";
      for (const item of items) await (await vscode.workspace.openTextDocument(item.target)).save();
      return "applied";
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  };
}

/** `run_command` on VS Code: never in an untrusted workspace; each command shown in a modal unless allowlisted. */
export function vscodeCommandPolicy(allowlist: string[]): CommandPolicy {
  return {
    trusted: vscode.workspace.isTrusted,
    allowlist,
    confirm: async (command) =>
      (await vscode.window.showWarningMessage(
        "Hearth's agent wants to run this command in the workspace folder:",
        { modal: true, detail: command },
        "Run",
      )) === "Run",
  };
}

const SEVERITY = ["error", "warning", "info", "hint"] as const;

/** `get_diagnostics`: VS Code's problems (errors and warnings first) for one file or the whole workspace. */
export const DIAGNOSTICS_TOOL: AgentTool = {
  name: "get_diagnostics",
  description: "VS Code's problems (errors, warnings) in a file, or in every open file with path ''.",
  parameters: { type: "object", properties: { path: { type: "string", maxLength: 300 } }, required: ["path"] },
  permission: "read",
  async run(args, ctx) {
    const rel = String(args["path"] ?? "").replace(/^\.?\/*$/, "");
    const uri = rel ? vscode.Uri.file(path.join(ctx.target.root, rel)) : undefined;
    const entries: Array<[vscode.Uri, readonly vscode.Diagnostic[]]> = uri
      ? [[uri, vscode.languages.getDiagnostics(uri)]]
      : vscode.languages.getDiagnostics();
    const rows = entries
      .filter(([uri]) => !path.relative(ctx.target.root, uri.fsPath).startsWith(".."))
      .flatMap(([uri, list]) =>
        list.map((d) => ({
          severity: d.severity as number,
          text: `${path.relative(ctx.target.root, uri.fsPath)}:${d.range.start.line + 1}:${d.range.start.character + 1} ${
            SEVERITY[d.severity] ?? "info"
          }: ${d.message}${d.source ? ` (${d.source})` : ""}`,
        })),
      )
      .sort((a, b) => a.severity - b.severity)
      .slice(0, 100);
    return rows.length ? rows.map((r) => r.text).join("\n") : `No problems${rel ? ` in ${rel}` : ""}.`;
  },
};

/** JSON-schema keys node-llama-cpp's grammar understands; a tool whose schema uses others is not offered. */
const GRAMMAR_KEYS = new Set([
  "type",
  "properties",
  "required",
  "items",
  "enum",
  "const",
  "description",
  "title",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "oneOf",
  "anyOf",
  "additionalProperties",
  "default",
  "format",
  "minimum",
  "maximum",
]);

function grammarSafe(schema: unknown, depth = 0): boolean {
  if (depth > 8 || typeof schema !== "object" || schema === null) return depth > 0 && typeof schema === "boolean";
  const s = schema as Record<string, unknown>;
  if (Object.keys(s).some((k) => !GRAMMAR_KEYS.has(k))) return false;
  const props = s["properties"] as Record<string, unknown> | undefined;
  if (props && !Object.values(props).every((p) => grammarSafe(p, depth + 1))) return false;
  if (s["items"] !== undefined && !grammarSafe(s["items"], depth + 1)) return false;
  for (const key of ["oneOf", "anyOf"]) {
    const list = s[key];
    if (list !== undefined && !(Array.isArray(list) && list.every((x) => grammarSafe(x, depth + 1)))) return false;
  }
  return true;
}

/**
 * Another extension's or an MCP server's tool (`vscode.lm.tools`) as an agent tool: its schema with every
 * optional property made nullable (the grammar writes every property; null means "not given" and is dropped
 * before the call), run through `vscode.lm.invokeTool` after the user confirms the call and its input.
 * @returns undefined for a tool without an object schema the grammar can follow.
 */
export function otherExtensionTool(info: vscode.LanguageModelToolInformation): AgentTool | undefined {
  const schema = info.inputSchema as { type?: unknown; properties?: Record<string, object>; required?: string[] };
  if (schema && (schema.type !== "object" || !grammarSafe(schema))) return undefined;
  const properties = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  const name = info.name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
  return {
    name,
    description: (info.description || info.name).split("\n")[0]!.slice(0, 300),
    parameters: {
      type: "object",
      properties: Object.fromEntries(
        Object.entries(properties).map(([k, v]) => [k, required.has(k) ? v : { oneOf: [v, { type: "null" }] }]),
      ),
      required: Object.keys(properties),
    },
    permission: "tools",
    async run(args, ctx) {
      const input = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== null));
      const ok =
        (await vscode.window.showWarningMessage(
          `Hearth's agent wants to call the tool '${info.name}'${info.tags.length ? ` (${info.tags.join(", ")})` : ""}:`,
          { modal: true, detail: JSON.stringify(input, null, 2).slice(0, 2000) },
          "Allow",
        )) === "Allow";
      if (!ok) return `The user declined the call to ${info.name}; it did not run.`;
      const cancel = new vscode.CancellationTokenSource();
      const onAbort = () => cancel.cancel();
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      try {
        const result = await vscode.lm.invokeTool(info.name, { input, toolInvocationToken: undefined }, cancel.token);
        return result.content
          .map((part) => (part instanceof vscode.LanguageModelTextPart ? part.value : ""))
          .filter(Boolean)
          .join("\n");
      } catch (error) {
        throw new ToolError(`${info.name} failed: ${(error as Error).message}`);
      } finally {
        ctx.signal.removeEventListener("abort", onAbort);
        cancel.dispose();
      }
    },
  };
}

/**
 * The tools `/agent` gets on VS Code: the read tools with `get_diagnostics`, the reviewed edit tools,
 * `run_command` in a trusted workspace, and (setting `hearth.agent.otherTools`) other extensions' and MCP
 * servers' tools — never Hearth's own `hearth_*` tools, which the read tools already cover.
 */
export function vscodeAgentTools(otherTools: boolean): AgentTool[] {
  const tools = [...READ_TOOLS, DIAGNOSTICS_TOOL, ...EDIT_TOOLS];
  if (vscode.workspace.isTrusted) tools.push(RUN_COMMAND_TOOL);
  if (otherTools && vscode.lm?.tools) {
    const taken = new Set(tools.map((t) => t.name));
    for (const info of vscode.lm.tools) {
      if (info.name.startsWith("hearth_")) continue;
      const tool = otherExtensionTool(info);
      if (tool && !taken.has(tool.name)) {
        taken.add(tool.name);
        tools.push(tool);
      }
    }
  }
  return tools;
}

/** `read_file` of a secrets file on VS Code: a modal naming the file; only "Read It" allows it. */
export async function vscodeConfirmSecret(rel: string): Promise<boolean> {
  return (
    (await vscode.window.showWarningMessage(
      `Hearth's agent wants to read ${rel}, which may hold secrets (keys, tokens, passwords).`,
      { modal: true, detail: "Its text would be sent to the chat model." },
      "Read It",
    )) === "Read It"
  );
}
