import { badRequest } from "./openaiErrors";

/** An OpenAI function tool as a request lists it. */
export interface FunctionTool {
  type: "function";
  function: { name: string; description?: string; parameters?: object };
}

/** A tool call as OpenAI's API returns it (`arguments` is JSON text). */
export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** What the model must answer with, and the sentence that tells it so. */
export interface ToolPlan {
  /** The JSON schema of the answer, enforced token by token by a grammar. */
  schema: object;
  /** Appended to the system prompt: the tools, and the answer's shape. */
  instructions: string;
}

/**
 * The grammar plan for a request with `tools`: the answer is one JSON object, either a call
 * `{"name": <one of the tools' names>, "arguments": <that tool's parameters>}` or, when the model may answer in
 * words (`tool_choice` "auto"), `{"answer": "..."}`. Because a grammar built from that schema constrains every
 * token (node-llama-cpp's `createGrammarForJsonSchema`), even a tiny model can only produce a well-formed call to a
 * tool that exists, with arguments of the declared types; it cannot invent a tool or emit broken JSON.
 * This is the "structured generation" idea of llama.cpp's GBNF grammars and of Outlines, applied to tool calls.
 * @param choice `tool_choice`: "auto" (default), "required", or `{type: "function", function: {name}}`.
 * @returns undefined for `tool_choice` "none" (the tools are ignored).
 * @throws ApiError 400 naming the field: a tool without a name, a forced tool that is not listed, a bad choice.
 */
export function planTools(tools: unknown[], choice: unknown): ToolPlan | undefined {
  if (choice === "none") return undefined;
  const list = tools.map((t, i): FunctionTool => {
    const tool = t as Partial<FunctionTool>;
    if (tool.type !== "function" || typeof tool.function?.name !== "string" || !tool.function.name) {
      throw badRequest("Each tool must be {type: 'function', function: {name, parameters}}.", `tools[${i}]`);
    }
    if (
      tool.function.parameters !== undefined &&
      (typeof tool.function.parameters !== "object" || !tool.function.parameters)
    ) {
      throw badRequest("A tool's parameters must be a JSON schema object.", `tools[${i}].function.parameters`);
    }
    return tool as FunctionTool;
  });
  let allowed = list;
  let allowAnswer = true;
  if (choice === "required") allowAnswer = false;
  else if (typeof choice === "object" && choice !== null) {
    const name = (choice as { function?: { name?: unknown } }).function?.name;
    allowed = list.filter((t) => t.function.name === name);
    if (!allowed.length)
      throw badRequest(`tool_choice names '${String(name)}', which is not in 'tools'.`, "tool_choice");
    allowAnswer = false;
  } else if (choice !== undefined && choice !== null && choice !== "auto") {
    throw badRequest(
      "tool_choice must be 'none', 'auto', 'required' or {type: 'function', function: {name}}.",
      "tool_choice",
    );
  }
  const calls = allowed.map((t) => ({
    type: "object",
    properties: {
      name: { const: t.function.name },
      arguments: boundStrings(t.function.parameters ?? { type: "object", properties: {} }),
    },
  }));
  const answer = { type: "object", properties: { answer: { type: "string" } } };
  const options = allowAnswer ? [...calls, answer] : calls;
  const schema = options.length === 1 ? options[0]! : { oneOf: options };
  const described = allowed
    .map(
      (t) =>
        `- ${t.function.name}${t.function.description ? `: ${t.function.description}` : ""}\n  arguments: ${signature(t.function.parameters ?? {})}`,
    )
    .join("\n");
  const instructions =
    `You can call these tools:\n${described}\n` +
    `Reply with one JSON object only: {"name": "<tool>", "arguments": {...}} to call a tool` +
    (allowAnswer ? `, or {"answer": "<your reply>"} to answer without one.` : ".");
  return { schema, instructions };
}

/**
 * A schema written the short way a prompt needs (the grammar enforces the rest): `{path: string, start_line:
 * number | null}`, `[{…}]` for arrays, `"a" | "b"` for enums, with a property's description after it in
 * parentheses. About a third of the tokens of the schema's JSON, which matters in a small model's window.
 */
export function signature(schema: unknown, depth = 0): string {
  if (typeof schema !== "object" || schema === null || depth > 6) return "any";
  const s = schema as Record<string, unknown>;
  if ("const" in s) return JSON.stringify(s["const"]);
  if (Array.isArray(s["enum"])) return s["enum"].map((v) => JSON.stringify(v)).join(" | ");
  for (const key of ["oneOf", "anyOf"]) {
    if (Array.isArray(s[key])) return (s[key] as unknown[]).map((x) => signature(x, depth + 1)).join(" | ");
  }
  const types = Array.isArray(s["type"]) ? (s["type"] as unknown[]) : [s["type"]];
  return types
    .map((type) => {
      if (type === "object") {
        const props = Object.entries((s["properties"] as Record<string, unknown> | undefined) ?? {});
        return `{${props
          .map(([k, v]) => {
            const d = (v as { description?: unknown } | null)?.description;
            return `${k}: ${signature(v, depth + 1)}${typeof d === "string" && d ? ` (${d})` : ""}`;
          })
          .join(", ")}}`;
      }
      if (type === "array") return `[${signature(s["items"], depth + 1)}]`;
      return typeof type === "string" ? type : "any";
    })
    .join(" | ");
}

/** Characters a string argument may have when its schema sets no `maxLength`. */
export const DEFAULT_ARGUMENT_MAX_LENGTH = 256;

/**
 * A copy of `schema` in which every string without `maxLength`, `enum` or `const` gets
 * {@link DEFAULT_ARGUMENT_MAX_LENGTH}: a grammar ends a string only where the model closes it, and a small model
 * may never close one, running the call into the token limit.
 */
function boundStrings(schema: object): object {
  if (Array.isArray(schema)) return schema.map((s: unknown) => (typeof s === "object" && s ? boundStrings(s) : s));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = typeof v === "object" && v !== null ? boundStrings(v) : v;
  const types = Array.isArray(out["type"]) ? out["type"] : [out["type"]];
  if (types.includes("string") && out["maxLength"] === undefined && !("enum" in out) && !("const" in out)) {
    out["maxLength"] = DEFAULT_ARGUMENT_MAX_LENGTH;
  }
  return out;
}

/**
 * Read the model's grammar-shaped answer.
 * @returns a tool call, or the answer text.
 */
export function readToolAnswer(json: unknown, id: string): { call: ToolCall } | { answer: string } {
  const value = json as { name?: unknown; arguments?: unknown; answer?: unknown };
  if (typeof value?.name === "string") {
    return {
      call: { id, type: "function", function: { name: value.name, arguments: JSON.stringify(value.arguments ?? {}) } },
    };
  }
  return { answer: typeof value?.answer === "string" ? value.answer : "" };
}

/**
 * The text a past assistant tool call or tool result stands for in the conversation the model sees (Hearth's
 * chat has user and assistant turns only): a call as the JSON the model wrote, a result as a user turn.
 */
export function toolTurnText(message: {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ function?: { name?: string; arguments?: string } }>;
  tool_call_id?: string;
  name?: string;
}): string {
  if (message.role === "assistant" && message.tool_calls?.length) {
    return message.tool_calls
      .map((c) => {
        let args: unknown;
        try {
          args = JSON.parse(c.function?.arguments ?? "{}");
        } catch {
          args = c.function?.arguments ?? {};
        }
        return JSON.stringify({ name: c.function?.name, arguments: args });
      })
      .join("\n");
  }
  const content = typeof message.content === "string" ? message.content : JSON.stringify(message.content ?? "");
  return `Tool result${message.name ? ` of ${message.name}` : ""}${message.tool_call_id ? ` (call ${message.tool_call_id})` : ""}: ${content}`;
}
