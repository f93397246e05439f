import { describe, expect, it } from "vitest";
import { formatForModel, NES_FORMAT_MODULES, promptText, type NesPromptInput } from "../../sidecar/nes/formats";
import { MAX_HISTORY_CHARS, recentHistory } from "../../sidecar/nes/predict";
import { cursorWindow, narrowEdit, windowBeforeEdit } from "../../sidecar/nes/window";

/*
 * Golden prompts, byte for byte, one per format, from examples derived from the formats' own documentation:
 * Sweep's announcement and model card (the `<|file_sep|>` blocks), Zed's documented Zeta 1 example prompt, and the
 * expected prompt of Zed's `zeta_prompt` test for its ordered Zeta 2 layout (with a line-aligned editable region,
 * as Zed's excerpt ranges are). The generic format is Hearth's own.
 */

const lines = (text: string) => text.split("\n");

describe("next-edit prompt formats (golden)", () => {
  it("sweep: diff blocks of original/updated text, then original/, current/ and an open updated/ block", () => {
    const doc = lines('func greet(name: String) {\n\tprint("hi")\n}');
    const input: NesPromptInput = {
      path: "Sources/Greeter.swift",
      lines: doc,
      window: { start: 0, end: 3 },
      cursor: { line: 0, column: 24 },
      original: 'func greet() {\n\tprint("hi")\n}',
      history: [{ path: "Sources/Greeter.swift", original: "func greet() {", updated: "func greet(name: String) {" }],
    };
    const prompt = NES_FORMAT_MODULES.sweep.build(input);
    if (prompt.kind !== "raw") throw new Error("sweep is a raw format");
    expect(promptText(prompt.parts)).toBe(
      [
        "<|file_sep|>Sources/Greeter.swift.diff",
        "original:",
        "func greet() {",
        "updated:",
        "func greet(name: String) {",
        "<|file_sep|>original/Sources/Greeter.swift",
        "func greet() {",
        '\tprint("hi")',
        "}",
        "<|file_sep|>current/Sources/Greeter.swift",
        "func greet(name: String) {",
        '\tprint("hi")',
        "}",
        "<|file_sep|>updated/Sources/Greeter.swift",
        "",
      ].join("\n"),
    );
    // The separator is a control token; the user's text never is.
    expect(prompt.parts.filter((p) => typeof p !== "string")).toHaveLength(4);
    expect(prompt.stop).toContain("<|file_sep|>");
    expect(prompt.parse('func greet(name: String) {\n\tprint("hi \\(name)")\n}\n')).toBe(
      'func greet(name: String) {\n\tprint("hi \\(name)")\n}',
    );
  });

  it("zeta: instruction, User Edits as unified diffs, the excerpt with the editable region and cursor markers", () => {
    const doc = lines(
      [
        "    fn select_next_edit(&mut self) {",
        "        epr",
        "        let next_index = self.index + 1;",
        "    }",
        "    fn select_prev_edit(&mut self) {",
      ].join("\n"),
    );
    const input: NesPromptInput = {
      path: "src/modal.rs",
      lines: doc,
      window: { start: 1, end: 4 },
      cursor: { line: 1, column: 11 },
      original: "",
      history: [
        {
          path: "src/modal.rs",
          original: "    fn select_next_edit(&mut self) {\n        let next_index = self.index + 1;\n",
          updated: "    fn select_next_edit(&mut self) {\n        epr\n        let next_index = self.index + 1;\n",
          line: 143,
        },
      ],
    };
    const prompt = NES_FORMAT_MODULES.zeta.build(input);
    if (prompt.kind !== "raw") throw new Error("zeta is a raw format");
    expect(promptText(prompt.parts)).toBe(
      "### Instruction:\n" +
        "You are a code completion assistant and your task is to analyze user edits and then rewrite an excerpt " +
        "that the user provides, suggesting the appropriate edits within the excerpt, taking into account the " +
        "cursor location.\n" +
        "\n" +
        "### User Edits:\n" +
        "\n" +
        "User edited src/modal.rs:\n" +
        "```diff\n" +
        "@@ -144,2 +144,3 @@\n" +
        "     fn select_next_edit(&mut self) {\n" +
        "+        epr\n" +
        "         let next_index = self.index + 1;\n" +
        "```\n" +
        "\n" +
        "### User Excerpt:\n" +
        "\n" +
        "```src/modal.rs\n" +
        "<|start_of_file|>\n" +
        "    fn select_next_edit(&mut self) {\n" +
        "<|editable_region_start|>\n" +
        "        epr<|user_cursor_is_here|>\n" +
        "        let next_index = self.index + 1;\n" +
        "    }\n" +
        "<|editable_region_end|>\n" +
        "    fn select_prev_edit(&mut self) {\n" +
        "```\n" +
        "\n" +
        "### Response:\n",
    );
    expect(
      prompt.parse(
        "```src/modal.rs\n<|editable_region_start|>\n        eprintln!();<|user_cursor_is_here|>\n        let next_index = self.index + 1;\n    }\n",
      ),
    ).toBe("        eprintln!();\n        let next_index = self.index + 1;\n    }");
    expect(prompt.parse("no region here")).toBeUndefined();
  });

  it("zeta2: edit history block, then the file with fim_prefix / fim_middle current / fim_suffix / fim_middle updated", () => {
    const input: NesPromptInput = {
      path: "test.rs",
      lines: lines("prefix\neditable\nsuffix"),
      window: { start: 1, end: 2 },
      cursor: { line: 1, column: 3 },
      original: "editable",
      history: [{ path: "a.rs", original: "old\n", updated: "new\n" }],
    };
    const prompt = NES_FORMAT_MODULES.zeta2.build(input);
    if (prompt.kind !== "raw") throw new Error("zeta2 is a raw format");
    expect(promptText(prompt.parts)).toBe(
      [
        "<|file_sep|>edit history",
        "--- a/a.rs",
        "+++ b/a.rs",
        "@@ -1,1 +1,1 @@",
        "-old",
        "+new",
        "<|file_sep|>test.rs",
        "<|fim_prefix|>",
        "prefix",
        "<|fim_middle|>current",
        "edi<|user_cursor|>table",
        "<|fim_suffix|>",
        "suffix",
        "<|fim_middle|>updated",
        "",
      ].join("\n"),
    );
    expect(prompt.parse("edi<|user_cursor|>table_v2\n")).toBe("editable_v2");
  });

  it("generic: chat messages with the edits and the window, answered as JSON under a schema", () => {
    const input: NesPromptInput = {
      path: "a.ts",
      lines: lines("const a = 1;\nconst b = a;"),
      window: { start: 0, end: 2 },
      cursor: { line: 1, column: 0 },
      original: "const a = 1;\nconst b = a;",
      history: [{ path: "a.ts", original: "const x = 1;", updated: "const a = 1;", line: 0 }],
    };
    const prompt = NES_FORMAT_MODULES.generic.build(input);
    if (prompt.kind !== "chat") throw new Error("generic is a chat format");
    expect(prompt.user).toBe(
      "Recent edits:\n--- a.ts\n+++ a.ts\n@@ -1,1 +1,1 @@\n-const x = 1;\n+const a = 1;\n\n" +
        "File: a.ts\nWindow:\n```\nconst a = 1;\n<|cursor|>const b = a;\n```",
    );
    expect(prompt.schema).toMatchObject({ required: ["window"] });
    expect(prompt.parse('{"window": "const a = 1;\\nconst b = a + 1;"}')).toBe("const a = 1;\nconst b = a + 1;");
    expect(prompt.parse("not json")).toBeUndefined();
    expect(prompt.parse('{"text": "x"}')).toBeUndefined();
  });

  it("the model's name picks the format; any other model gets the generic one", () => {
    expect(formatForModel("sweep-next-edit-1.5b.q8_0.v2.gguf")).toBe("sweep");
    expect(formatForModel("zeta-q4_k_m.gguf", "Zeta")).toBe("zeta");
    expect(formatForModel("zeta-2.1-Q8_0.gguf")).toBe("zeta2");
    expect(formatForModel("qwen2.5-coder-1.5b-instruct-q8_0.gguf")).toBe("generic");
    expect(formatForModel(undefined)).toBe("generic");
  });
});

describe("next-edit windows and edits", () => {
  it("the window is 21 lines around the cursor, shifted to stay inside the document", () => {
    expect(cursorWindow(100, 50, 10)).toEqual({ start: 40, end: 61 });
    expect(cursorWindow(100, 2, 10)).toEqual({ start: 0, end: 21 });
    expect(cursorWindow(100, 99, 10)).toEqual({ start: 79, end: 100 });
    expect(cursorWindow(5, 2, 10)).toEqual({ start: 0, end: 5 });
  });

  it("the window before the last edit puts the edit's original lines back", () => {
    const doc = ["a", "b2", "b3", "c"];
    const last = { path: "f", original: "b\n", updated: "b2\nb3\n", line: 1 };
    expect(windowBeforeEdit(doc, { start: 0, end: 4 }, last)).toBe("a\nb\nc");
    // An edit that does not match the document (it changed since) leaves the window as it is.
    expect(windowBeforeEdit(doc, { start: 0, end: 4 }, { ...last, updated: "zz\n" })).toBe("a\nb2\nb3\nc");
  });

  it("an edit is narrowed to the lines that change; the same window is no edit", () => {
    const doc = ["a", "b", "c", "d"];
    expect(narrowEdit(doc, { start: 0, end: 4 }, "a\nb\nc\nd")).toBeNull();
    expect(narrowEdit(doc, { start: 0, end: 4 }, "a\nB\nc\nd")).toEqual({ startLine: 1, endLine: 2, text: "B\n" });
    expect(narrowEdit(doc, { start: 0, end: 4 }, "a\nb\nb2\nc\nd")).toEqual({ startLine: 2, endLine: 2, text: "b2\n" });
    expect(narrowEdit(doc, { start: 0, end: 4 }, "a\nd")).toEqual({ startLine: 1, endLine: 3, text: "" });
  });

  it("the history in a prompt is the newest edits that fit its character budget", () => {
    const edit = (n: number, size: number) => ({ path: "a.ts", original: "x".repeat(size), updated: `${n}` });
    const big = edit(0, MAX_HISTORY_CHARS); // a large paste, made first
    expect(recentHistory([big, edit(1, 10), edit(2, 10)]).map((e) => e.updated)).toEqual(["1", "2"]);
    expect(recentHistory([edit(1, 10), edit(2, 10)])).toHaveLength(2);
    expect(recentHistory([edit(1, MAX_HISTORY_CHARS + 1)])).toEqual([]);
  });
});
