import path from "node:path";
import type { ChatSendResult, GenerationParams } from "../../shared/protocol";
import { lineOffset, type EditProposal } from "./proposal";
import type { SidecarApi } from "../sidecar/SidecarApi";
import { HearthError } from "../../shared/errors";
import { ErrorCodes } from "../../shared/protocol";
import { docStyle, renderPrompt, type PromptSpec } from "./promptFiles";
import { settingDefault } from "../../shared/settings";

/** The editor state an action runs on. Offsets are UTF-16 code units into `text`. */
export interface ActionInput {
  /** Path shown to the model and used for new files (relative to the workspace when there is one). */
  path: string;
  language: string;
  /** The whole document. */
  text: string;
  /** The selection; an empty one means the whole document for `selection` prompts. */
  selection: { start: number; end: number };
  /** Diagnostics in the selection, one per line ("line 3: error: …"). */
  diagnostics?: string;
  /** The user's answer to the prompt's `input` question. */
  input?: string;
}

/** What an action produced, for the host to show: a chat message, a reviewed edit, or a new file to review. */
export type ActionOutcome =
  | { kind: "chat"; prompt: string }
  | { kind: "edit"; proposal: EditProposal; result: ChatSendResult }
  | { kind: "newFile"; fileName: string; content: string; result: ChatSendResult };

/** Upper bound on tokens of a structured answer; strings are capped below it so the JSON always completes. */
export const DEFAULT_ACTION_MAX_TOKENS = settingDefault("actions.maxTokens");

const SYSTEM =
  "You are a careful senior software engineer working in the user's editor. Answer with the JSON object asked " +
  "for and nothing else. Code goes into JSON strings exactly as it should appear in the file.";

/** The range a `selection` / `file` prompt works on: the selection, or the whole document when it is empty. */
export function targetRange(spec: PromptSpec, input: ActionInput): { start: number; end: number } {
  const { start, end } = input.selection;
  if (spec.context === "file" || start === end) return { start: 0, end: input.text.length };
  return { start, end };
}

/** The prompt text of an action (what the model is asked). */
export function actionPrompt(spec: PromptSpec, input: ActionInput): string {
  const range = targetRange(spec, input);
  return renderPrompt(spec, {
    code: spec.context === "none" ? "" : input.text.slice(range.start, range.end),
    path: input.path,
    language: input.language,
    diagnostics: input.diagnostics?.trim() || "(none reported)",
    input: input.input ?? "",
    docStyle: docStyle(input.language),
  });
}

/**
 * The JSON schema of a mode's answer (node-llama-cpp's JSON-schema grammar). Every string is capped at
 * `maxTokens − 64` characters: a token produces at least one character, so the JSON is complete before the
 * token limit (the 64 are for the JSON around the strings; budgets under ~128 tokens leave little room).
 */
export function responseSchema(mode: PromptSpec["mode"], maxTokens: number): object | undefined {
  const long = { type: "string", maxLength: Math.max(32, maxTokens - 64) };
  switch (mode) {
    case "edit":
      return { type: "object", properties: { code: long } };
    case "doc":
      return { type: "object", properties: { comment: long } };
    case "newFile":
      return {
        type: "object",
        properties: {
          fileName: { type: "string", maxLength: 60 },
          content: { ...long, maxLength: Math.max(32, maxTokens - 128) },
        },
      };
    default:
      return undefined;
  }
}

/** Drop a Markdown code fence the model may have put around code anyway. */
export function stripFence(code: string): string {
  const m = /^\s*```[\w+-]*\n([\s\S]*?)\n?```\s*$/.exec(code);
  return m?.[1] ?? code;
}

const indentOf = (line: string) => /^[ \t]*/.exec(line)![0];

/** Give a doc comment its markers when the model left them out, indented like the code it documents. */
export function formatDocComment(comment: string, language: string, indent: string): string {
  let text = stripFence(comment).replace(/\s+$/, "");
  const lines = text.split("\n").map((l) => l.trim());
  const has = (re: RegExp) => re.test(lines[0] ?? "");
  if (language === "python") {
    if (!has(/^("""|''')/)) text = `"""${lines.join("\n")}"""`;
    else text = lines.join("\n");
  } else if (["go"].includes(language)) {
    text = lines.map((l) => (l.startsWith("//") ? l : `// ${l}`.trimEnd())).join("\n");
  } else if (["rust", "csharp"].includes(language)) {
    text = lines.map((l) => (l.startsWith("///") ? l : `/// ${l}`.trimEnd())).join("\n");
  } else if (["ruby", "shellscript", "yaml", "toml"].includes(language)) {
    text = lines.map((l) => (l.startsWith("#") ? l : `# ${l}`.trimEnd())).join("\n");
  } else if (!has(/^(\/\*|\/\/)/)) {
    text = ["/**", ...lines.map((l) => ` * ${l}`.trimEnd()), " */"].join("\n");
  } else {
    text = lines.map((l, i) => (i > 0 && l.startsWith("*") ? ` ${l}` : l)).join("\n");
  }
  return text
    .split("\n")
    .map((l) => (l ? indent + l : l))
    .join("\n");
}

/** A safe file name for generated tests next to `sourcePath` (the model's, sanitised, or `<name>.test.<ext>`). */
export function testFileName(suggested: unknown, sourcePath: string): string {
  const ext = path.extname(sourcePath);
  const base = path.basename(sourcePath, ext);
  const clean = typeof suggested === "string" ? path.basename(suggested.trim()).replace(/[^A-Za-z0-9._-]/g, "") : "";
  if (clean && /\.[A-Za-z0-9]+$/.test(clean) && !clean.startsWith(".") && clean !== path.basename(sourcePath))
    return clean;
  return `${base}.test${ext || ".txt"}`;
}

/**
 * Run an action: `chat` prompts come back as text for the host to send through its chat; the others ask the
 * model for JSON (grammar-constrained, so it always parses) and turn it into an {@link EditProposal} or a new
 * file, ready for review. Nothing is applied here.
 * @throws HearthError (NoModelLoaded, Cancelled, …); HearthError(Unsupported) when the answer was cut off.
 */
export async function runAction(
  api: SidecarApi,
  spec: PromptSpec,
  input: ActionInput,
  options: { params?: GenerationParams; signal?: AbortSignal } = {},
): Promise<ActionOutcome> {
  const prompt = actionPrompt(spec, input);
  if (spec.mode === "chat") return { kind: "chat", prompt };
  const maxTokens = options.params?.maxTokens ?? DEFAULT_ACTION_MAX_TOKENS;
  const result = await api.request(
    "chat/send",
    {
      streamId: `action-${spec.name}-${Date.now()}`,
      system: SYSTEM,
      messages: [{ role: "user", content: prompt }],
      params: { temperature: 0.2, ...options.params, maxTokens },
      responseSchema: responseSchema(spec.mode, maxTokens),
      // The answer copies most of the selection: let the engine draft from it (prompt lookup).
      draftFromPrompt: true,
    },
    options.signal,
  );
  if (result.stopReason === "cancelled") throw new HearthError(ErrorCodes.Cancelled, "Cancelled.");
  if (result.json === undefined || result.json === null || typeof result.json !== "object") {
    throw new HearthError(
      ErrorCodes.Unsupported,
      `The model's answer was cut off at ${maxTokens} tokens before it was complete.`,
      "Select less code, or raise 'hearth.actions.maxTokens'.",
    );
  }
  const json = result.json as Record<string, unknown>;
  const range = targetRange(spec, input);
  const original = input.text;
  if (spec.mode === "edit") {
    let code = stripFence(String(json["code"] ?? ""));
    const replaced = original.slice(range.start, range.end);
    if (replaced.endsWith("\n") && !code.endsWith("\n")) code += "\n";
    return { kind: "edit", proposal: { original, start: range.start, end: range.end, newText: code }, result };
  }
  if (spec.mode === "doc") {
    // Documentation goes above the first line of the selection (Python: below its `def`/`class` line).
    const lineStart = lineOffset(original, original.slice(0, range.start).split("\n").length - 1);
    const firstLineEnd = original.indexOf("\n", lineStart);
    const firstLine = original.slice(lineStart, firstLineEnd < 0 ? original.length : firstLineEnd);
    const body = original.slice(lineStart, range.end);
    if (input.language === "python" && firstLineEnd >= 0 && firstLineEnd < range.end) {
      const comment = formatDocComment(String(json["comment"] ?? ""), "python", `${indentOf(firstLine)}    `);
      const newText = `${firstLine}\n${comment}\n${original.slice(firstLineEnd + 1, range.end)}`;
      return { kind: "edit", proposal: { original, start: lineStart, end: range.end, newText }, result };
    }
    const comment = formatDocComment(String(json["comment"] ?? ""), input.language, indentOf(firstLine));
    return {
      kind: "edit",
      proposal: { original, start: lineStart, end: range.end, newText: `${comment}\n${body}` },
      result,
    };
  }
  return {
    kind: "newFile",
    fileName: testFileName(json["fileName"], input.path),
    content: stripFence(String(json["content"] ?? "")),
    result,
  };
}
