import { describe, expect, it } from "vitest";
import { contributes } from "../../package.json";
import { EDIT_TOOLS, grammarForm, READ_TOOLS } from "../../common/agent/agentTools";
import { argsFromOptional, optionalArgsSchema, ToolError, withAbsentAsNull } from "../../common/tools/definition";
import { INDEX_STATUS } from "../../common/tools/indexTools";
import { READ_FILE, SEARCH_CODEBASE } from "../../common/tools/readTools";
import { LM_TOOLS, MCP_TOOLS } from "../../common/tools/catalog";

/** One definition per tool (common/tools/): every surface offers the same name, schema and limits. */
describe("tool definitions", () => {
  it("package.json's languageModelTools inputSchema is each definition's optional form", () => {
    const contributed = Object.fromEntries(contributes.languageModelTools.map((t) => [t.name, t.inputSchema]));
    expect(Object.keys(contributed).sort()).toEqual(Object.keys(LM_TOOLS).sort());
    for (const [name, tool] of Object.entries(LM_TOOLS)) {
      expect(contributed[name], name).toEqual(optionalArgsSchema(tool.parameters));
    }
  });

  it("search_codebase is one tool with one spelling on the agent, MCP and VS Code", () => {
    const agent = READ_TOOLS.find((t) => t.name === "search_codebase")!;
    expect(agent.parameters).toEqual(grammarForm(SEARCH_CODEBASE.parameters));
    expect(JSON.stringify(agent.parameters)).not.toMatch(/minimum|maximum/);
    expect(MCP_TOOLS).toContain(SEARCH_CODEBASE);
    expect(LM_TOOLS.hearth_searchCodebase).toBe(SEARCH_CODEBASE);
    expect(Object.keys(SEARCH_CODEBASE.parameters.properties)).toEqual(["query", "top_k", "mode"]);
  });

  it("the optional form drops null from nullable properties and requires only the rest", () => {
    expect(optionalArgsSchema(READ_FILE.parameters)).toEqual({
      type: "object",
      properties: {
        path: READ_FILE.parameters.properties["path"],
        start_line: { type: "number", minimum: 1, description: "First line (default 1)" },
        end_line: { type: "number", minimum: 1, description: "Last line (default the file's last)" },
      },
      required: ["path"],
      additionalProperties: false,
    });
    expect(optionalArgsSchema(INDEX_STATUS.parameters).required).toEqual([]);
  });

  it("arguments in the optional form are validated, naming the field, and absent ones become null", () => {
    expect(argsFromOptional(SEARCH_CODEBASE, { query: "parse config" })).toEqual({
      query: "parse config",
      top_k: null,
      mode: null,
    });
    expect(() => argsFromOptional(SEARCH_CODEBASE, { query: 42 })).toThrow(/query must be string/);
    expect(() => argsFromOptional(SEARCH_CODEBASE, { query: "x", top_k: 0 })).toThrow(/top_k must be >= 1/);
    expect(() => argsFromOptional(SEARCH_CODEBASE, { query: "x", topK: 3 })).toThrow(ToolError);
    expect(() => argsFromOptional(READ_FILE, { path: "a.ts", start_line: 0 })).toThrow(/start_line/);
  });

  it("a native call that leaves out an optional argument gets it as null, as the grammar would write it", () => {
    expect(withAbsentAsNull(SEARCH_CODEBASE.parameters, { query: "greet" })).toEqual({
      query: "greet",
      top_k: null,
      mode: null,
    });
    // A required, non-nullable property stays absent, so validation still names it.
    expect(withAbsentAsNull(READ_FILE.parameters, { start_line: 2 })).toEqual({ start_line: 2, end_line: null });
  });

  it("every agent tool's schema is in the grammar's form: all properties required", () => {
    for (const tool of [...READ_TOOLS, ...EDIT_TOOLS]) {
      expect(tool.parameters.required.sort(), tool.name).toEqual(Object.keys(tool.parameters.properties).sort());
    }
  });
});
