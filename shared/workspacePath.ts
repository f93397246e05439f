import { realpathSync } from "node:fs";
import path from "node:path";

/**
 * `relPath` resolved under the folder `root`, or undefined when it would lead outside it: an absolute path, `..`
 * segments that climb above `root`, or a symbolic link whose real target lies outside `root`'s real path — of the
 * path itself when it exists, else of its nearest existing ancestor (a new file in a folder that is a link out of
 * the workspace is outside too). What a model names (a code block's `// file: ../../.bashrc`, a clicked location,
 * a file to create) goes through here before anything opens, edits or creates it. A path with a NUL character is
 * refused too (no file has one).
 */
export function insideRoot(root: string, relPath: string): string | undefined {
  if (!relPath || relPath.includes("\0") || path.isAbsolute(relPath) || /^[a-zA-Z]:/.test(relPath)) return undefined;
  const resolved = path.resolve(root, relPath);
  if (!isWithin(path.resolve(root), resolved)) return undefined;
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return undefined;
  }
  // The path, or the nearest ancestor of it that exists: what a write there would really go through.
  for (let existing = resolved; ; existing = path.dirname(existing)) {
    let real: string;
    try {
      real = realpathSync(existing);
    } catch {
      if (path.dirname(existing) === existing) return undefined;
      continue;
    }
    return isWithin(realRoot, real) ? resolved : undefined;
  }
}

/** Whether `target` is `root` or lies below it (absolute paths; pass real paths to see through symlinks). */
export function isWithin(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  // `..` and `../x` climb out; `..e.ts` is a file name that starts with two dots, inside.
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
