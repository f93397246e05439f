/**
 * Tool calling as an engine capability: `chat/send` with `tools` works on every engine and its result carries the
 * calls (`toolCalls`) either way, so no client reads the engine's kind.
 * - An engine with native tool calling (a remote kind whose row says so: `ModelInfo.toolCalls` "native") is sent
 *   the tools as OpenAI `tools`; if it refuses them, or answers a required call in text, the grammar path below
 *   runs instead (or the call is repaired out of the text).
 * - Every other engine (the embedded one; remote kinds without native tools) answers under a grammar built from
 *   the tools' JSON schemas: one JSON object, either `{"name": <a listed tool>, "arguments": <its parameters>}` or,
 *   when the model may answer in words, `{"answer": "..."}` (node-llama-cpp's `createGrammarForJsonSchema`
 *   embedded; `response_format` `json_schema` remote). Even a tiny model cannot name a tool that does not exist or
 *   write broken JSON. This is the "structured generation" idea of llama.cpp's GBNF grammars and of Outlines,
 *   applied to tool calls. A remote engine that ignores `response_format` gets its call repaired out of the text.
 */
import { randomUUID } from "node:crypto";
import { HearthError } from "../../shared/errors";
import {
  ErrorCodes,
  type ChatSendParams,
  type ChatSendResult,
  type ChatTool,
  type ChatToolCall,
  type ModelInfo,
} from "../../shared/protocol";
import type { ChatEngine } from "./types";

/** What the model must answer with under the grammar, and the sentence that tells it so. */
export interface ToolGrammar {
  /** The JSON schema of the answer, enforced token by token by a grammar. */
  schema: object;
  /** Appended to the system prompt: the tools, and the answer's shape. */
  instructions: string;
}

/** Characters a string argument may have when its schema sets no `maxLength`. */
export const DEFAULT_ARGUMENT_MAX_LENGTH = 256;

/**
 * The grammar for `tools` under `choice`: "auto" lets the model answer in words, "required" asks for a call,
 * `{name}` for a call of that tool.
 * @throws HearthError InvalidParams when `choice` names a tool that is not listed.
 */
export function toolGrammar(tools: readonly ChatTool[], choice: ChatSendParams["toolChoice"] = "auto"): ToolGrammar {
  let allowed = tools;
  let allowAnswer = choice === "auto";
  if (typeof choice === "object") {
    allowed = tools.filter((t) => t.name === choice.name);
    if (!allowed.length)
      throw new HearthError(
        ErrorCodes.InvalidParams,
        `Invalid params: 'toolChoice.name' must be one of the tools' names; '${choice.name}' is not.`,
      );
    allowAnswer = false;
  }
  const calls = allowed.map((t) => ({
    type: "object",
    properties: { name: { const: t.name }, arguments: boundStrings(t.parameters) },
  }));
  const answer = { type: "object", properties: { answer: { type: "string" } } };
  const options = allowAnswer ? [...calls, answer] : calls;
  const schema = options.length === 1 ? options[0]! : { oneOf: options };
  const described = allowed
    .map((t) => `- ${t.name}${t.description ? `: ${t.description}` : ""}\n  arguments: ${signature(t.parameters)}`)
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
 * A tool call lifted out of model text that is not pure JSON (what remote engines without grammars write): the
 * first balanced `{…}` object in it, inside a ```json fence or not, with trailing text ignored.
 * @returns the parsed object, or undefined when no JSON object parses.
 */
export function repairToolCall(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text)?.[1];
  for (const source of [fenced, text]) {
    if (!source) continue;
    for (let start = source.indexOf("{"); start >= 0; start = source.indexOf("{", start + 1)) {
      const end = balancedEnd(source, start);
      if (end < 0) continue;
      try {
        return JSON.parse(source.slice(start, end + 1)) as unknown;
      } catch {
        // not JSON from here: try the next brace
      }
    }
  }
  return undefined;
}

/** Index of the `}` closing the `{` at `start` (strings respected), or -1. */
function balancedEnd(s: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i;
  }
  return -1;
}

/** The grammar's answer (or JSON repaired out of text) read as a call, an answer, or neither. */
function readShaped(value: unknown): { call: ChatToolCall } | { answer: string } | undefined {
  const v = value as { name?: unknown; arguments?: unknown; answer?: unknown } | undefined;
  if (typeof v?.name === "string" && v.name) {
    return {
      call: {
        id: `call_${randomUUID().replace(/-/g, "").slice(0, 24)}`,
        name: v.name,
        arguments: JSON.stringify(v.arguments ?? {}),
      },
    };
  }
  if (typeof v?.answer === "string") return { answer: v.answer };
  return undefined;
}

/** Engines that refused native tool calls once: asked under the grammar from then on. */
const refusedNative = new WeakSet<ChatEngine>();

/**
 * `chat/send` on `engine`, tools or not. With tools the result carries `toolCalls` (one or more) or the answer as
 * `text`; when the model's output is neither (a call cut at the token limit), `toolCallError` says so and `text`
 * is what it wrote. On a native engine, a call written in the text instead (a fenced JSON object naming a listed
 * tool) is repaired into a call; an engine that refuses `tools`, or answers a required call in text, is asked
 * again under the grammar (and from then on), with a `notice` saying so. Deltas stream the answer's text only:
 * under the grammar the JSON is held back and the answer sent in one piece at the end.
 * @throws HearthError InvalidParams for `tools` with `responseSchema`, or a `toolChoice` naming no listed tool;
 *   whatever the engine throws.
 */
export async function sendChat(
  engine: ChatEngine,
  info: ModelInfo | undefined,
  params: ChatSendParams,
  onDelta: (text: string) => void,
  signal: AbortSignal,
  onReasoning?: (text: string) => void,
): Promise<ChatSendResult> {
  const tools = params.tools ?? [];
  if (!tools.length) return engine.send(params, onDelta, signal, onReasoning);
  if (params.responseSchema)
    throw new HearthError(ErrorCodes.InvalidParams, "Invalid params: give 'tools' or 'responseSchema', not both.");
  const required = params.toolChoice !== undefined && params.toolChoice !== "auto";
  const listed = (name: string) => tools.some((t) => t.name === name);
  let notice: string | undefined;
  if (info?.toolCalls === "native" && !refusedNative.has(engine)) {
    try {
      const result = await engine.send(params, onDelta, signal, onReasoning);
      if (result.toolCalls?.length || result.stopReason === "cancelled") return result;
      // A call written in the text (a template or model that does not use the engine's tool format).
      const lifted = repairToolCall(result.text);
      const read = readShaped(lifted);
      if (read && "call" in read && listed(read.call.name)) return { ...result, text: "", toolCalls: [read.call] };
      // A reply that is only a JSON object of another shape is a failed call, not an answer.
      if (!read && lifted !== undefined && /^\s*(```(json)?\s*)?\{/.test(result.text) && !required)
        return { ...result, toolCallError: "the model's answer was neither a tool call nor an answer" };
      // The JSON shape asked of grammar engines, written by a model that was shown it before (`{"answer": …}`).
      if (read && "answer" in read && !required) return { ...result, text: read.answer };
      if (!required) return result;
      notice = "The engine answered in text where a tool call was required; asking for JSON calls instead.";
    } catch (error) {
      const e = HearthError.from(error);
      if (signal.aborted || e.code === ErrorCodes.PromptTooLong || e.code === ErrorCodes.Cancelled) throw e;
      // llama-server without --jinja, vLLM without --enable-auto-tool-choice: the grammar instead, from now on.
      notice = `The engine refused native tool calls (${e.userMessage}); asking for JSON calls instead.`;
    }
    refusedNative.add(engine);
  }
  const grammar = toolGrammar(tools, params.toolChoice);
  const { tools: _tools, toolChoice: _choice, ...rest } = params;
  const result = await engine.send(
    {
      ...rest,
      system: [params.system, grammar.instructions].filter(Boolean).join("\n\n"),
      responseSchema: grammar.schema,
    },
    () => {}, // the JSON is not the answer: held back
    signal,
    onReasoning,
  );
  const read = readShaped(result.json ?? repairToolCall(result.text));
  const { json: _json, ...plain } = result;
  const said = notice ? { notice } : {};
  if (read && "call" in read) return { ...plain, ...said, text: "", toolCalls: [read.call] };
  if (read && !required) {
    if (read.answer) onDelta(read.answer);
    return { ...plain, ...said, text: read.answer };
  }
  if (result.stopReason === "cancelled") return { ...plain, ...said };
  return {
    ...plain,
    ...said,
    toolCallError:
      result.stopReason === "maxTokens"
        ? "the tool call was cut at the token limit"
        : required
          ? "the model did not call a tool where one was required"
          : "the model's answer was neither a tool call nor an answer",
  };
}
