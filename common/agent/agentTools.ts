/**
 * The agent's side of the tools: each {@link ToolDefinition} of `common/tools/` adapted to what the agent loop
 * calls (a result text, capped by the loop), plus the tools only a host can offer (`run_command`, VS Code's
 * diagnostics and other extensions' tools), which are {@link AgentTool}s directly.
 */
import type { ToolContext, ToolDefinition, ToolParameters, ToolPermission } from "../tools/definition";
import { CREATE_FILE, PROPOSE_EDIT } from "../tools/editTools";
import { GREP, LIST_FILES, READ_FILE, SEARCH_CODEBASE } from "../tools/readTools";

/** A tool the agent may call: a JSON schema for its arguments (grammar form), a description, a text result. */
export interface AgentTool {
  name: string;
  /** One line for the model. */
  description: string;
  /** JSON schema of the arguments, in the grammar's form (see {@link ToolDefinition.parameters}). */
  parameters: ToolParameters;
  /** The permission it needs (see {@link ToolDefinition.permission}). */
  permission: ToolPermission;
  /**
   * Run it. @returns the result text; the loop cuts a longer one to `MAX_RESULT_CHARS` with a note.
   * @throws ToolError with a sentence for the model (a path outside the folder, a binary file, a bad regex).
   */
  run(args: Record<string, unknown>, ctx: ToolContext): Promise<string>;
}

/** Bounds a JSON Schema can set on a number that node-llama-cpp's grammars cannot enforce. */
const NUMBER_BOUNDS = new Set(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]);

/**
 * A definition's schema as the agent's grammar can enforce it: the same, less the bounds on numbers (a grammar
 * writes any number; each tool's run rounds and clamps it), so that every call the grammar makes validates.
 */
export function grammarForm(parameters: ToolParameters): ToolParameters {
  const strip = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(strip)
      : typeof value === "object" && value !== null
        ? Object.fromEntries(
            Object.entries(value)
              .filter(([k]) => !NUMBER_BOUNDS.has(k))
              .map(([k, v]) => [k, strip(v)]),
          )
        : value;
  return strip(parameters) as ToolParameters;
}

/** A tool definition as the agent calls it: its schema in {@link grammarForm}, its text result. */
export function forAgent(tool: ToolDefinition): AgentTool {
  return {
    name: tool.name,
    description: tool.description,
    parameters: grammarForm(tool.parameters),
    permission: tool.permission,
    run: async (args, ctx) => (await tool.run(args, ctx)).text,
  };
}

/** The agent's read-only tools: search the index, read a file's lines, list files, grep. */
export const READ_TOOLS: AgentTool[] = [SEARCH_CODEBASE, READ_FILE, LIST_FILES, GREP].map(forAgent);

/**
 * The agent's edit tools: each call proposes changes that become one reviewed diff (`ToolContext.review`);
 * nothing is written before the user accepts it.
 */
export const EDIT_TOOLS: AgentTool[] = [PROPOSE_EDIT, CREATE_FILE].map(forAgent);
