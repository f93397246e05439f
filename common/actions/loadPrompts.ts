import { promises as fs } from "node:fs";
import path from "node:path";
import { SLASH_COMMANDS } from "../chat/slashSpec";
import {
  MAX_PROMPT_FILE_BYTES,
  mergePrompts,
  PromptFileError,
  tooLargePromptFile,
  type PromptSpec,
} from "./promptFiles";

/** Names prompt files may not take: the built-in slash commands. */
export const RESERVED_PROMPT_NAMES: ReadonlySet<string> = new Set(SLASH_COMMANDS.map((c) => c.name));

/** Where a workspace keeps its prompt files, relative to its root. */
export const PROMPTS_DIR = path.join(".hearth", "prompts");

/**
 * Built-in prompts merged with the `*.md` files of `dir` (Node's file system; the extension reads through
 * `vscode.workspace.fs` and calls {@link mergePrompts} itself). A missing folder is not an error; a file that
 * cannot be read or parsed is listed in `errors` and the rest load.
 */
export async function loadPromptDir(dir: string): Promise<{ prompts: PromptSpec[]; errors: PromptFileError[] }> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const files: Array<[string, string]> = [];
  const unreadable: PromptFileError[] = [];
  for (const name of names.filter((n) => n.endsWith(".md")).sort()) {
    const file = path.join(dir, name);
    // A folder named x.md, a dangling link, no permission: that file's error, not the whole folder's.
    const size = (await fs.stat(file).catch(() => undefined))?.size ?? 0;
    if (size > MAX_PROMPT_FILE_BYTES) {
      unreadable.push(tooLargePromptFile(file, size));
      continue;
    }
    await fs.readFile(file, "utf8").then(
      (text) => files.push([file, text]),
      (e: unknown) => unreadable.push(new PromptFileError(file, 1, `cannot be read: ${(e as Error).message}`)),
    );
  }
  const merged = mergePrompts(files, RESERVED_PROMPT_NAMES);
  return { prompts: merged.prompts, errors: [...unreadable, ...merged.errors] };
}
