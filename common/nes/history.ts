import { createTwoFilesPatch, parsePatch } from "diff";
import type { NesEdit, NesEditEvent } from "../../shared/protocol";

/** Edits kept per file, and in all (the prompt shows the newest; Sweep's models were trained on up to 10). */
export const MAX_EVENTS_PER_FILE = 8;
export const MAX_EVENTS = 10;
/** Characters of one side of an edit kept (a larger edit — a paste, a generated file — is not history). */
export const MAX_EVENT_CHARS = 8 * 1024;
/** Keystrokes further apart than this, ms, or more than this many lines apart, are separate edits. */
export const COALESCE_MS = 2_000;
export const COALESCE_LINES = 2;
/** A single change event that touches more ranges than this is a formatter or a refactoring tool, not typing. */
export const BULK_CHANGES = 16;

/** One change of a document, in the coordinates of the document before it (VS Code's `contentChanges` items). */
export interface LineChange {
  /** 0-based first and last line of the replaced range, and the columns. */
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
  /** The text put in its place. */
  text: string;
}

/** Who made a change: the user typing, an undo or redo, a bulk tool (formatter), or Hearth itself. */
export type ChangeSource = "user" | "undo" | "redo" | "bulk" | "hearth";

interface Pending {
  path: string;
  /** First line of the edit, and its original lines (as they were before the burst). */
  start: number;
  original: string[];
  /** Last line of the edit in the current document (inclusive; start - 1 for a pure deletion). */
  end: number;
  at: number;
}

/**
 * The user's recent edits per file, as small before/after hunks with timestamps — what next-edit prompts show
 * (`NesEditEvent`). Cheap on the typing path: the tracker keeps each open document's lines and applies each change
 * to them by splicing (no whole-document copy or diff per keystroke); keystrokes close to each other in time and
 * lines are coalesced into one edit. Noise is dropped: undo and redo (and the edit they undo), bulk changes
 * (formatters: one event with many ranges), and Hearth's own edits (an accepted suggestion).
 */
export class EditHistory {
  private readonly docs = new Map<string, string[]>();
  private readonly events: NesEditEvent[] = [];
  private pending: Pending | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Start tracking a document (its current text). */
  open(path: string, text: string): void {
    this.docs.set(path, text.split(/\r?\n/));
  }

  /** Stop tracking a document (closed): its pending edit is kept as history. */
  close(path: string): void {
    if (this.pending?.path === path) this.flush();
    this.docs.delete(path);
  }

  /**
   * One change event of `path` (its changes in the order VS Code lists them, each in the coordinates of the
   * document before the event). A document not opened is ignored.
   */
  change(path: string, changes: readonly LineChange[], source: ChangeSource = "user"): void {
    const lines = this.docs.get(path);
    if (!lines) return;
    const kind: ChangeSource = source === "user" && changes.length > BULK_CHANGES ? "bulk" : source;
    if (kind !== "user") {
      // Not the user's own typing: close what was being typed, and let the change move the document only.
      this.flush();
      if (kind === "undo") this.dropUndone(path);
    }
    // VS Code lists the changes of one event so that applying them in order from the last is safe.
    const ordered = [...changes].sort((a, b) => b.startLine - a.startLine || b.startColumn - a.startColumn);
    for (const c of ordered) {
      const before = lines.slice(c.startLine, c.endLine + 1);
      const head = (lines[c.startLine] ?? "").slice(0, c.startColumn);
      const tail = (lines[c.endLine] ?? "").slice(c.endColumn);
      const inserted = `${head}${c.text}${tail}`.split(/\r?\n/);
      lines.splice(c.startLine, c.endLine - c.startLine + 1, ...inserted);
      if (kind === "user") this.record(path, c.startLine, before, inserted.length);
    }
  }

  /** Record one user change: lines `[start, start + before.length)` replaced by `count` lines. */
  private record(path: string, start: number, before: string[], count: number): void {
    const now = this.now();
    const delta = count - before.length;
    const oldEnd = start + before.length - 1;
    const p = this.pending;
    if (
      p &&
      p.path === path &&
      now - p.at <= COALESCE_MS &&
      start <= p.end + COALESCE_LINES &&
      oldEnd >= p.start - COALESCE_LINES
    ) {
      // Lines of the change outside the pending edit are still as they were originally.
      if (start < p.start) p.original.unshift(...before.slice(0, p.start - start));
      if (oldEnd > p.end) p.original.push(...before.slice(before.length - (oldEnd - p.end)));
      p.start = Math.min(p.start, start);
      p.end = Math.max(p.end, oldEnd) + delta;
      p.at = now;
      return;
    }
    this.flush();
    this.pending = { path, start, original: before, end: start + count - 1, at: now };
  }

  /** Close the pending edit into history (nothing when it changed nothing or is too large). */
  flush(): void {
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    const event = this.eventOf(p);
    if (!event) return;
    this.events.push(event);
    const ofFile = this.events.filter((e) => e.path === p.path);
    if (ofFile.length > MAX_EVENTS_PER_FILE) this.events.splice(this.events.indexOf(ofFile[0]!), 1);
    while (this.events.length > MAX_EVENTS) this.events.shift();
  }

  private eventOf(p: Pending): NesEditEvent | undefined {
    const lines = this.docs.get(p.path);
    if (!lines) return undefined;
    const original = p.original.join("\n");
    const updated = lines.slice(p.start, p.end + 1).join("\n");
    if (original === updated || original.length > MAX_EVENT_CHARS || updated.length > MAX_EVENT_CHARS) return undefined;
    return { path: p.path, original, updated, line: p.start, at: p.at };
  }

  /** An undo takes back the newest edit of the file: it leaves the history (the pair is noise). */
  private dropUndone(path: string): void {
    for (let i = this.events.length - 1; i >= 0; i--) {
      if (this.events[i]!.path === path) {
        this.events.splice(i, 1);
        return;
      }
    }
  }

  /** The history, oldest first, with the edit being typed now as the newest (not yet closed). */
  recent(): NesEditEvent[] {
    const pending = this.pending ? this.eventOf(this.pending) : undefined;
    return pending ? [...this.events, pending] : [...this.events];
  }

  /** The tracked lines of a document (tests). */
  linesOf(path: string): readonly string[] | undefined {
    return this.docs.get(path);
  }
}

/**
 * Edits from a history file (`hearth next-edit --history`): JSON lines of `{path, original, updated, line?}`, or a
 * unified diff (`git diff` output) whose hunks become one edit each (context and `-` lines before, context and `+`
 * lines after, at the hunk's new start line).
 * @throws Error naming the line of a JSON line that is not an edit, or a diff that cannot be parsed.
 */
export function parseHistory(text: string, fallbackPath: string): NesEditEvent[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  if (trimmed.startsWith("{")) {
    return trimmed.split(/\r?\n/).flatMap((line, i) => {
      if (!line.trim()) return [];
      let value: Partial<NesEditEvent>;
      try {
        value = JSON.parse(line) as Partial<NesEditEvent>;
      } catch {
        throw new Error(`history line ${i + 1} is not JSON`);
      }
      if (typeof value.original !== "string" || typeof value.updated !== "string")
        throw new Error(`history line ${i + 1} needs "original" and "updated" strings`);
      return [
        {
          path: typeof value.path === "string" ? value.path : fallbackPath,
          original: value.original,
          updated: value.updated,
          ...(typeof value.line === "number" ? { line: value.line } : {}),
        },
      ];
    });
  }
  const events: NesEditEvent[] = [];
  for (const file of parsePatch(text)) {
    const name = (file.newFileName ?? file.oldFileName ?? fallbackPath).replace(/^[ab]\//, "");
    for (const h of file.hunks) {
      const kept = (sign: string) => h.lines.filter((l) => l[0] === " " || l[0] === sign).map((l) => l.slice(1));
      events.push({
        path: name === "/dev/null" ? fallbackPath : name,
        original: kept("-").join("\n"),
        updated: kept("+").join("\n"),
        line: Math.max(0, h.newStart - 1),
      });
    }
  }
  return events;
}

/** A predicted edit of `text` as a unified diff of `path` (empty for no edit), made with the `diff` package. */
export function editAsDiff(path: string, text: string, edit: NesEdit | null): string {
  if (!edit) return "";
  return createTwoFilesPatch(`a/${path}`, `b/${path}`, text, applyEdit(text, edit), "", "", { context: 3 });
}

/** `text` with the edit's lines replaced (line breaks as `\n`). */
export function applyEdit(text: string, edit: NesEdit): string {
  const lines = text.split("\n");
  const added = edit.text === "" ? [] : edit.text.replace(/\n$/, "").split("\n");
  lines.splice(edit.startLine, edit.endLine - edit.startLine, ...added);
  return lines.join("\n");
}
