/**
 * The fill-in-the-middle benchmark of `npm run eval:completion`: spans of whole lines removed from real source
 * files at seeded positions (comment lines excluded), and a syntax check of a file with a suggestion put back.
 */
import ts from "typescript";
import { seededRandom } from "../test/fixtures/synthetic/ggufWriter";

/** A removed span: the file is prefix + middle + suffix. */
export interface FimCase {
  file: string;
  prefix: string;
  middle: string;
  suffix: string;
  /** The non-blank line(s) before the middle, as many as the middle has lines (the "repeat" baseline). */
  previous: string;
}

const isCode = (line: string) => {
  const t = line.trim();
  return t.length > 0 && !t.startsWith("*") && !t.startsWith("/*") && !t.startsWith("//");
};

/** Draw `count` cases of `lines` whole lines (after the first one's indentation) from the files, seeded. */
export function drawCases(
  files: Array<{ name: string; text: string }>,
  count: number,
  lines: [number, number],
  seed: number,
): FimCase[] {
  const random = seededRandom(seed);
  const out: FimCase[] = [];
  for (let attempts = 0; out.length < count && attempts < count * 50; attempts++) {
    const f = files[Math.floor(random() * files.length)]!;
    const all = f.text.split("\n");
    const n = lines[0] + Math.floor(random() * (lines[1] - lines[0] + 1));
    const li = Math.floor(random() * all.length);
    if (li + n > all.length || !all.slice(li, li + n).every(isCode)) continue;
    const indent = all[li]!.length - all[li]!.trimStart().length;
    const start = all.slice(0, li).reduce((a, l) => a + l.length + 1, 0) + indent;
    const middle = all
      .slice(li, li + n)
      .join("\n")
      .slice(indent);
    const before = all.slice(0, li).filter((l) => l.trim());
    const previous = before
      .slice(-n)
      .map((l) => l.trim())
      .join("\n" + " ".repeat(indent));
    out.push({
      file: f.name,
      prefix: f.text.slice(0, start),
      middle,
      suffix: f.text.slice(start + middle.length),
      previous,
    });
  }
  return out;
}

/** TypeScript's syntax errors in `text` parsed as JavaScript (`start`: offset of each, in UTF-16 code units). */
function syntaxErrors(text: string): Array<{ start: number }> {
  const sf = ts.createSourceFile("x.js", text, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  return (sf as unknown as { parseDiagnostics?: Array<{ start: number }> }).parseDiagnostics ?? [];
}

/** Whether `text` parses as JavaScript without syntax errors. */
export function parses(text: string): boolean {
  return syntaxErrors(text).length === 0;
}

/**
 * Whether `prefix + text` is a valid beginning of a JavaScript program: TypeScript's parser reports no syntax
 * error before the end of the text, only what a truncated program lacks there ("'}' expected" at the end).
 * Measures whether lines written after `prefix` are well-formed code in their place, whatever follows them.
 */
export function continuesCleanly(prefix: string, text: string): boolean {
  const all = prefix + text.replace(/\s+$/, "");
  return syntaxErrors(all).every((d) => d.start >= all.length);
}
