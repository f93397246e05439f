import { applyPatch } from "diff";
import { describe, expect, it } from "vitest";
import { applyProposal, lineOffset, rebase, unifiedDiff, type EditProposal } from "../../common/actions/proposal";
import {
  formatDocComment,
  responseSchema,
  stripFence,
  targetRange,
  testFileName,
} from "../../common/actions/runAction";
import { BUILTIN_PROMPT_FILES } from "../../common/actions/builtinPrompts";
import { RESERVED_PROMPT_NAMES } from "../../common/actions/loadPrompts";
import {
  builtinPrompts,
  mergePrompts,
  parsePromptFile,
  PromptFileError,
  renderPrompt,
} from "../../common/actions/promptFiles";
import { parseRange } from "../../cli/run";

const good = `---
name: review
description: Review the selection for bugs.
mode: chat
---
Review {{path}} ({{language}}):
{{code}}
`;

function errorOf(text: string, reserved = RESERVED_PROMPT_NAMES): PromptFileError {
  try {
    parsePromptFile(text, ".hearth/prompts/x.md", reserved);
  } catch (e) {
    if (e instanceof PromptFileError) return e;
    throw e;
  }
  throw new Error("expected a PromptFileError");
}

describe("prompt files", () => {
  it("parses front matter and template; defaults context to selection", () => {
    const p = parsePromptFile(good, "review.md");
    expect(p).toMatchObject({
      name: "review",
      description: "Review the selection for bugs.",
      mode: "chat",
      context: "selection",
      source: "review.md",
    });
    expect(renderPrompt(p, { path: "a.ts", language: "typescript", code: "let x = 1;" })).toBe(
      "Review a.ts (typescript):\nlet x = 1;",
    );
  });

  it("names the file and the line of each problem", () => {
    expect(errorOf("name: x\n").message).toBe(
      ".hearth/prompts/x.md:1: a prompt file starts with a '---' line, then its front matter (name, description), then '---'.",
    );
    expect(errorOf("---\nname: x\ndescription: d\n").message).toMatch(
      /^\.hearth\/prompts\/x\.md:4: the front matter is not closed/,
    );
    expect(errorOf("---\nname: x\ndescription: [unclosed\n---\nbody").message).toMatch(
      /^\.hearth\/prompts\/x\.md:\d+: invalid front matter/,
    );
    expect(errorOf("---\ndescription: d\nname: Bad Name\n---\nbody").message).toMatch(
      /x\.md:3: 'name' must be lower-case/,
    );
    expect(errorOf("---\nname: x\n---\nbody").message).toMatch(/x\.md:1: 'description' is required/);
    expect(errorOf("---\nname: x\ndescription: d\nmode: explode\n---\nbody").message).toMatch(
      /x\.md:4: 'mode' must be one of chat, edit, doc, newFile/,
    );
    expect(errorOf("---\nname: x\ndescription: d\ncolour: red\n---\nbody").message).toMatch(
      /x\.md:4: unknown key 'colour'/,
    );
    expect(errorOf("---\nname: x\ndescription: d\n---\n\nHello {{nme}}").message).toMatch(
      /x\.md:6: unknown variable \{\{nme\}\}/,
    );
    expect(errorOf("---\nname: x\ndescription: d\n---\n").message).toMatch(
      /x\.md:5: the prompt text after the front matter is empty/,
    );
    expect(errorOf("---\nname: help\ndescription: d\n---\nbody").message).toMatch(
      /x\.md:2: 'help' is a built-in command/,
    );
    expect(errorOf("---\nname: x\ndescription: d\nmode: edit\ncontext: none\n---\nbody").line).toBe(4);
  });

  it("the built-in actions are prompt files that parse: explain, fix, doc, tests, edit, ask", () => {
    expect(builtinPrompts().map((p) => [p.name, p.mode, p.context])).toEqual([
      ["explain", "chat", "selection"],
      ["fix", "edit", "selection"],
      ["doc", "doc", "selection"],
      ["tests", "newFile", "selection"],
      ["edit", "edit", "selection"],
      ["ask", "chat", "file"],
    ]);
    expect(Object.keys(BUILTIN_PROMPT_FILES)).toHaveLength(6);
  });

  it("workspace files override built-ins by name, add their own, and bad ones are reported, not fatal", () => {
    const override = good.replace("name: review", "name: explain").replace("Review the selection", "Explain it my way");
    const { prompts, errors } = mergePrompts(
      [
        [".hearth/prompts/explain.md", override],
        [".hearth/prompts/review.md", good],
        [".hearth/prompts/broken.md", "---\nname: broken\n---\nx"],
        [".hearth/prompts/zdup.md", good],
      ],
      RESERVED_PROMPT_NAMES,
    );
    expect(prompts.find((p) => p.name === "explain")).toMatchObject({
      description: "Explain it my way for bugs.",
      source: ".hearth/prompts/explain.md",
    });
    expect(prompts.find((p) => p.name === "review")?.source).toBe(".hearth/prompts/review.md");
    expect(prompts.map((p) => p.name)).toEqual(["ask", "doc", "edit", "explain", "fix", "review", "tests"]);
    expect(errors.map((e) => e.message)).toEqual([
      ".hearth/prompts/broken.md:1: 'description' is required: one line saying what the prompt does.",
      ".hearth/prompts/zdup.md:2: name 'review' is already used by .hearth/prompts/review.md.",
    ]);
  });
});

describe("reviewed edits", () => {
  const original = "const a = 1;\nfunction f() {\n  return a;\n}\nconst b = 2;\n";
  const start = original.indexOf("function");
  const end = original.indexOf("const b");
  const p: EditProposal = { original, start, end, newText: "function f() {\n  return a + 1;\n}\n" };

  it("applies exactly the proposed replacement", () => {
    expect(applyProposal(p)).toBe("const a = 1;\nfunction f() {\n  return a + 1;\n}\nconst b = 2;\n");
  });

  it("re-bases onto a document edited elsewhere, and refuses when the replaced code changed", () => {
    expect(rebase(p, original)).toEqual({ start, end, moved: false });
    const edited = `// header\n${original}`;
    const r = rebase(p, edited);
    expect(r).toEqual({ start: start + 10, end: end + 10, moved: true });
    if ("refused" in r) throw new Error("unexpected");
    expect(applyProposal(p, edited, r)).toBe(`// header\n${applyProposal(p)}`);
    expect(rebase(p, original.replace("return a;", "return a * 2;"))).toMatchObject({
      refused: expect.stringMatching(/was changed since it was proposed/),
    });
  });

  it("picks the occurrence with the same surroundings when the code appears twice, refuses when ambiguous", () => {
    const twice = `${original}\n${original.slice(start, end)}`;
    expect(rebase(p, `x\n${twice}`)).toMatchObject({ start: start + 2, moved: true });
    const block = "a\n";
    const q: EditProposal = { original: "a\nb\na\n", start: 4, end: 6, newText: "c\n" };
    expect(rebase(q, "a\na\nb\na\n")).toMatchObject({ start: 6 });
    expect(rebase({ ...q, original: block, start: 0, end: 2 }, "a\na\n")).toMatchObject({
      refused: expect.stringMatching(/several places/),
    });
  });

  it("prints a unified diff that patches the original into the edited text", () => {
    const diff = unifiedDiff("src/f.ts", original, applyProposal(p));
    expect(diff).toMatch(/--- a\/src\/f\.ts\n\+\+\+ b\/src\/f\.ts\n@@ -1,5 \+1,5 @@/);
    expect(applyPatch(original, diff)).toBe(applyProposal(p));
  });

  it("offsets of lines", () => {
    expect(lineOffset(original, 0)).toBe(0);
    expect(lineOffset(original, 1)).toBe(13);
    expect(lineOffset(original, 99)).toBe(original.length);
  });
});

describe("structured answers → edits", () => {
  it("caps every string of the response schema below the token limit", () => {
    expect(responseSchema("edit", 512)).toEqual({
      type: "object",
      properties: { code: { type: "string", maxLength: 448 } },
    });
    expect(responseSchema("newFile", 512)).toMatchObject({
      properties: { fileName: { maxLength: 60 }, content: { maxLength: 384 } },
    });
    expect(responseSchema("chat", 512)).toBeUndefined();
  });

  it("formats doc comments in each language's convention, indented like the code", () => {
    expect(formatDocComment("Adds two numbers.", "typescript", "  ")).toBe("  /**\n   * Adds two numbers.\n   */");
    expect(formatDocComment("/** Adds. */", "javascript", "")).toBe("/** Adds. */");
    expect(formatDocComment("Adds two numbers.", "python", "    ")).toBe('    """Adds two numbers."""');
    expect(formatDocComment("Add adds.", "go", "")).toBe("// Add adds.");
    expect(formatDocComment("Adds.", "rust", "")).toBe("/// Adds.");
    expect(formatDocComment("```ts\n// Adds.\n```", "typescript", "")).toBe("// Adds.");
  });

  it("names test files safely next to the source", () => {
    expect(testFileName("math.test.ts", "src/math.ts")).toBe("math.test.ts");
    expect(testFileName("../../etc/passwd.txt", "src/math.ts")).toBe("passwd.txt");
    expect(testFileName("no extension", "src/math.ts")).toBe("math.test.ts");
    expect(testFileName("math.ts", "src/math.ts")).toBe("math.test.ts");
    expect(testFileName(42, "lib/x.py")).toBe("x.test.py");
  });

  it("strips a code fence, targets the selection or the whole file, parses --range", () => {
    expect(stripFence("```ts\nlet x = 1;\n```")).toBe("let x = 1;");
    expect(stripFence("let x = 1;")).toBe("let x = 1;");
    const spec = builtinPrompts().find((q) => q.name === "fix")!;
    expect(targetRange(spec, { path: "a", language: "ts", text: "abcdef", selection: { start: 1, end: 3 } })).toEqual({
      start: 1,
      end: 3,
    });
    expect(targetRange(spec, { path: "a", language: "ts", text: "abcdef", selection: { start: 2, end: 2 } })).toEqual({
      start: 0,
      end: 6,
    });
    expect(parseRange("3:7")).toEqual([3, 7]);
    expect(parseRange("4")).toEqual([4, 4]);
    expect(() => parseRange("7:3")).toThrow(/in order/);
    expect(() => parseRange("a-b")).toThrow(/L1:L2/);
  });
});
