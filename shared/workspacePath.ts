import { realpathSync } from "node:fs";
import path from "node:path";

/**
 * `relPath` resolved under the folder `root`, or undefined when it would lead outside it: an absolute path, `..`
 * segments that climb above `root`, or — for a path that exists — a symbolic link whose real target lies outside
 * `root`'s real path. What a model names (a code block's `// file: ../../.bashrc`, a clicked location) goes
 * through here before anything opens or edits it. A path with a NUL character is refused too (no file has one).
 */
export function insideRoot(root: string, relPath: string): string | undefined {
  if (!relPath || relPath.includes("\0") || path.isAbsolute(relPath) || /^[a-zA-Z]:/.test(relPath)) return undefined;
  const resolved = path.resolve(root, relPath);
  if (!isWithin(path.resolve(root), resolved)) return undefined;
  let real: string;
  try {
    real = realpathSync(resolved);
  } catch {
    return resolved; // not there (yet): the lexical check is all there is to check
  }
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return undefined;
  }
  return isWithin(realRoot, real) ? resolved : undefined;
}

/** Whether `target` is `root` or lies below it (absolute paths; pass real paths to see through symlinks). */
export function isWithin(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  // `..` and `../x` climb out; `..e.ts` is a file name that starts with two dots, inside.
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
