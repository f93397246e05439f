import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../testModels";

/** The code map's folders (its `### \`folder/\`` headings) → the backticked names under each. */
function codeMap(): Map<string, string[]> {
  const text = readFileSync(path.join(REPO_ROOT, "ARCHITECTURE.md"), "utf8");
  const section = text.split("\n## Code map\n")[1]!.split("\n## ")[0]!;
  const rows = new Map<string, string[]>();
  for (const part of section.split(/^### /m).slice(1)) {
    const [heading, ...body] = part.split("\n");
    const folder = /^`([^`]+)`$/.exec(heading!.trim())?.[1];
    if (!folder) throw new Error(`a code map heading that names no folder: ${heading}`);
    rows.set(
      folder,
      [...body.join("\n").matchAll(/`([^`]+)`/g)].map((n) => n[1]!),
    );
  }
  return rows;
}

/** Names that read as paths: a file name with an extension, or a folder ending in `/`. */
const looksLikePath = (name: string) => /^[\w.@/-]+(\.(ts|mjs|cjs|mts|sh|py|md|json)|\/)$/.test(name);

/** Every file git tracks or would track (not ignored), relative to the repository root. */
const tracked = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
  cwd: REPO_ROOT,
  encoding: "utf8",
})
  .split("\n")
  .filter(Boolean);

describe("ARCHITECTURE.md's code map", () => {
  it("has a heading for every top-level folder of the repository", () => {
    const rows = codeMap();
    const folders = new Set(tracked.filter((f) => f.includes("/")).map((f) => `${f.split("/")[0]}/`));
    for (const folder of folders) expect([...rows.keys()], `no heading for ${folder}`).toContain(folder);
  });

  it("names only paths that exist (under the row's folder, or from the repository root)", () => {
    const missing: string[] = [];
    for (const [folder, names] of codeMap()) {
      if (folder === "dist/") continue; // build output, not in a clean clone
      for (const name of names.filter(looksLikePath)) {
        const exists =
          existsSync(path.join(REPO_ROOT, folder, name)) ||
          existsSync(path.join(REPO_ROOT, name)) ||
          // a file named inside a sub-folder's parentheses: `llama/` (… `syntaxTrim.ts` …)
          tracked.some((f) => f.startsWith(folder) && (f.endsWith(`/${name}`) || f.includes(`/${name}`)));
        if (!exists) missing.push(`${folder} ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
