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
 * around it: `prefix + lines + suffix` may have at most as many tree-sitter errors (ERROR and MISSING nodes) as
 * `prefix + suffix` alone — the windows a client sends are often cut mid-construct, so the baseline is rarely 0.
 * The first line is always kept (a line being typed is rarely complete yet). Tries the whole suggestion first,
 * then one line fewer at a time: at most one parse per line.
 * @param errors syntax errors in a text; undefined when it cannot tell (then nothing is cut).
 * @returns the kept text and how many lines were cut.
 */
export async function trimToSyntax(
  prefix: string,
  text: string,
  suffix: string,
  errors: (text: string) => Promise<number | undefined>,
): Promise<{ text: string; linesCut: number }> {
  const lines = text.split("\n");
  if (lines.length < 2) return { text, linesCut: 0 };
  const baseline = await errors(prefix + suffix);
  if (baseline === undefined) return { text, linesCut: 0 };
  for (let n = lines.length; n >= 2; n--) {
    const candidate = lines.slice(0, n).join("\n");
    const e = await errors(prefix + candidate + suffix);
    if (e !== undefined && e <= baseline) return { text: candidate, linesCut: lines.length - n };
  }
  return { text: lines[0], linesCut: lines.length - 1 };
}

/**
 * Characters of prefix and suffix the syntax check parses, either side of the cursor: the same windows for the
 * baseline and every candidate, so a whole file sent by `hearth complete` costs what an editor window does
 * (tree-sitter parses this much in about a millisecond).
 */
export const SYNTAX_WINDOW_CHARS = 16_000;

/** {@link trimToSyntax} with the sidecar's tree-sitter grammars; unchanged text for a language without one. */
export async function trimToSyntaxOf(languageId: string, prefix: string, text: string, suffix: string): Promise<{ text: string; linesCut: number }> {
  const grammar = grammarFor(languageId);
  if (!grammar || !text.includes("\n")) return { text, linesCut: 0 };
  const chunker = await sharedChunker();
  const before = prefix.slice(-SYNTAX_WINDOW_CHARS);
  const after = suffix.slice(0, SYNTAX_WINDOW_CHARS);
  return trimToSyntax(before, text, after, (t) => chunker.syntaxErrors(grammar, t));
}
