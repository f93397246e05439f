import { describe, expect, it } from "vitest";
import { continuesCleanly } from "../../bench/fimBenchmark";

// The syntax checks behind `npm run eval:completion`'s multi-line figures (TypeScript's parser, JavaScript).
describe("continuesCleanly: the lines are well-formed code after the prefix, whatever follows", () => {
  const prefix = "import x from './x.js';\n\nfunction f(a) {\n  ";
  it.each([
    ["an unfinished object literal", "return {\n    type: 'string',\n    to: 'string',", true],
    ["an open block", "if (a) {\n    a++;", true],
    ["a closed function and the start of another", "return a;\n}\nfunction g() {", true],
    ["a call cut after an argument", "g(\n    a,", true],
    ["the rest of the function, closed", "return a;\n}\n", true],
    ["an expression missing its operand, then more lines", "var y = ;\n  return y;", false],
    ["a closing brace too many", "return a;\n}\n}", false],
    ["a keyword where a name must be", "var if = 1;\n  return a;", false],
  ])("%s", (_name, text, clean) => {
    expect(continuesCleanly(prefix, text)).toBe(clean);
  });
});
