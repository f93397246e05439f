/**
 * The one workspace-file policy: what Hearth may walk, index or read in a workspace folder, whoever walks it —
 * the sidecar's index (`sidecar/search/discover.ts`) and the agent's and `hearth mcp`'s tools
 * (`common/tools/workspaceAccess.ts`). A cloned repository is hostile input: its ignore files are honoured, but
 * nothing it says can make Hearth walk version-control internals or dependency trees, or hand a secrets file to
 * a model.
 *
 * - {@link NEVER_WALKED_FOLDERS}: folders no walker enters, whatever the exclude settings say.
 * - {@link isSecretsFile}: files never indexed and never listed; the agent's `read_file` reads one only when the
 *   user allows it.
 * - {@link readRules} / {@link isIgnored} / {@link isIgnoredPath}: nested `.gitignore` and `.hearthignore` files,
 *   with git's semantics (the deepest rule that says anything about a path wins).
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import ignore, { type Ignore } from "ignore";

/**
 * Folder names never walked: version control (`.git`, `.svn`, `.hg`, `CVS`), dependency trees (`node_modules`,
 * `bower_components`, Python's `.venv`), caches (`__pycache__`, `.cache`) and Hearth's own `.hearth`.
 */
export const NEVER_WALKED_FOLDERS: ReadonlySet<string> = new Set([
  ".git",
  ".svn",
  ".hg",
  "CVS",
  "node_modules",
  "bower_components",
  ".venv",
  "__pycache__",
  ".cache",
  ".hearth",
]);

/**
 * Files that may hold secrets, by name: `.env*`, private keys, certificates and keystores, SSH keys, package
 * registry and git credentials (`.npmrc`, `.pypirc`, `.netrc`, `.git-credentials`, `.pgpass`).
 */
const SECRET_NAMES =
  /(^|\/)(\.env(\..*)?|.*\.(pem|key|p12|pfx|jks|keystore|kdbx)|id_(rsa|dsa|ed25519|ecdsa)|\.npmrc|\.pypirc|\.netrc|\.git-credentials|\.pgpass)$/i;
/** Files that may hold secrets by where they are: cloud, container and git credentials and configs. */
const SECRET_PATHS = /(^|\/)(\.aws\/(credentials|config)|\.docker\/config\.json|\.kube\/config|\.git\/config)$/i;

/**
 * Whether `rel` (a path relative to the workspace folder, `/` separators) names a file that may hold secrets.
 * This looks at the name only; {@link isSecretsPath} also follows symlinks.
 */
export function isSecretsFile(rel: string): boolean {
  return SECRET_NAMES.test(rel) || SECRET_PATHS.test(rel);
}

/**
 * Whether the file `rel` under `root` is, or leads to, a secrets file: its own path, or — through a symlink of
 * the file or of a folder above it — its real path (a link named `notes.txt` to `.env` is a secrets file too).
 */
export async function isSecretsPath(root: string, rel: string): Promise<boolean> {
  if (isSecretsFile(rel)) return true;
  const [realRoot, real] = await Promise.all([
    fs.realpath(root).catch(() => path.resolve(root)),
    fs.realpath(path.join(root, rel)).catch(() => undefined),
  ]);
  if (!real) return false;
  const realRel = path.relative(realRoot, real).split(path.sep).join("/");
  return isSecretsFile(realRel) || isSecretsFile(path.basename(real));
}

/** Files whose content is run later by a tool the user runs, with what runs them. */
const EXECUTION_CONFIG: Array<[RegExp, string]> = [
  [/(^|\/)package\.json$/, "its scripts run with npm, pnpm or yarn"],
  [/(^|\/)\.vscode\/(tasks|launch|settings)\.json$/, "VS Code runs its tasks, launch configurations and tool paths"],
  [/(^|\/)\.envrc$/, "direnv runs it on entering the folder"],
  [/(^|\/)(GNU)?[Mm]akefile$/, "make runs its recipes"],
  [/(^|\/)\.github\/workflows\/[^/]+\.ya?ml$/, "CI runs its steps"],
  [/(^|\/)\.husky\//, "git hooks run it"],
  [/(^|\/)\.pre-commit-config\.ya?ml$/, "pre-commit runs its hooks"],
];

/**
 * Why an edit of `rel` deserves a second look — the file configures commands that run later (npm scripts, VS Code
 * tasks, direnv, make, CI, git hooks) — or undefined. Other agents warn the same way; Hearth shows it with the
 * review.
 */
export function executionWarning(rel: string): string | undefined {
  const hit = EXECUTION_CONFIG.find(([re]) => re.test(rel));
  return hit
    ? `${rel} configures commands that run later (${hit[1]}): check what the change makes them run.`
    : undefined;
}

/** Whether a walker may enter the folder called `name` (see {@link NEVER_WALKED_FOLDERS}). */
export function mayWalkFolder(name: string): boolean {
  return !NEVER_WALKED_FOLDERS.has(name);
}

/** The ignore rules of one folder's `.gitignore` and `.hearthignore`. */
export interface Rules {
  /** Folder the rules' patterns are relative to, relative to the root ("" for the root). */
  base: string;
  ig: Ignore;
}

/** The rules of `dirAbs`'s `.gitignore` and `.hearthignore` (patterns relative to `base`); undefined when none. */
export async function readRules(dirAbs: string, base: string): Promise<Rules | undefined> {
  let text = "";
  for (const name of [".gitignore", ".hearthignore"]) {
    text += `${await fs.readFile(path.join(dirAbs, name), "utf8").catch(() => "")}\n`;
  }
  if (!text.trim()) return undefined;
  return { base, ig: ignore().add(text) };
}

/** gitignore semantics across nested files: the deepest rule that says anything about the path wins. */
export function isIgnored(rules: readonly Rules[], rel: string, isDir: boolean): boolean {
  let ignored = false;
  for (const r of rules) {
    const sub = r.base ? (rel.startsWith(`${r.base}/`) ? rel.slice(r.base.length + 1) : undefined) : rel;
    if (sub === undefined) continue;
    const t = r.ig.test(isDir ? `${sub}/` : sub);
    if (t.ignored) ignored = true;
    else if (t.unignored) ignored = false;
  }
  return ignored;
}

/** The ignore rules that apply under folder `dir` (relative to `root`): the root's and each folder's down to it. */
export async function rulesDownTo(root: string, dir: string): Promise<Rules[]> {
  const rules: Rules[] = [];
  const parts = dir ? dir.split("/") : [];
  for (let i = 0; i <= parts.length; i++) {
    const base = parts.slice(0, i).join("/");
    const r = await readRules(path.join(root, base), base);
    if (r) rules.push(r);
  }
  return rules;
}

/**
 * Whether the file `rel` (relative to `root`) is left out by the policy on its way from the root: a folder above
 * it that is never walked or is ignored, or the file itself ignored by a `.gitignore` / `.hearthignore`.
 * Secrets files are a separate question ({@link isSecretsFile}).
 */
export async function isIgnoredPath(root: string, rel: string): Promise<boolean> {
  const dirs = rel.split("/").slice(0, -1);
  if (dirs.some((d) => !mayWalkFolder(d))) return true;
  const rules = await rulesDownTo(root, dirs.join("/"));
  for (let i = 1; i <= dirs.length; i++) if (isIgnored(rules, dirs.slice(0, i).join("/"), true)) return true;
  return isIgnored(rules, rel, false);
}
