import { describe, expect, it } from "vitest";
import { formatContext } from "../../common/completion/CompletionEngine";
import { postprocess, wantsMultiline } from "../../common/completion/postprocess";

describe("wantsMultiline", () => {
  it("is single-line when code follows the cursor on its line or mid-expression", () => {
    expect(wantsMultiline("const x = ", ";\n")).toBe(false);
    expect(wantsMultiline("foo(a, ", "b)\n")).toBe(false);
    expect(wantsMultiline("const total = items.", "\n")).toBe(false);
  });
  it("is multi-line at an empty line or after a block opener", () => {
    expect(wantsMultiline("function f() {\n  ", "\n}\n")).toBe(true);
    expect(wantsMultiline("if (ok) {", "\n}")).toBe(true);
    expect(wantsMultiline("const f = () =>", "")).toBe(true);
    expect(wantsMultiline("def f(x):", "\n")).toBe(true);
  });
});

describe("postprocess", () => {
  it("keeps one line in single-line mode and trims trailing whitespace", () => {
    expect(postprocess("a + b;  \nconsole.log(1)", "const x = ", "\n", false)).toEqual({ text: "a + b;" });
  });
  it("stops a multi-line suggestion at the end of the current block", () => {
    const prefix = "function f() {\n  if (ok) {\n    ";
    const raw = "return 1;\n  }\n  return 2;\n}\nfunction g() {}";
    expect(postprocess(raw, prefix, "\n  }\n}\n", true)).toEqual({ text: "return 1;" });
  });
  it("keeps a block's body lines at the cursor's indentation", () => {
    const prefix = "function f() {\n  ";
    expect(postprocess("const a = 1;\n  const b = 2;\n}\n", prefix, "\n", true)).toEqual({
      text: "const a = 1;\n  const b = 2;",
    });
  });
  it("does not type closing brackets the suffix already has", () => {
    expect(postprocess("a, b)", "foo(", ")\n", false)).toEqual({ text: "a, b" });
    expect(postprocess('hello")', 'print("', '")\n', false)).toEqual({ text: "hello" });
  });
  it("drops suggestions that repeat the suffix", () => {
    expect(postprocess("return x;", "function f() {\n  ", "return x;\n}", true)).toEqual({ dropped: "repeats suffix" });
  });
  it("drops suggestions that repeat the previous line", () => {
    expect(postprocess("import fs from 'node:fs';", "import fs from 'node:fs';\n", "\n", true)).toEqual({
      dropped: "repeats previous line",
    });
  });
  it("drops empty and whitespace-only suggestions", () => {
    expect(postprocess("   \n\n", "x = ", "", false)).toEqual({ dropped: "empty" });
    expect(postprocess(")", "foo(", ")", false)).toEqual({ dropped: "empty" });
  });
  it("normalises CRLF", () => {
    expect(postprocess("a\r\nb", "f() {\n", "\n", true)).toEqual({ text: "a\nb" });
  });
});

describe("formatContext", () => {
  it("comments snippets out in the file's language, with their paths", () => {
    expect(formatContext([{ path: "src/a.ts", text: "export const a = 1;\nexport const b = 2;" }], "typescript")).toBe(
      "// Path: src/a.ts\n// export const a = 1;\n// export const b = 2;\n",
    );
    expect(formatContext([{ path: "util.py", text: "def f(): pass" }], "python")).toBe(
      "# Path: util.py\n# def f(): pass\n",
    );
    expect(formatContext([], "typescript")).toBeUndefined();
  });
});
