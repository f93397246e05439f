import type { ChatMessage, ChatSendResult, ChatToolCall, GenerationParams } from "../../shared/protocol";
import { checkJsonSchema } from "../../shared/guards";
import { badRequest, checkClientField } from "./openaiErrors";
import type * as schemas from "./schemas";
import { toolTurnText, type chatTools } from "./tools";

/*
 * The one request-normalisation layer of `hearth serve`: what OpenAI's, llama.cpp's and Ollama's routes share once a
 * body is read — messages into Hearth's turns, stop strings, response formats, limits.
 */

/** One chat request in Hearth's terms, whichever API it came in by (OpenAI's or Ollama's). */
export interface ChatRequest {
  /** The system prompt ("" for none). */
  system: string;
  /** User and assistant turns, alternating, the last the user's. */
  messages: ChatMessage[];
  params: GenerationParams;
  /** Stop strings: the answer ends before the first (not with tools). */
  stops: string[];
  /** Constrain the answer to JSON of this schema. */
  responseSchema?: object;
  /** Tools the model may call, and the choice (see `chatTools`). */
  tools?: NonNullable<ReturnType<typeof chatTools>>;
}

/** A chat's answer as `runChat` gives it. */
export interface ChatAnswer {
  result: ChatSendResult;
  /** The answer's text, cut at the stop string that ended it. */
  text: string;
  /** Reasoning text the model wrote before its answer ("" for none). */
  reasoning: string;
  /** OpenAI's finish reason. */
  finish: "stop" | "length" | "tool_calls";
  toolCalls: ChatToolCall[];
}

/** OpenAI messages → Hearth's: system (and developer) messages joined into the system prompt; text parts joined. */
export function chatMessages(input: schemas.ChatBody["messages"]): { system: string; messages: ChatMessage[] } {
  const system: string[] = [];
  const messages: ChatMessage[] = [];
  input.forEach((m, i) => {
    let content: string;
    if (typeof m.content === "string" || m.content == null) content = m.content ?? "";
    else {
      content = m.content
        .map((part, j) => {
          if (part.type !== "text" || typeof part.text !== "string") {
            throw badRequest(`Only text parts are served, not '${part.type}'.`, `messages[${i}].content[${j}].type`);
          }
          return part.text;
        })
        .join("");
    }
    if (m.role === "system" || m.role === "developer") {
      system.push(content);
      return;
    }
    let turn: ChatMessage;
    if (m.role === "tool" || (m.role === "assistant" && m.tool_calls?.length)) {
      turn = { role: m.role === "tool" ? "user" : "assistant", content: toolTurnText(m) };
    } else if (m.role === "user" || m.role === "assistant") turn = { role: m.role, content };
    else throw badRequest(`Messages of role '${m.role}' are not served.`, `messages[${i}].role`);
    // Several tool results in a row are one user turn: the history alternates.
    const last = messages.at(-1);
    if (last?.role === turn.role) last.content = `${last.content}\n\n${turn.content}`;
    else messages.push(turn);
  });
  if (messages.at(-1)?.role !== "user") {
    throw badRequest("The last message must be the user's.", `messages[${Math.max(0, input.length - 1)}].role`);
  }
  return { system: system.join("\n\n"), messages };
}

/**
 * A JSON schema from `response_format` (`json_schema`), or undefined for text.
 * @throws ApiError 400 naming `response_format.json_schema.schema` for a schema over the bounds (size, depth, enum).
 */
export function responseSchemaOf(format: schemas.ChatBody["response_format"]): object | undefined {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_schema") {
    if (!format.json_schema?.schema)
      throw badRequest("'json_schema.schema' is required.", "response_format.json_schema.schema");
    const schema = format.json_schema.schema;
    checkClientField(() => checkJsonSchema(schema, "response_format.json_schema.schema"));
    return schema;
  }
  // llama-server's `json_object` with a `schema` beside it; else any JSON object, enforced by a grammar.
  if (format.schema) return clientSchema(format.schema, "response_format.schema");
  return { type: "object", additionalProperties: true };
}

/**
 * A JSON schema the client sent for the answer, checked against the shared bounds under the client's name for it.
 * @throws ApiError 400 naming `field` for a schema over the bounds or not a schema.
 */
export function clientSchema(schema: object, field: string): object {
  checkClientField(() => checkJsonSchema(schema, field));
  return schema;
}

/** `max_tokens` as Hearth's `maxTokens`: -1 and null mean the default limit. */
export function noLimit(maxTokens: number | null | undefined): number | undefined {
  return maxTokens === -1 || maxTokens === null ? undefined : maxTokens;
}

/** `stop` as a list without empty strings (a string is a list of one; null and absent are none). */
export function stopList(stop: string | string[] | null | undefined): string[] {
  return (typeof stop === "string" ? [stop] : (stop ?? [])).filter((s) => s.length > 0);
}

/** Where the first stop string starts in `text`, looking only where a new one can end (after `from`). */
export function firstStop(text: string, stops: string[], from: number): number | undefined {
  let best: number | undefined;
  for (const s of stops) {
    const at = text.indexOf(s, Math.max(0, from - s.length + 1));
    if (at >= 0 && (best === undefined || at < best)) best = at;
  }
  return best;
}

/** `value` without its undefined fields (so that a sidecar request carries only what the client gave). */
export function strip<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
