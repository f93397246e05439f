import type { NesEdit, NesEditEvent } from "../../shared/protocol";

/** Sweep's window: 10 lines above and below the cursor line (21 in all), what its models were trained on. */
export const DEFAULT_WINDOW_RADIUS = 10;

/** The document's lines without their breaks (`\r\n` and `\n` alike). */
export function documentLines(text: string): string[] {
  return text.split(/\r?\n/);
}

/**
 * The window of lines around the cursor: `radius` above and below, shifted to stay inside the document (a cursor
 * near the top gets more lines below). @returns lines `[start, end)`.
 */
export function cursorWindow(lineCount: number, cursorLine: number, radius: number): { start: number; end: number } {
  const size = Math.min(lineCount, 2 * radius + 1);
  const line = Math.min(Math.max(0, cursorLine), lineCount - 1);
  const start = Math.max(0, Math.min(line - radius, lineCount - size));
  return { start, end: start + size };
}

/**
 * The window as it was before the last edit (Sweep's `original/` block): the document with the edit's `updated`
 * hunk put back to `original` at its line, the window's lines taken from there (as many more or fewer as the edit
 * added or removed). The current window when the edit is elsewhere, unknown, or does not match the document.
 */
export function windowBeforeEdit(
  lines: readonly string[],
  window: { start: number; end: number },
  last: NesEditEvent | undefined,
): string {
  const current = lines.slice(window.start, window.end).join("\n");
  if (!last || last.line === undefined) return current;
  const updated = documentLines(last.updated.replace(/\n$/, ""));
  const original = documentLines(last.original.replace(/\n$/, ""));
  const at = last.line;
  const touches = at < window.end && at + updated.length > window.start;
  const matches = updated.every((l, i) => lines[at + i] === l);
  if (!touches || !matches) return current;
  const before = [...lines.slice(0, at), ...original, ...lines.slice(at + updated.length)];
  const end = Math.max(window.start, window.end + original.length - updated.length);
  return before.slice(window.start, end).join("\n");
}

/**
 * The edit between the window and its rewrite, narrowed to the lines that differ (common leading and trailing
 * lines dropped). @returns null when the rewrite is the window.
 */
export function narrowEdit(
  lines: readonly string[],
  window: { start: number; end: number },
  rewrite: string,
): NesEdit | null {
  const before = lines.slice(window.start, window.end);
  const after = documentLines(rewrite);
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head++;
  let tail = 0;
  while (
    tail < before.length - head &&
    tail < after.length - head &&
    before[before.length - 1 - tail] === after[after.length - 1 - tail]
  )
    tail++;
  if (head === before.length && head === after.length) return null;
  const added = after.slice(head, after.length - tail);
  return {
    startLine: window.start + head,
    endLine: window.end - tail,
    text: added.map((l) => `${l}\n`).join(""),
  };
}
