import { structuredPatch } from "diff";
import type { NesEditEvent, NesFormat } from "../../../shared/protocol";

/**
 * What every next-edit prompt format is written from: the document as lines, the window of lines the model may
 * rewrite, the cursor, the window as it was before the last edit, and the recent edits.
 */
export interface NesPromptInput {
  /** The file's path relative to the workspace, `/`-separated. */
  path: string;
  /** The document's lines, without their line breaks. */
  lines: readonly string[];
  /** The window the model rewrites: lines `[start, end)` of `lines`. */
  window: { start: number; end: number };
  /** 0-based cursor line and UTF-16 column. */
  cursor: { line: number; column: number };
  /** The window's text before the last edit (lines joined with `\n`); the current window when unknown. */
  original: string;
  /** Recent edits, oldest first. */
  history: readonly NesEditEvent[];
}

/**
 * A piece of a prompt: text that is tokenized as text (the user's code, never read as control tokens), or
 * `{special}`: a control token of the model's vocabulary (`<|file_sep|>`), tokenized as one token where the model
 * has it.
 */
export type PromptPart = string | { special: string };

/** A prompt for a raw continuation (a model trained on the format), or chat messages answered as JSON. */
export type NesPrompt =
  | {
      kind: "raw";
      parts: PromptPart[];
      /** Strings that end the answer (not part of it). */
      stop: string[];
      /** The rewritten window (lines joined with `\n`) from the model's answer; undefined when it cannot be read. */
      parse(answer: string): string | undefined;
    }
  | {
      kind: "chat";
      system: string;
      user: string;
      /** The JSON schema the answer is generated under (a grammar on the embedded engine). */
      schema: object;
      parse(answer: string): string | undefined;
    };

/** One format: the name it goes by and its prompt builder. */
export interface NesFormatModule {
  name: NesFormat;
  build(input: NesPromptInput): NesPrompt;
}

/** The prompt as one string (how a remote engine receives it, and what the golden tests compare). */
export function promptText(parts: readonly PromptPart[]): string {
  return parts.map((p) => (typeof p === "string" ? p : p.special)).join("");
}

/** The window's current text: its lines joined with `\n` (no final line break). */
export function windowText(input: NesPromptInput): string {
  return input.lines.slice(input.window.start, input.window.end).join("\n");
}

/** `text` with `marker` inserted at the cursor (which lies inside the window). */
export function windowWithCursor(input: NesPromptInput, marker: string): string {
  const rows = input.lines.slice(input.window.start, input.window.end);
  const i = input.cursor.line - input.window.start;
  if (i >= 0 && i < rows.length) {
    const row = rows[i]!;
    const column = Math.min(Math.max(0, input.cursor.column), row.length);
    rows[i] = row.slice(0, column) + marker + row.slice(column);
  }
  return rows.join("\n");
}

/**
 * An edit as unified-diff hunks (`@@ -a,b +c,d @@` and its `-`/`+`/` ` lines, each ending in `\n`), computed with
 * the `diff` package; line numbers count from the event's `line` when it is known. Empty for an edit that changes
 * nothing.
 */
export function unifiedHunks(event: NesEditEvent, context = 3): string {
  const withBreak = (t: string) => (t === "" || t.endsWith("\n") ? t : `${t}\n`);
  const patch = structuredPatch("a", "b", withBreak(event.original), withBreak(event.updated), "", "", { context });
  const offset = event.line ?? 0;
  let out = "";
  for (const h of patch.hunks) {
    const range = (start: number, count: number) => `${start + (count === 0 ? 0 : offset)},${count}`;
    out += `@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@\n`;
    for (const line of h.lines) if (!line.startsWith("\\")) out += `${line}\n`;
  }
  return out;
}

/** The edits that change something, each with its unified-diff hunks ({@link unifiedHunks}). */
export function editsWithHunks(history: readonly NesEditEvent[]): Array<{ event: NesEditEvent; hunks: string }> {
  return history.map((event) => ({ event, hunks: unifiedHunks(event) })).filter(({ hunks }) => hunks);
}

/** `text` without one line break at its end. */
export function trimFinalBreak(text: string): string {
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}
