import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
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

  it("bidirectional overrides and invisible marks are shown too, so a command reads as what runs (issue 31)", () => {
    // "Trojan Source": RLO makes `rm -rf ~ #` display as something harmless.
    expect(terminalSafe("echo safe \u202e~ fr- mr\u202c")).toBe("echo safe \\u202e~ fr- mr\\u202c");
    expect(terminalSafe("a\u2066b\u2069c\u200bd\u200ee\ufeff")).toBe("a\\u2066b\\u2069c\\u200bd\\u200ee\\ufeff");
    // Emoji and Persian keep their joiners.
    expect(terminalSafe("👨\u200d👩 می\u200cخواهم")).toBe("👨\u200d👩 می\u200cخواهم");
  });

  it("an engine's error text reaches the terminal escaped (issue 31, m15)", async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `overloaded${TITLE}${CLEAR}` } }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await hearth(["chat", "--engine-url", url, "--engine-kind", "openai", "--model", "m", "-p", "hi"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/overloaded\\x1b\]0;pwned\\x07/);
      expect(r.stderr).not.toContain("\x1b");
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
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
