import { createTwoFilesPatch } from "diff";

/**
 * A proposed edit, reviewed by the user before anything changes: replace `original.slice(start, end)` with
 * `newText`. `original` is the whole document as it was when the edit was proposed, so the edit can be re-based
 * when the document changes meanwhile, or refused — never applied to the wrong lines.
 */
export interface EditProposal {
  /** Document text when the edit was proposed. */
  original: string;
  /** Offsets into `original` (UTF-16 code units, as VS Code and JS strings count). */
  start: number;
  end: number;
  newText: string;
}

/** Where the edit applies in the document as it is now, or why it cannot apply. */
export type Rebased = { start: number; end: number; moved: boolean } | { refused: string };

/**
 * Locate the proposal in `current`. Unchanged document: same offsets. Otherwise the replaced text is searched
 * for: exactly one occurrence → there; several → the one whose preceding and following 200 characters match
 * the original surroundings best, if one matches strictly better than the others; none → refused (the code the
 * edit replaces was changed).
 */
export function rebase(p: EditProposal, current: string): Rebased {
  if (current === p.original) return { start: p.start, end: p.end, moved: false };
  const old = p.original.slice(p.start, p.end);
  if (!old) {
    // A pure insertion: anchor on the text around it.
    return {
      refused:
        "The document changed since the edit was proposed, and an insertion has no text to find again. Run the action again.",
    };
  }
  const hits: number[] = [];
  for (let i = current.indexOf(old); i >= 0; i = current.indexOf(old, i + 1)) hits.push(i);
  if (hits.length === 0) {
    return {
      refused:
        "The code this edit replaces was changed since it was proposed. Run the action again on the current code.",
    };
  }
  const [only] = hits as [number];
  if (hits.length === 1) return { start: only, end: only + old.length, moved: only !== p.start };
  const before = p.original.slice(Math.max(0, p.start - 200), p.start);
  const after = p.original.slice(p.end, p.end + 200);
  const score = (i: number) =>
    commonSuffix(before, current.slice(Math.max(0, i - 200), i)) +
    commonPrefix(after, current.slice(i + old.length, i + old.length + 200));
  const ranked = hits.map((i) => ({ i, s: score(i) })).sort((a, b) => b.s - a.s);
  const [best, second] = ranked as [{ i: number; s: number }, { i: number; s: number }];
  if (best.s === second.s) {
    return {
      refused:
        "The document changed and the code this edit replaces now appears in several places. Run the action again.",
    };
  }
  return { start: best.i, end: best.i + old.length, moved: best.i !== p.start };
}

function commonPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

function commonSuffix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

/** The document text after applying the proposal at `at` (default: its own offsets). */
export function applyProposal(p: EditProposal, text = p.original, at: { start: number; end: number } = p): string {
  return text.slice(0, at.start) + p.newText + text.slice(at.end);
}

/**
 * A unified diff (`--- a/path`, `+++ b/path`, 3 lines of context) between two versions of a file, or with
 * `newFile` one that creates it (`--- /dev/null`). Names are quoted as git quotes them, so `git apply` takes it.
 */
export function unifiedDiff(path: string, before: string, after: string, options: { newFile?: boolean } = {}): string {
  // The `diff` package quotes and escapes names git would (non-ASCII, spaces, quotes), so `git apply` reads them.
  const from = options.newFile ? "/dev/null" : `a/${path}`;
  return createTwoFilesPatch(from, `b/${path}`, before, after, undefined, undefined, { context: 3 });
}

/** Offset of a 0-based line start in `text` (the end of the text for lines past the end). */
export function lineOffset(text: string, line: number): number {
  let offset = 0;
  for (let i = 0; i < line; i++) {
    const next = text.indexOf("\n", offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return offset;
}
