import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { terminalSafe } from "../../cli/terminal";
import { hearth } from "../cli/hearth";

/** What a hostile file or model could send a terminal: a title change, clear screen, an OSC 52 clipboard write. */
const TITLE = "\x1b]0;pwned\x07";
const CLEAR = "\x1b[2J\x1b[H";
const CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07";

describe("fault suite: untrusted text reaches the terminal without control sequences", () => {
  it("terminalSafe shows every control character but tab and newline as \\xNN", () => {
    expect(terminalSafe(`a${TITLE}b\tc\nd\r${CLEAR}\u009b31m`)).toBe(
      "a\\x1b]0;pwned\\x07b\tc\nd\\x0d\\x1b[2J\\x1b[H\\x9b31m",
    );
    expect(terminalSafe("plain text, ünïcödé, 漢字")).toBe("plain text, ünïcödé, 漢字");
  });

  describe("hearth search on a workspace with hostile file names and contents", () => {
    let root: string;
    beforeAll(async () => {
      root = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-faults-terminal-"));
      await fs.writeFile(
        path.join(root, `evil${TITLE}.ts`),
        `// ${CLEAR}${CLIPBOARD}\nexport function frobnicateWidgets() {\n  return "${TITLE}";\n}\n`,
      );
    });
    afterAll(() => fs.rm(root, { recursive: true, force: true }));

    it("prints hits with the sequences escaped, and --json escapes them as JSON does", async () => {
      const indexDir = path.join(root, "..", `${path.basename(root)}-index`);
      try {
        const human = await hearth(["search", root, "frobnicate widgets", "--index-dir", indexDir]);
        expect(human.code).toBe(0);
        expect(human.stdout).toContain("frobnicateWidgets");
        expect(human.stdout + human.stderr).not.toContain("\x1b");
        expect(human.stdout).toContain("\\x1b]0;pwned\\x07");
        const json = await hearth(["search", root, "frobnicate widgets", "--index-dir", indexDir, "--json"]);
        expect(json.stdout).not.toContain("\x1b");
        const hits = JSON.parse(json.stdout) as Array<{ path: string; text: string }>;
        expect(hits[0]?.path).toBe(`evil${TITLE}.ts`);
      } finally {
        await fs.rm(indexDir, { recursive: true, force: true });
      }
    }, 60_000);
  });
});
