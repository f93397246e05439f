import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { applyPatch } from "diff";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NES_NO_EDIT, NES_SCENARIOS, scriptedAnswers, startScriptedNesEngine } from "../../bench/nesScenarios";
import { EditHistory, parseHistory } from "../../common/nes/history";
import { testModel } from "../testModels";
import { hearth } from "./hearth";

/*
 * `hearth next-edit` as a user runs it, against the SCRIPTED next-edit engine (a loopback OpenAI-compatible server
 * answering with recorded rewrites: bench/nesScenarios.ts), and with a local GGUF of no next-edit family.
 */
let engine: Awaited<ReturnType<typeof startScriptedNesEngine>>;
let work: string;

beforeAll(async () => {
  engine = await startScriptedNesEngine(scriptedAnswers(NES_SCENARIOS));
  work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-next-edit-"));
});
afterAll(async () => {
  await engine?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

const env = { HEARTH_CONFIG: "/nonexistent/hearth-config.json" };

describe("hearth next-edit", () => {
  it("prints each scenario's predicted edit as a unified diff that applies to the file (history from git diff)", async () => {
    for (const s of NES_SCENARIOS) {
      const file = path.join(work, path.basename(s.path));
      await fs.writeFile(file, s.text);
      // The history as `git diff` prints it.
      const diff = path.join(work, "history.diff");
      const last = s.history.at(-1)!;
      const before = last.original.split("\n");
      const after = last.updated.split("\n");
      await fs.writeFile(
        diff,
        `--- a/${path.basename(s.path)}\n+++ b/${path.basename(s.path)}\n` +
          `@@ -${last.line! + 1},${before.length} +${last.line! + 1},${after.length} @@\n` +
          before.map((l) => `-${l}\n`).join("") +
          after.map((l) => `+${l}\n`).join(""),
      );
      const r = await hearth(
        [
          "next-edit",
          file,
          "--line",
          String(s.line + 1),
          "--column",
          String(s.column + 1),
          "--history",
          diff,
          "--engine-url",
          engine.url,
        ],
        "",
        { cwd: work, env },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^--- a\//m);
      expect(applyPatch(s.text, r.stdout)).toBe(s.expected);
      expect(r.stderr).toMatch(/sweep format, window lines 1–\d+, \d+ prompt tokens/);
    }
    // The engine saw Sweep's format, with the history as an original/updated block.
    expect(engine.prompts.at(-1)).toMatch(
      /^<\|file_sep\|>config\.js\.diff\noriginal:\nvar host = env\.HOST;\nupdated:\nconst host/,
    );
  });

  it("no edit due: exit 1 saying so; --json gives the whole answer", async () => {
    const file = path.join(work, "done.ts");
    await fs.writeFile(file, NES_NO_EDIT.text);
    const args = ["next-edit", file, "--line", "1", "--column", "23", "--engine-url", engine.url];
    const plain = await hearth(args, "", { cwd: work, env });
    expect(plain.code).toBe(1);
    expect(plain.stdout).toBe("");
    expect(plain.stderr).toMatch(/no edit predicted \(noChange\)/);
    const json = await hearth([...args, "--json"], "", { cwd: work, env });
    const answer = JSON.parse(json.stdout) as { edit: unknown; reason: string; format: string; diff: string };
    expect(answer).toMatchObject({ edit: null, reason: "noChange", format: "sweep", diff: "" });
  });

  it("without a model it exits non-zero saying so; a model of no next-edit family gets the generic format", async () => {
    const file = path.join(work, "a.ts");
    await fs.writeFile(file, "const a = 1;\n");
    const none = await hearth(["next-edit", file, "--line", "1", "--column", "1"], "", { cwd: work, env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/next-edit needs a next-edit model: --model/);
    const bad = await hearth(["next-edit", file, "--line", "9", "--column", "1", "--engine-url", engine.url], "", {
      cwd: work,
      env,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--line 9 is outside the file \(1–2\)/);
    const stories = await testModel("stories260K");
    const generic = await hearth(
      ["next-edit", file, "--line", "1", "--column", "1", "--model", stories, "--json", "--max-tokens", "4"],
      "",
      { cwd: work, env },
    );
    expect((JSON.parse(generic.stdout) as { format: string }).format).toBe("generic");
  });
});

describe("edit history", () => {
  it("coalesces keystrokes into one edit, separates distant ones, and drops undo, bulk and Hearth's own edits", () => {
    let now = 1_000;
    const h = new EditHistory(() => now);
    h.open("a.ts", "let total = 0;\nfor (x of xs) total += x;\nreturn total;");
    // Typing "sum" over "total" on line 0, one keystroke at a time.
    h.change("a.ts", [{ startLine: 0, startColumn: 4, endLine: 0, endColumn: 9, text: "" }]);
    for (const [i, ch] of [..."sum"].entries()) {
      now += 100;
      h.change("a.ts", [{ startLine: 0, startColumn: 4 + i, endLine: 0, endColumn: 4 + i, text: ch }]);
    }
    expect(h.recent()).toEqual([
      { path: "a.ts", original: "let total = 0;", updated: "let sum = 0;", line: 0, at: 1_300 },
    ]);
    // A formatter's bulk change and Hearth's accepted suggestion are not the user's edits.
    h.change(
      "a.ts",
      Array.from({ length: 20 }, () => ({ startLine: 1, startColumn: 0, endLine: 1, endColumn: 0, text: "" })),
    );
    h.change("a.ts", [{ startLine: 1, startColumn: 14, endLine: 1, endColumn: 19, text: "sum" }], "hearth");
    expect(h.recent()).toHaveLength(1);
    // Later and elsewhere: a second edit; then an undo takes it back out of the history.
    now += 5_000;
    h.change("a.ts", [{ startLine: 2, startColumn: 7, endLine: 2, endColumn: 12, text: "sum" }]);
    expect(h.recent().map((e) => e.updated)).toEqual(["let sum = 0;", "return sum;"]);
    h.change("a.ts", [{ startLine: 2, startColumn: 7, endLine: 2, endColumn: 10, text: "total" }], "undo");
    expect(h.recent().map((e) => e.updated)).toEqual(["let sum = 0;"]);
    expect(h.linesOf("a.ts")).toEqual(["let sum = 0;", "for (x of xs) sum += x;", "return total;"]);
  });

  it("a multi-line paste is one edit; a history file of JSON lines or a unified diff parses", () => {
    const h = new EditHistory(() => 0);
    h.open("b.py", "a = 1\nb = 2");
    h.change("b.py", [{ startLine: 0, startColumn: 5, endLine: 0, endColumn: 5, text: "\nc = 3\nd = 4" }]);
    expect(h.recent()).toEqual([{ path: "b.py", original: "a = 1", updated: "a = 1\nc = 3\nd = 4", line: 0, at: 0 }]);
    expect(parseHistory('{"original":"x","updated":"y","line":3}\n', "f.ts")).toEqual([
      { path: "f.ts", original: "x", updated: "y", line: 3 },
    ]);
    expect(() => parseHistory('{"original":1}', "f.ts")).toThrow(/history line 1 needs "original" and "updated"/);
    expect(parseHistory("--- a/x.ts\n+++ b/x.ts\n@@ -2,2 +2,2 @@\n keep\n-old\n+new\n", "f.ts")).toEqual([
      { path: "x.ts", original: "keep\nold", updated: "keep\nnew", line: 1 },
    ]);
  });
});
