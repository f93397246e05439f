import { createHash } from "node:crypto";
import { constants as fsConstants, promises as fs, type Dirent } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import ignore from "ignore";
import { languageOf } from "../../shared/languages";
import { settingDefault } from "../../shared/settings";
import { isWithin } from "../../shared/workspacePath";
import {
  isIgnored,
  isIgnoredPath,
  isSecretsFile,
  isSecretsPath,
  mayWalkFolder,
  readRules,
  type Rules,
} from "../../shared/workspaceFiles";

/**
 * Exclusions that apply when the client sends none (VS Code's own `files.exclude` / `search.exclude` defaults
 * that the workspace-file policy does not already cover: its never-walked folders apply whatever is sent).
 */
export const DEFAULT_EXCLUDES: readonly string[] = ["**/.DS_Store", "**/*.code-search"];

/** Default size cap for one file, bytes (the `hearth.index.maxFileBytes` setting). */
export const DEFAULT_MAX_FILE_BYTES = settingDefault("index.maxFileBytes");

const LOCKFILES = new Set([
  "package-lock.json",
  "npm-shrinkwrap.json",
  "yarn.lock",
  "pnpm-lock.yaml",
  "bun.lockb",
  "Cargo.lock",
  "composer.lock",
  "Gemfile.lock",
  "poetry.lock",
  "Pipfile.lock",
  "go.sum",
  "flake.lock",
  "packages.lock.json",
]);
const BINARY_EXTENSIONS = new Set(
  (
    "png jpg jpeg gif bmp ico webp avif tiff psd pdf zip gz tgz bz2 xz 7z rar jar war class exe dll so dylib node " +
    "wasm o a lib obj bin dat gguf safetensors pt onnx pkl npy npz mp3 mp4 wav ogg flac mov avi mkv webm woff woff2 " +
    "ttf otf eot sqlite db lance arrow parquet"
  ).split(" "),
);
const GENERATED_SUFFIXES = [".min.js", ".min.css", ".min.mjs", ".bundle.js", ".map", ".d.ts.map", ".snap"];

/** A file discovery decided to index. `path` is relative to the root, with `/` separators. */
export interface DiscoveredFile {
  path: string;
  absPath: string;
  sizeBytes: number;
  mtimeMs: number;
  language: string;
}

/** A path discovery (or reading) left out, with a reason shown by `hearth index --verbose` and the log. */
export interface SkippedFile {
  path: string;
  reason: string;
}

export interface DiscoverOptions {
  /** Glob patterns (VS Code `files.exclude` / `search.exclude` keys, gitignore-like) relative to the root. */
  exclude?: readonly string[];
  /** Files larger than this are skipped, bytes. Default {@link DEFAULT_MAX_FILE_BYTES}. */
  maxFileBytes?: number;
  /** Stop walking and return what was found so far. */
  signal?: AbortSignal;
}

/** Expand `{a,b}` alternatives (VS Code globs have them, gitignore patterns do not). */
function expandBraces(pattern: string): string[] {
  const m = /\{([^{}]*)\}/.exec(pattern);
  if (!m) return [pattern];
  return m[1]!
    .split(",")
    .flatMap((alt) => expandBraces(pattern.slice(0, m.index) + alt + pattern.slice(m.index + m[0].length)));
}

/**
 * Walk `root` and list the files worth indexing under the workspace-file policy (`shared/workspaceFiles.ts`:
 * never-walked folders, secrets files, nested `.gitignore` and `.hearthignore` files), the `exclude` globs, the size cap and a list of never-indexed names (lockfiles, minified bundles, binary
 * extensions). Symlinks are followed once and only inside `root`: a link back to a folder already visited is
 * skipped ("symlink loop"), and a link whose real target lies outside `root`'s real path (`/`, another project,
 * a secret) is skipped ("symlink out of the folder"), so a cloned repository cannot make Hearth walk or index
 * files outside it.
 * Unreadable folders are skipped with their error. Never throws for a problem below `root`.
 *
 * @throws Error when `root` itself is not a readable folder.
 */
export async function discoverFiles(
  root: string,
  options: DiscoverOptions = {},
): Promise<{ files: DiscoveredFile[]; skipped: SkippedFile[] }> {
  const rootAbs = path.resolve(root);
  const stat = await fs.stat(rootAbs);
  if (!stat.isDirectory()) throw new Error(`${rootAbs} is not a folder.`);
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const excludes = ignore().add(
    (options.exclude ?? DEFAULT_EXCLUDES).flatMap(expandBraces).map((p) => p.replace(/^\.\//, "")),
  );
  const files: DiscoveredFile[] = [];
  const skipped: SkippedFile[] = [];
  const rootReal = await fs.realpath(rootAbs);
  const visited = new Set<string>([rootReal]);

  // `linked`: the folder was reached through a symlink, so its files' real paths differ from their names.
  const walk = async (
    dirAbs: string,
    dirRel: string,
    parentRules: readonly Rules[],
    linked: boolean,
  ): Promise<void> => {
    if (options.signal?.aborted) return;
    const own = await readRules(dirAbs, dirRel);
    const rules = own ? [...parentRules, own] : parentRules;
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dirAbs, { withFileTypes: true });
    } catch (error) {
      skipped.push({
        path: dirRel || ".",
        reason: `unreadable folder (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const rel = dirRel ? `${dirRel}/${entry.name}` : entry.name;
      const abs = path.join(dirAbs, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await fs.stat(abs).catch(() => undefined);
        if (!target) {
          skipped.push({ path: rel, reason: "broken symlink" });
          continue;
        }
        isDir = target.isDirectory();
        isFile = target.isFile();
        const real = await fs.realpath(abs).catch(() => undefined);
        if (!real || !isWithin(rootReal, real)) {
          skipped.push({ path: rel, reason: `symlink out of the folder (to ${real ?? "an unreadable target"})` });
          continue;
        }
      }
      if (isDir && !mayWalkFolder(entry.name)) continue;
      if (excludes.ignores(isDir ? `${rel}/` : rel) || isIgnored(rules, rel, isDir)) continue;
      if (isDir) {
        const real = await fs.realpath(abs).catch(() => undefined);
        if (!real || visited.has(real)) {
          skipped.push({ path: rel, reason: real ? "symlink loop (folder already visited)" : "unreadable folder" });
          continue;
        }
        visited.add(real);
        await walk(abs, rel, rules, linked || entry.isSymbolicLink());
        continue;
      }
      if (!isFile) {
        if (languageOf(entry.name))
          skipped.push({ path: rel, reason: "not a regular file (a FIFO, socket or device)" });
        continue;
      }
      // A secrets file by its name, or by its real name behind a symlink (`notes.txt` → `.env`).
      if (isSecretsFile(rel) || ((linked || entry.isSymbolicLink()) && (await isSecretsPath(rootAbs, rel)))) {
        skipped.push({ path: rel, reason: "may hold secrets (never indexed)" });
        continue;
      }
      const reason = skipReasonByName(entry.name);
      if (reason) {
        skipped.push({ path: rel, reason });
        continue;
      }
      const language = languageOf(entry.name);
      if (!language) {
        skipped.push({ path: rel, reason: "not a known source or text file type" });
        continue;
      }
      const st = await fs.stat(abs).catch(() => undefined);
      if (!st) {
        skipped.push({ path: rel, reason: "unreadable" });
        continue;
      }
      if (st.size > maxBytes) {
        skipped.push({
          path: rel,
          reason: `too large (${Math.round(st.size / 1024)} KiB > ${Math.round(maxBytes / 1024)} KiB cap)`,
        });
        continue;
      }
      files.push({ path: rel, absPath: abs, sizeBytes: st.size, mtimeMs: st.mtimeMs, language });
    }
  };
  await walk(rootAbs, "", [], false);
  return { files, skipped };
}

/** Why a file name alone rules a file out (lockfile, minified bundle, binary extension), or undefined. */
export function skipReasonByName(name: string): string | undefined {
  if (LOCKFILES.has(name)) return "lockfile";
  const lower = name.toLowerCase();
  if (GENERATED_SUFFIXES.some((s) => lower.endsWith(s))) return "generated or minified (by name)";
  const ext = lower.slice(lower.lastIndexOf(".") + 1);
  if (lower.includes(".") && BINARY_EXTENSIONS.has(ext)) return "binary (by extension)";
  return undefined;
}

/** Whether discovery would index `rel` (relative path) under `root`, for single-file updates from a watcher. */
export async function isIndexable(root: string, rel: string, options: DiscoverOptions = {}): Promise<boolean> {
  const excludes = ignore().add((options.exclude ?? DEFAULT_EXCLUDES).flatMap(expandBraces));
  if (excludes.ignores(rel) || (await isSecretsPath(root, rel))) return false;
  // A path that leads out of the folder through a symlink (of the file or of a folder above it) is not indexed.
  const real = await fs.realpath(path.join(root, rel)).catch(() => undefined);
  if (real && !isWithin(await fs.realpath(root).catch(() => path.resolve(root)), real)) return false;
  if (await isIgnoredPath(root, rel)) return false;
  return !skipReasonByName(rel.split("/").at(-1)!) && languageOf(rel) !== undefined;
}

/** A file's text plus its content hash, or the reason it cannot be indexed. */
export type ReadResult = { text: string; hash: string } | { skip: string };

/**
 * Read a file for indexing: rejects binary content (a NUL byte in the first 8 KiB), text that is not valid
 * UTF-8, minified or generated code (very long lines, `@generated` / `DO NOT EDIT` markers near the top) and
 * files over the size cap. Never throws: an unreadable file is a `skip` with its error code.
 * `hash` is the sha256 of the bytes (hex), used to skip unchanged files.
 */
export async function readIndexableFile(absPath: string, maxFileBytes = DEFAULT_MAX_FILE_BYTES): Promise<ReadResult> {
  let bytes: Buffer;
  let handle: FileHandle | undefined;
  try {
    // Non-blocking open, then a check of what was opened: a path that became a FIFO or a device since
    // discovery must not block the read forever.
    handle = await fs.open(absPath, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const st = await handle.stat();
    if (!st.isFile()) return { skip: "not a regular file (a FIFO, socket or device)" };
    if (st.size > maxFileBytes)
      return { skip: `too large (${Math.round(st.size / 1024)} KiB > ${Math.round(maxFileBytes / 1024)} KiB cap)` };
    bytes = await handle.readFile();
  } catch (error) {
    return { skip: `unreadable (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  } finally {
    await handle?.close().catch(() => undefined);
  }
  if (bytes.length > maxFileBytes)
    return { skip: `too large (grew past the ${Math.round(maxFileBytes / 1024)} KiB cap)` };
  return classifyContent(bytes);
}

/** The content checks of {@link readIndexableFile}, on bytes already read. */
export function classifyContent(bytes: Buffer): ReadResult {
  if (bytes.subarray(0, 8192).includes(0)) return { skip: "binary (NUL bytes)" };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { skip: "not UTF-8 text" };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const head = text.slice(0, 600);
  if (/@generated\b|DO NOT EDIT|auto-generated by/i.test(head)) return { skip: "generated (marker in header)" };
  const lines = text.split("\n");
  const longest = lines.reduce((m, l) => Math.max(m, l.length), 0);
  if (longest > 2000 && text.length / lines.length > 300) return { skip: "minified (very long lines)" };
  return { text, hash: createHash("sha256").update(bytes).digest("hex") };
}
