import { HearthError } from "../../shared/errors";
import { ErrorCodes } from "../../shared/protocol";

/** OS errors that mean the storage, not the index, is at fault: errno name or Rust's `(os error N)`. */
const STORAGE_ERRORS: ReadonlyArray<{ pattern: RegExp; what: string; hint: string }> = [
  {
    pattern: /ENOSPC|EDQUOT|No space left|Disk quota|os error (28|122)\b/i,
    what: "the disk is full",
    hint: "Free some space (or set 'hearth.index.storageDir' to another disk), then index again.",
  },
  {
    pattern: /EFBIG|File too large|os error 27\b/i,
    what: "a file grew past the size this process may write (ulimit -f)",
    hint: "Raise the file-size limit, or set 'hearth.index.storageDir' to another disk.",
  },
  {
    pattern: /EROFS|Read-only file system|os error 30\b/i,
    what: "its file system is read-only",
    hint: "Set 'hearth.index.storageDir' (CLI: --index-dir) to a writable folder.",
  },
  {
    pattern: /EACCES|EPERM|Permission denied|os error (1|13)\b/i,
    what: "permission was denied",
    hint: "Make the folder writable, or set 'hearth.index.storageDir' (CLI: --index-dir) to another folder.",
  },
  {
    pattern: /ENOTDIR|EEXIST.*mkdir|Not a directory|os error 20\b/i,
    what: "a part of its path is a file, not a folder",
    hint: "Set 'hearth.index.storageDir' (CLI: --index-dir) to a folder.",
  },
];

/** What LanceDB says when a table's files are missing, truncated or undecodable. */
const DAMAGE =
  /LanceError\(IO\)|lance error|was not found|Not found:|not have sufficient data|Invalid range|corrupt|decode|protobuf|manifest|Arrow error|invalid (file|footer)|unexpected end/i;

/**
 * One line of a native error's text: the part before "Caused by", without Rust source locations
 * (`/rustc/…/function.rs:250:5`, `/usr/local/cargo/registry/…rs:129:20`), at most 160 characters.
 */
export function nativeErrorLine(message: string): string {
  const line = (message.split(/\s*Caused by:/)[0] ?? message)
    .replace(/,?\s*\/(?:rustc|usr\/local\/cargo|home\/[^/\s]+\/\.cargo)\/\S+?\.rs:\d+:\d+/g, "")
    .replace(/\s+/g, " ")
    .trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

/**
 * The error an index operation on the database folder `dir` reports: HearthErrors as they are; storage
 * faults (full disk, read-only, permissions) as `IndexStorage`; a commit another process won as `IndexBusy`;
 * LanceDB's "cannot read this table" errors as `IndexDamaged` with the rebuild to do; anything else as
 * `Internal` with one clean line. The raw text goes to the log, never to the user.
 * @param log receives the original message (multi-line, with Rust locations) for the sidecar's log.
 */
export function indexError(dir: string, error: unknown, log: (message: string) => void): HearthError {
  if (error instanceof HearthError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const raw = `${(error as NodeJS.ErrnoException | undefined)?.code ?? ""} ${message}`;
  log(`index: ${dir}: ${raw}`);
  const storage = STORAGE_ERRORS.find((s) => s.pattern.test(raw));
  if (storage)
    return new HearthError(ErrorCodes.IndexStorage, `Cannot write the index at ${dir}: ${storage.what}.`, storage.hint);
  if (/commit conflict|conflicting transaction/i.test(raw)) {
    return new HearthError(
      ErrorCodes.IndexBusy,
      `Another process changed the index at ${dir} while this one was writing it.`,
      "Try again; only one window or `hearth index` should build a folder's index at a time.",
    );
  }
  if (DAMAGE.test(raw)) {
    return new HearthError(
      ErrorCodes.IndexDamaged,
      `The index at ${dir} is damaged (${nativeErrorLine(message)}).`,
      "Rebuild it: 'Hearth: Re-index Workspace' in VS Code, or `hearth index <folder> --force`.",
    );
  }
  return new HearthError(ErrorCodes.Internal, nativeErrorLine(message) || "The index operation failed.");
}
