import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPromptDir, PROMPTS_DIR } from "../../common/actions/loadPrompts";
import { hearth } from "../cli/hearth";
import { testModel } from "../testModels";

const GOOD = `---
name: shout
description: Say the selection loudly.
context: selection
mode: chat
---
Shout this: {{code}}
`;
/** A "billion laughs" front matter: nine aliases of nine aliases, six levels deep. */
const ALIAS_BOMB = [
  "---",
  "name: bomb",
  'a: &a ["x","x","x","x","x","x","x","x","x"]',
  ...["b", "c", "d", "e", "f"].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${"abcde"[i]}`).join(",")}]`),
  "---",
  "boom",
  "",
].join("\n");

describe("fault suite: one bad prompt file breaks only itself", () => {
  let root: string;
  let dir: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-prompts-"));
    dir = path.join(root, PROMPTS_DIR);
    await fs.mkdir(path.join(dir, "folder.md"), { recursive: true });
    await fs.writeFile(path.join(dir, "shout.md"), GOOD);
    await fs.writeFile(path.join(dir, "bomb.md"), ALIAS_BOMB);
    await fs.writeFile(path.join(dir, "unclosed.md"), "---\nname: unclosed\n");
    await fs.symlink(path.join(root, "missing.md"), path.join(dir, "dangling.md"));
    // 10 MB: it was read, templated and sent, and answered after 65 s of a silently cut prompt.
    await fs.writeFile(path.join(dir, "huge.md"), `---\nname: huge\n---\n${"word ".repeat(2_000_000)}`);
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it("the built-ins and the good file load; each broken file is an error naming it", async () => {
    const started = performance.now();
    const { prompts, errors } = await loadPromptDir(dir);
    expect(performance.now() - started).toBeLessThan(5_000);
    const names = prompts.map((p) => p.name);
    for (const builtin of ["explain", "fix", "doc", "tests", "edit", "ask"]) expect(names).toContain(builtin);
    expect(names).toContain("shout");
    expect(names).not.toContain("bomb");
    expect(errors.map((e) => path.basename(e.file)).sort()).toEqual([
      "bomb.md",
      "dangling.md",
      "folder.md",
      "huge.md",
      "unclosed.md",
    ]);
    for (const e of errors) expect(e.message).toContain(path.basename(e.file));
    expect(errors.find((e) => e.file.endsWith("huge.md"))?.message).toMatch(
      /huge\.md:1: the file is 9,766 KiB; a prompt file may be at most 256 KiB/,
    );
  });

  it("in the REPL, a mistyped command and the broken files leave the chat going", async () => {
    const model = await testModel("stories260K");
    const r = await hearth(
      ["chat", "--model", model, "--max-tokens", "4", "--temperature", "0", "--threads", "1"],
      "/shuot\n/help\nOnce upon a time\n/exit\n",
      { cwd: root },
    );
    const said = r.stdout + r.stderr;
    expect(r.code).toBe(0);
    expect(said).toContain("Unknown command '/shuot'");
    expect(said).toContain("/shout");
    expect(said).toMatch(/bomb\.md/);
    expect(said).toContain("Assistant>");
    expect(said).toContain("Bye.");
  }, 60_000);
});
