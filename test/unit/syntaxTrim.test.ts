import { describe, expect, it, vi } from "vitest";
import { sharedParsers } from "../../sidecar/syntax/SyntaxParsers";
import {
  cutAtRepeatedLine,
  grammarFor,
  repeatedLineIndex,
  SYNTAX_WINDOW,
  trimToSyntax,
  trimToSyntaxOf,
} from "../../sidecar/completion/syntaxTrim";

// Real tree-sitter grammars (the WASM files of @vscode/tree-sitter-wasm), as the sidecar loads them.
describe("syntax errors and the syntax cut of multi-line FIM suggestions", () => {
  it("counts tree-sitter ERROR and MISSING nodes; undefined without a grammar", async () => {
    const parsers = await sharedParsers();
    expect(await parsers.syntaxErrors("javascript", "function f(a) {\n  return a;\n}\n")).toBe(0);
    expect(await parsers.syntaxErrors("javascript", "function f(a) {\n  return a;\n}\n}\n")).toBeGreaterThan(0);
    expect(await parsers.syntaxErrors("typescript", "const x: number = (1 + ;")).toBeGreaterThan(0);
    expect(await parsers.syntaxErrors("markdown", "# x")).toBeUndefined();
  });

  it("counts an insertion incrementally exactly as a full parse does (non-ASCII text included)", async () => {
    const parsers = await sharedParsers();
    const prefix = "const café = 'ü€';\nfunction f(a) {\n  ";
    const suffix = "\n}\nexport default f; // ✓\n";
    const check = (await parsers.insertionChecker("javascript", prefix, suffix))!;
    try {
      expect(check.baseline).toBe(await parsers.syntaxErrors("javascript", prefix + suffix));
      for (const middle of [
        "return a;",
        "return 'é';\n  }\n}",
        "if (a) {\n    x(",
        "const ü = [1,\n  2];",
        "}}}\n(((",
        "",
      ]) {
        expect({ middle, errors: check.errorsWith(middle) }).toEqual({
          middle,
          errors: await parsers.syntaxErrors("javascript", prefix + middle + suffix),
        });
      }
    } finally {
      check.dispose();
    }
  });

  // [what, prefix, suggestion, suffix, kept text, lines cut]
  it.each([
    [
      "keeps a suggestion that adds no error, whole",
      "function f(a) {\n  ",
      "const b = a + 1;\n  return b;",
      "\n}\n",
      "const b = a + 1;\n  return b;",
      0,
    ],
    // The model closes the function the suffix already closes, then starts something else.
    [
      "cuts the lines that would add errors, keeping the longest run that adds none",
      "function f(a) {\n  ",
      "if (a) {\n    return 1;\n  }\n  return 0;\n}\nexport default (",
      "\n}\n",
      "if (a) {\n    return 1;\n  }\n  return 0;",
      2,
    ],
    ["keeps the first line when every longer run adds errors", "const a = [\n  ", "1,\n}}\n)", "\n];\n", "1,", 2],
    // The suffix window ends inside a call: prefix + suffix has errors of its own; a clean middle is kept.
    [
      "compares with the errors prefix + suffix already have (a window cut mid-construct)",
      "function g() {\n  ",
      "const x = 1;\n  const y = 2;",
      "\n  return h(1,",
      "const x = 1;\n  const y = 2;",
      0,
    ],
  ] as const)("%s", async (_, prefix, text, suffix, kept, linesCut) => {
    expect(await trimToSyntaxOf("javascript", prefix, text, suffix)).toEqual({ text: kept, linesCut });
  });

  it("parses whole lines within a window either side of the cursor, however large the file", async () => {
    const line = "const a = 1;\n";
    const big = line.repeat(50_000); // 650 KB either side of the cursor
    const parsers = await sharedParsers();
    const windows: Array<{ prefix: string; suffix: string }> = [];
    const real = parsers.insertionChecker.bind(parsers);
    // A spy that records what is parsed and parses it for real.
    const spy = vi.spyOn(parsers, "insertionChecker").mockImplementation(async (language, prefix, suffix) => {
      windows.push({ prefix, suffix });
      return real(language, prefix, suffix);
    });
    try {
      const r = await trimToSyntaxOf("javascript", `${big}function f() {\n  `, "return 1;\n}\n}\n}", `\n}\n${big}`);
      expect(r).toEqual({ text: "return 1;", linesCut: 3 });
      expect(windows).toHaveLength(1);
      const { prefix, suffix } = windows[0]!;
      expect(prefix.length).toBeLessThanOrEqual(SYNTAX_WINDOW.before);
      expect(suffix.length).toBeLessThanOrEqual(SYNTAX_WINDOW.after);
      expect(prefix.startsWith(line) && prefix.endsWith("function f() {\n  ")).toBe(true);
      expect(suffix.startsWith("\n}\n") && suffix.endsWith(line)).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it("leaves single lines, unknown languages and unparseable input alone", async () => {
    expect(await trimToSyntaxOf("javascript", "a", "b", "c")).toEqual({ text: "b", linesCut: 0 });
    expect(await trimToSyntaxOf("markdown", "", "x\n}}}", "")).toEqual({ text: "x\n}}}", linesCut: 0 });
    expect(grammarFor("typescriptreact")).toBe("tsx");
    expect(grammarFor("plaintext")).toBeUndefined();
    // A candidate whose parse fails is not kept.
    expect(trimToSyntax("a\nb\nc", { baseline: 0, errorsWith: () => undefined })).toEqual({ text: "a", linesCut: 2 });
  });
});

describe("the generation-loop cut of multi-line FIM suggestions", () => {
  it("cuts before the first line identical to the non-blank line before it", () => {
    const loop =
      "var length = index.length;\n  var index = index.length;\n\n  var index = index.length;\n  var index = index.length;";
    expect(cutAtRepeatedLine(loop)).toBe("var length = index.length;\n  var index = index.length;");
    expect(repeatedLineIndex(loop.split("\n"))).toBe(3);
  });
  it("keeps lines that repeat at another indentation or not consecutively", () => {
    const nested = "if (a) {\n    if (b) {\n      go();\n    }\n  }";
    expect(cutAtRepeatedLine(nested)).toBe(nested);
    expect(cutAtRepeatedLine("a();\nb();\na();")).toBe("a();\nb();\na();");
    expect(repeatedLineIndex(["x", "", "  "])).toBe(-1);
  });
  it("reads the first line as the whole line it completes (the cursor line's indentation before it)", () => {
    expect(cutAtRepeatedLine("var sl = [];\n  var sl = [];", "  ")).toBe("var sl = [];");
    expect(cutAtRepeatedLine("var sl = [];\n  var sl = [];")).toBe("var sl = [];\n  var sl = [];");
  });
});
