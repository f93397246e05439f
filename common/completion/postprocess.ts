/**
 * Post-processing of raw FIM output into what the editor shows as ghost text. Pure functions, unit-tested.
 * Rules (what users of Copilot / llama.vscode / Tabby expect): one line when the cursor has code after it on its
 * line, several lines at an empty line that opens a block; stop at the end of the current block; never repeat
 * the suffix or the previous line; do not duplicate closing brackets the suffix already has.
 */

/** Leading whitespace of a line. */
function indentOf(line: string): string {
  return /^[ \t]*/.exec(line)?.[0] ?? "";
}

/** The part of the current line before the cursor, and after it. */
export function cursorLine(prefix: string, suffix: string): { before: string; after: string } {
  return { before: prefix.slice(prefix.lastIndexOf("\n") + 1), after: suffix.split("\n", 1)[0]! };
}

/**
 * Whether to ask for (and keep) several lines: only when the rest of the cursor's line is empty (or only closing
 * brackets) and the text before the cursor on its line is blank or ends a block opener (`{ ( [ :` or `=>`).
 */
export function wantsMultiline(prefix: string, suffix: string): boolean {
  const { before, after } = cursorLine(prefix, suffix);
  if (after.trim() && !/^[\s)\]}]*;?$/.test(after)) return false;
  if (!before.trim()) return true;
  return /(\{|\(|\[|:|=>)\s*$/.test(before);
}

export type DropReason = "empty" | "repeats suffix" | "repeats previous line";

/**
 * Clean a raw suggestion.
 * @returns the text to show, or `{dropped}` with the rule that removed it.
 */
export function postprocess(
  raw: string,
  prefix: string,
  suffix: string,
  multiline: boolean,
): { text: string } | { dropped: DropReason } {
  let text = raw.replace(/\r\n/g, "\n");
  const { before, after } = cursorLine(prefix, suffix);
  if (!multiline) {
    text = text.split("\n", 1)[0]!;
  } else {
    text = cutAtBlockEnd(text, before);
  }
  text = text.replace(/[ \t]+$/gm, "").replace(/\n+$/, "");

  // Closing brackets/quotes the suffix already has at the cursor must not be typed twice.
  const closers = /^[)\]}"'`;,]+/.exec(after.trimStart())?.[0] ?? "";
  for (let n = closers.length; n > 0; n--) {
    if (!multiline && text.endsWith(closers.slice(0, n))) {
      text = text.slice(0, -n);
      break;
    }
  }
  if (!text.trim()) return { dropped: "empty" };

  const firstLine = text.split("\n", 1)[0]!.trim();
  const suffixHead = suffix.trimStart();
  if (
    suffixHead &&
    (suffixHead.startsWith(text.trim()) || (firstLine.length > 3 && suffixHead.split("\n", 1)[0]!.trim() === firstLine))
  ) {
    return { dropped: "repeats suffix" };
  }
  const previousLine = prefix
    .split("\n")
    .slice(0, -1)
    .reverse()
    .find((l) => l.trim())
    ?.trim();
  const completedLine = (before + text.split("\n", 1)[0]).trim();
  if (previousLine && completedLine === previousLine) return { dropped: "repeats previous line" };
  return { text };
}

/**
 * Keep the lines of a multi-line suggestion that belong to the block at the cursor: stop before the first line
 * indented less than the block's body (the closing line of an enclosing block), keeping a closing bracket line at
 * the block opener's own indentation.
 */
function cutAtBlockEnd(text: string, before: string): string {
  const lines = text.split("\n");
  const base = indentOf(before).length;
  const out = [lines[0]];
  for (const line of lines.slice(1)) {
    if (!line.trim()) {
      out.push(line);
      continue;
    }
    const indent = indentOf(line).length;
    if (indent < base) {
      break;
    }
    out.push(line);
    if (indent === base && /^[\s]*[)\]}]/.test(line) && base > 0) break;
  }
  return out.join("\n");
}
