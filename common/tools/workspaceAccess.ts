/**
 * How tools reach the workspace: every path confined to the folder (`shared/workspacePath.ts`), the one
 * workspace-file policy (`shared/workspaceFiles.ts`: never-walked folders, secrets, ignore files), and bounded
 * reads (size cap, binary files refused).
 */
import { existsSync, promises as fs, realpathSync } from "node:fs";
import path from "node:path";
import { insideRoot } from "../../shared/workspacePath";
import {
  isIgnored,
  isSecretsFile,
  isSecretsPath,
  mayWalkFolder,
  readRules,
  rulesDownTo,
  type Rules,
} from "../../shared/workspaceFiles";
import { MAX_FILE_BYTES, ToolError } from "./definition";

/**
 * `rel` under the workspace folder `root`, confined to it (`insideRoot`: no `..`, absolute path or symlink out)
 * and not a secrets file. @throws ToolError saying which.
 */
export function resolveIn(root: string, rel: unknown, allowSecret = false): { file: string; rel: string } {
  if (typeof rel !== "string" || !rel) throw new ToolError("Give a path relative to the workspace folder.");
  if (rel.includes("\0")) throw new ToolError("A path cannot hold a NUL character; give the file's name as it is.");
  const clean = rel.replace(/^\.\/+/, "");
  const file = insideRoot(root, clean);
  if (!file) throw new ToolError(`'${rel}' is outside the workspace folder; use a path inside it.`);
  if (!allowSecret && isSecretsFile(clean)) throw new ToolError(`'${rel}' may hold secrets; Hearth does not read it.`);
  return { file, rel: clean };
}

/** Folders whose files can run commands when a tool (git, hg, svn) next runs: never edited by Hearth. */
const NEVER_EDITED_FOLDERS = new Set([".git", ".hg", ".svn"]);

/**
 * `rel` under `root` for an edit tool: {@link resolveIn}'s checks, and never a file under `.git/` (or `.hg/`,
 * `.svn/`), whose hooks and `core.fsmonitor` run commands the next time git runs.
 * @throws ToolError saying which.
 */
export function resolveForEdit(root: string, rel: unknown): { file: string; rel: string } {
  const check = (shown: string, parts: string[]) => {
    const folder = parts.find((part) => NEVER_EDITED_FOLDERS.has(part));
    if (folder) {
      throw new ToolError(
        `'${shown}' is inside ${folder}/, whose files can run commands (hooks, core.fsmonitor); Hearth does not edit them.`,
      );
    }
  };
  // By the name given (before the secrets rule, which also covers .git/config), then by where a write would land
  // (`src/../.git/x`, or a link to .git).
  if (typeof rel === "string") check(rel, rel.split(/[\\/]+/));
  const resolved = resolveIn(root, rel);
  check(resolved.rel, realRelative(root, resolved.file).split(path.sep));
  return resolved;
}

/** `file`'s path relative to `root`'s real path, through the real path of its nearest existing ancestor. */
function realRelative(root: string, file: string): string {
  let existing = file;
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  const real = path.join(realpathSync(existing), path.relative(existing, file));
  return path.relative(realpathSync(root), real);
}

/**
 * The text of a workspace file for a tool (the agent's, `hearth mcp`'s): confined to `root`, not a secrets,
 * binary, missing or over-{@link MAX_FILE_BYTES} file. @throws ToolError with the sentence to show.
 */
export async function readWorkspaceText(root: string, relPath: unknown): Promise<{ rel: string; text: string }> {
  const { file, rel } = resolveIn(root, relPath);
  await refuseSecrets(root, rel);
  return { rel, text: await readText(file, rel) };
}

/**
 * Refuse a file that is a secrets file by its real path (a symlink named `notes.txt` to `.env`); the name itself
 * was checked by {@link resolveIn}. @throws ToolError saying so.
 */
export async function refuseSecrets(root: string, rel: string): Promise<void> {
  if (await isSecretsPath(root, rel)) throw new ToolError(`'${rel}' may hold secrets; Hearth does not read it.`);
}

/** The text of `file` (shown as `rel`). @throws ToolError when missing, not a file, over {@link MAX_FILE_BYTES} or binary. */
export async function readText(file: string, rel: string): Promise<string> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat) throw new ToolError(`'${rel}' does not exist.`);
  if (!stat.isFile()) throw new ToolError(`'${rel}' is not a file.`);
  if (stat.size > MAX_FILE_BYTES) throw new ToolError(`'${rel}' is over ${MAX_FILE_BYTES} bytes; read a range of it.`);
  const text = await fs.readFile(file, "utf8");
  if (text.includes("\u0000")) throw new ToolError(`'${rel}' is a binary file.`);
  return text;
}

/**
 * Files under `dir` (relative paths) under the workspace-file policy (`shared/workspaceFiles.ts`: never-walked
 * folders, secrets files, `.gitignore` / `.hearthignore`); at most `limit`.
 */
export async function walk(root: string, dir: string, limit: number): Promise<string[]> {
  const out: string[] = [];
  const queue: Array<{ dir: string; rules: Rules[] }> = [{ dir, rules: await rulesDownTo(root, dir) }];
  while (queue.length && out.length < limit) {
    const current = queue.shift()!;
    const entries = await fs.readdir(path.join(root, current.dir), { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = current.dir ? `${current.dir}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!mayWalkFolder(e.name) || isIgnored(current.rules, rel, true)) continue;
        const own = await readRules(path.join(root, rel), rel);
        queue.push({ dir: rel, rules: own ? [...current.rules, own] : current.rules });
      } else if (e.isFile() && !isSecretsFile(rel) && !isIgnored(current.rules, rel, false)) out.push(rel);
      if (out.length >= limit) break;
    }
  }
  return out;
}
