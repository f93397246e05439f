import { sharedParsers } from "../syntax/SyntaxParsers";
import { GRAMMARS } from "../../shared/languages";

/** VS Code language ids whose tree-sitter grammar (a key of `GRAMMARS`) has another name. */
const GRAMMAR_OF: Record<string, string> = { typescriptreact: "tsx", javascriptreact: "javascript" };

/** The grammar key for a VS Code language id, or undefined when Hearth has no grammar for it. */
export function grammarFor(languageId: string): string | undefined {
  const key = GRAMMAR_OF[languageId] ?? languageId;
  return GRAMMARS[key] ? key : undefined;
}

/**
 * Cut a multi-line FIM suggestion to its longest run of whole lines that adds no syntax error to the code
 * around it: with the run inserted there may be at most `check.baseline` tree-sitter errors (ERROR and MISSING
 * nodes), the count without it — the windows parsed are cut mid-construct, so the baseline is rarely 0. The
 * first line is always kept (a line being typed is rarely complete yet). Tries the whole suggestion first, then
 * one line fewer at a time.
 * @param check errors with a candidate inserted (undefined when it cannot tell: that candidate is not kept).
 * @returns the kept text and how many lines were cut.
 */
export function trimToSyntax(
  text: string,
  check: { baseline: number; errorsWith(middle: string): number | undefined },
): { text: string; linesCut: number } {
  const lines = text.split("\n");
  for (let n = lines.length; n >= 2; n--) {
    const candidate = lines.slice(0, n).join("\n");
    const e = check.errorsWith(candidate);
    if (e !== undefined && e <= check.baseline) return { text: candidate, linesCut: lines.length - n };
  }
  return { text: lines[0]!, linesCut: lines.length - 1 };
}

/**
 * Index of the first non-blank line of `lines` that is identical (indentation included) to the non-blank line
 * before it, or -1. `linePrefix` is what precedes the first line on its line (the cursor line's text before the
 * cursor, usually its indentation), so the first line compares as the whole line it completes. A model caught in
 * a generation loop repeats lines verbatim (a lab code model fine-tuned on multi-line middles wrote
 * `var index = index.length;` until its token budget ran out; lab/README.md); code rarely does, and the closing
 * brackets of nested blocks differ in indentation. After Continue's `stopAtRepeatingLines` (core/autocomplete/
 * filtering/streamTransforms/lineStream.ts), which drops consecutive duplicates and stops at the third; here the
 * first repeat ends the suggestion.
 */
export function repeatedLineIndex(lines: string[], linePrefix = ""): number {
  let last: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = i === 0 ? linePrefix + lines[0] : lines[i]!;
    if (!line.trim()) continue;
    if (line === last) return i;
    last = line;
  }
  return -1;
}

/**
 * A multi-line suggestion cut before its first repeated line ({@link repeatedLineIndex}), trailing whitespace
 * dropped; unchanged when no line repeats.
 */
export function cutAtRepeatedLine(text: string, linePrefix = ""): string {
  const lines = text.split("\n");
  const i = repeatedLineIndex(lines, linePrefix);
  return i < 0 ? text : lines.slice(0, i).join("\n").trimEnd();
}

/**
 * Characters of prefix and suffix the syntax check parses either side of the cursor, shrunk to whole lines:
 * the code a suggestion can break is near it, and this runs on every multi-line completion, whatever the size
 * of the file the client sent — one parse of ≤ 6 KB plus an incremental re-parse per candidate. Measured here
 * (2-core machine, tree-sitter's WASM build) in a 20 KB file: 2.6 ms for a suggestion kept whole, 28 ms for ten
 * lines of junk cut to one; parsing the 20 KB whole, as the first version did, took 35 ms and 138 ms.
 */
export const SYNTAX_WINDOW = { before: 4_000, after: 2_000 } as const;

/** {@link trimToSyntax} with the sidecar's tree-sitter grammars; unchanged text for a language without one. */
export async function trimToSyntaxOf(
  languageId: string,
  prefix: string,
  text: string,
  suffix: string,
): Promise<{ text: string; linesCut: number }> {
  const grammar = grammarFor(languageId);
  if (!grammar || !text.includes("\n")) return { text, linesCut: 0 };
  let before = prefix.slice(-SYNTAX_WINDOW.before);
  if (before.length < prefix.length) before = before.slice(before.indexOf("\n") + 1);
  let after = suffix.slice(0, SYNTAX_WINDOW.after);
  if (after.length < suffix.length && after.includes("\n")) after = after.slice(0, after.lastIndexOf("\n") + 1);
  const check = await (await sharedParsers()).insertionChecker(grammar, before, after);
  if (!check) return { text, linesCut: 0 };
  try {
    return trimToSyntax(text, check);
  } finally {
    check.dispose();
  }
}
