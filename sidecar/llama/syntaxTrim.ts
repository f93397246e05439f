import { sharedChunker } from "../index/chunker";
import { GRAMMARS } from "../index/languages";

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
export function trimToSyntax(text: string, check: { baseline: number; errorsWith(middle: string): number | undefined }): { text: string; linesCut: number } {
  const lines = text.split("\n");
  for (let n = lines.length; n >= 2; n--) {
    const candidate = lines.slice(0, n).join("\n");
    const e = check.errorsWith(candidate);
    if (e !== undefined && e <= check.baseline) return { text: candidate, linesCut: lines.length - n };
  }
  return { text: lines[0], linesCut: lines.length - 1 };
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
export async function trimToSyntaxOf(languageId: string, prefix: string, text: string, suffix: string): Promise<{ text: string; linesCut: number }> {
  const grammar = grammarFor(languageId);
  if (!grammar || !text.includes("\n")) return { text, linesCut: 0 };
  let before = prefix.slice(-SYNTAX_WINDOW.before);
  if (before.length < prefix.length) before = before.slice(before.indexOf("\n") + 1);
  let after = suffix.slice(0, SYNTAX_WINDOW.after);
  if (after.length < suffix.length && after.includes("\n")) after = after.slice(0, after.lastIndexOf("\n") + 1);
  const check = await (await sharedChunker()).insertionChecker(grammar, before, after);
  if (!check) return { text, linesCut: 0 };
  try {
    return trimToSyntax(text, check);
  } finally {
    check.dispose();
  }
}
