import { describe, expect, it, vi } from "vitest";
import { sharedChunker } from "../../sidecar/index/chunker";
import { grammarFor, SYNTAX_WINDOW_CHARS, trimToSyntax, trimToSyntaxOf } from "../../sidecar/llama/syntaxTrim";

// Real tree-sitter grammars (the WASM files of @vscode/tree-sitter-wasm), as the sidecar loads them.
describe("syntax errors and the syntax cut of multi-line FIM suggestions", () => {
  it("counts tree-sitter ERROR and MISSING nodes; undefined without a grammar", async () => {
    const chunker = await sharedChunker();
    expect(await chunker.syntaxErrors("javascript", "function f(a) {\n  return a;\n}\n")).toBe(0);
    expect(await chunker.syntaxErrors("javascript", "function f(a) {\n  return a;\n}\n}\n")).toBeGreaterThan(0);
    expect(await chunker.syntaxErrors("typescript", "const x: number = (1 + ;")).toBeGreaterThan(0);
    expect(await chunker.syntaxErrors("markdown", "# x")).toBeUndefined();
  });

  it("keeps a suggestion that adds no error, whole", async () => {
    const prefix = "function f(a) {\n  ";
    const suffix = "\n}\n";
    const text = "const b = a + 1;\n  return b;";
    expect(await trimToSyntaxOf("javascript", prefix, text, suffix)).toEqual({ text, linesCut: 0 });
  });

  it("cuts the lines that would add errors, keeping the longest run that adds none", async () => {
    const prefix = "function f(a) {\n  ";
    const suffix = "\n}\n";
    // The model closes the function the suffix already closes, then starts something else.
    const text = "if (a) {\n    return 1;\n  }\n  return 0;\n}\nexport default (";
    expect(await trimToSyntaxOf("javascript", prefix, text, suffix)).toEqual({ text: "if (a) {\n    return 1;\n  }\n  return 0;", linesCut: 2 });
  });

  it("keeps the first line when every longer run adds errors", async () => {
    const r = await trimToSyntaxOf("javascript", "const a = [\n  ", "1,\n}}\n)", "\n];\n");
    expect(r).toEqual({ text: "1,", linesCut: 2 });
  });

  it("compares with the errors prefix + suffix already have (a window cut mid-construct)", async () => {
    // The suffix window ends inside a call: prefix + suffix has errors of its own; a clean middle is kept.
    const prefix = "function g() {\n  ";
    const suffix = "\n  return h(1,";
    const text = "const x = 1;\n  const y = 2;";
    expect(await trimToSyntaxOf("javascript", prefix, text, suffix)).toEqual({ text, linesCut: 0 });
  });

  it("parses a window either side of the cursor, so a huge file costs what a small one does", async () => {
    const big = "const a = 1;\n".repeat(50_000); // 650 KB either side of the cursor
    const chunker = await sharedChunker();
    const parsed: number[] = [];
    const parse = chunker.syntaxErrors.bind(chunker);
    // A spy that records what is parsed and parses it for real.
    const spy = vi.spyOn(chunker, "syntaxErrors").mockImplementation(async (language, text) => {
      parsed.push(text.length);
      return parse(language, text);
    });
    try {
      const text = "return 1;\n}\n}\n}";
      const r = await trimToSyntaxOf("javascript", `${big}function f() {\n  `, text, `\n}\n${big}`);
      expect(r).toEqual({ text: "return 1;", linesCut: 3 });
      expect(parsed.length).toBe(4); // the baseline, then 4, 3 and 2 lines
      for (const n of parsed) expect(n).toBeLessThanOrEqual(2 * SYNTAX_WINDOW_CHARS + text.length);
    } finally {
      spy.mockRestore();
    }
  });

  it("leaves single lines, unknown languages and unparseable input alone", async () => {
    expect(await trimToSyntaxOf("javascript", "a", "b", "c")).toEqual({ text: "b", linesCut: 0 });
    expect(await trimToSyntaxOf("markdown", "", "x\n}}}", "")).toEqual({ text: "x\n}}}", linesCut: 0 });
    expect(grammarFor("typescriptreact")).toBe("tsx");
    expect(grammarFor("plaintext")).toBeUndefined();
    expect(await trimToSyntax("", "a\nb", "", async () => undefined)).toEqual({ text: "a\nb", linesCut: 0 });
  });
});
