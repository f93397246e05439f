import { promises as fs } from "node:fs";
import { readIndexableFile } from "./discover";

interface Entry {
  /** What identifies this version of the file: inode, size, mtime and ctime (ns). */
  version: string;
  lines: string[] | undefined;
  chars: number;
}

/**
 * The lines of files that search hits are checked against, kept while the file stays the same: a search at
 * 100k chunks re-read its hits' files every time (TypeScript's 9 MB `typescript.js` among them), ~20 ms of a
 * 50 ms budget. An entry is used only while the file's inode, size, mtime and ctime (nanoseconds) are what they
 * were when it was read, so an edit is seen at once; the least recently used entries go past `maxChars`.
 */
export class FileLines {
  private readonly entries = new Map<string, Entry>();
  private chars = 0;

  /** @param maxChars characters of file text kept in all (default 32 Mi, about 64 MiB of strings). */
  constructor(private readonly maxChars = 32 * 2 ** 20) {}

  /**
   * The file's lines (split on `\n`), or undefined when it is gone, unreadable, binary or not UTF-8
   * (see readIndexableFile). Never throws.
   */
  async get(absPath: string): Promise<string[] | undefined> {
    const st = await fs.stat(absPath, { bigint: true }).catch(() => undefined);
    if (!st?.isFile()) {
      this.drop(absPath);
      return undefined;
    }
    const version = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    const hit = this.entries.get(absPath);
    if (hit?.version === version) {
      this.entries.delete(absPath); // re-inserted: most recently used last
      this.entries.set(absPath, hit);
      return hit.lines;
    }
    this.drop(absPath);
    const read = await readIndexableFile(absPath, Number.MAX_SAFE_INTEGER);
    const lines = "text" in read ? read.text.split("\n") : undefined;
    const chars = "text" in read ? read.text.length : 0;
    if (chars <= this.maxChars) {
      this.entries.set(absPath, { version, lines, chars });
      this.chars += chars;
      for (const [key, entry] of this.entries) {
        if (this.chars <= this.maxChars) break;
        this.entries.delete(key);
        this.chars -= entry.chars;
      }
    }
    return lines;
  }

  private drop(absPath: string): void {
    const entry = this.entries.get(absPath);
    if (!entry) return;
    this.entries.delete(absPath);
    this.chars -= entry.chars;
  }
}

/** The sidecar's one cache of hit files (every CodeIndex of the process shares it). */
export const hitFileLines = new FileLines();
