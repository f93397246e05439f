import type { SourceRef } from "../../shared/webviewProtocol";
import type { ChatSendResult, GenerationParams } from "../../shared/protocol";
import { parseGenerationParams } from "../../shared/guards";

/** Format version of stored conversations; bumped on incompatible changes. */
export const CONVERSATION_FORMAT = 1;

/** One message as stored: role, text and ISO-8601 timestamp, plus the answer's figures for assistant turns. */
export interface StoredMessage {
  role: "user" | "assistant";
  content: string;
  /** ISO-8601, e.g. "2026-11-20T10:00:00.000Z". */
  timestamp: string;
  /**
   * Assistant turns: why generation ended ("cancelled" answers are kept, marked; "interrupted": the sidecar or a
   * remote engine stopped mid-answer, and `content` is what had arrived).
   */
  stopReason?: ChatSendResult["stopReason"] | "interrupted";
  /** Assistant turns: how many older messages had to be left out of the context window for this answer. */
  droppedMessages?: number;
  /**
   * Assistant turns: what a reasoning model thought before `content`; shown folded, never sent back to the model
   * as history and never part of a code block.
   */
  reasoning?: string;
  /**
   * User turns: retrieved context the model saw before `content` (code chunks from `@codebase`), kept apart
   * from what the user typed so the chat shows the question and lists the chunks as {@link sources}.
   */
  context?: string;
  /** User turns: the chunks in `context`, with the scores that selected them. */
  sources?: SourceRef[];
}

export type { SourceRef };

/** A chat as saved to disk (`/save`, the per-workspace history) and loaded back (`/load`). */
export interface Conversation {
  format: typeof CONVERSATION_FORMAT;
  id: string;
  title: string;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601. */
  updatedAt: string;
  system?: string;
  params?: GenerationParams;
  messages: StoredMessage[];
}

/** A new empty conversation with a random id. */
export function newConversation(now: Date = new Date()): Conversation {
  const iso = now.toISOString();
  return {
    format: CONVERSATION_FORMAT,
    id: randomId(),
    title: "New chat",
    createdAt: iso,
    updatedAt: iso,
    messages: [],
  };
}

/** A random id of 16 hex digits (crypto when available). */
export function randomId(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A title from the first user message: its first line, at most 60 characters. */
export function titleFrom(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || "New chat";
}

/** Serialise a conversation as pretty JSON (stable key order, trailing newline). */
export function serializeConversation(conversation: Conversation): string {
  return `${JSON.stringify(conversation, null, 2)}\n`;
}

/** Thrown by {@link parseConversation} with the path of the offending field. */
export class ConversationFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConversationFormatError";
  }
}

/**
 * A stored source must be a workspace-relative location with sane lines, as `location/open` would accept it.
 * (No Node modules here: the webview type-checks this file too.)
 */
function checkSource(value: unknown, field: string, fail: (field: string, expected: string) => never): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(field, "an object");
  const ref = value as Record<string, unknown>;
  if (
    typeof ref["path"] !== "string" ||
    !ref["path"] ||
    /^([\\/]|[A-Za-z]:)/.test(ref["path"]) ||
    /(^|[\\/])\.\.([\\/]|$)/.test(ref["path"])
  )
    fail(`${field}.path`, "a path relative to the workspace, without '..'");
  const start = ref["startLine"];
  const end = ref["endLine"];
  if (!Number.isInteger(start) || (start as number) < 1) fail(`${field}.startLine`, "a line number (1 or more)");
  if (!Number.isInteger(end) || (end as number) < (start as number))
    fail(`${field}.endLine`, "a line number ≥ startLine");
  if (typeof ref["score"] !== "number" || !Number.isFinite(ref["score"])) fail(`${field}.score`, "a finite number");
  if (typeof ref["why"] !== "string") fail(`${field}.why`, "a string");
  if (ref["symbol"] !== undefined && typeof ref["symbol"] !== "string") fail(`${field}.symbol`, "a string");
}

/**
 * Parse and validate a stored conversation.
 *
 * @param source where the text came from, for the error message (a file path).
 * @throws ConversationFormatError naming the source and the field that is wrong.
 */
export function parseConversation(text: string, source = "conversation"): Conversation {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConversationFormatError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const fail = (field: string, expected: string): never => {
    throw new ConversationFormatError(`${source}: '${field}' must be ${expected}.`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail("(root)", "an object");
  const c = value as Record<string, unknown>;
  if (c["format"] !== CONVERSATION_FORMAT) fail("format", `${CONVERSATION_FORMAT}`);
  for (const key of ["id", "title", "createdAt", "updatedAt"]) {
    if (typeof c[key] !== "string") fail(key, "a string");
  }
  for (const key of ["createdAt", "updatedAt"]) {
    if (Number.isNaN(Date.parse(c[key] as string))) fail(key, "an ISO-8601 timestamp");
  }
  if (c["system"] !== undefined && typeof c["system"] !== "string") fail("system", "a string");
  if (c["params"] !== undefined) {
    // The ranges the sidecar accepts (one definition, in its guards): a file cannot smuggle in what a request can't.
    try {
      parseGenerationParams(c["params"]);
    } catch (error) {
      throw new ConversationFormatError(`${source}: ${(error as Error).message.replace(/^Invalid params: /, "")}`);
    }
  }
  if (!Array.isArray(c["messages"])) fail("messages", "an array");
  const messages = (c["messages"] as unknown[]).map((m, i): StoredMessage => {
    if (typeof m !== "object" || m === null) fail(`messages[${i}]`, "an object");
    const msg = m as Record<string, unknown>;
    if (msg["role"] !== "user" && msg["role"] !== "assistant") fail(`messages[${i}].role`, "'user' or 'assistant'");
    if (typeof msg["content"] !== "string") fail(`messages[${i}].content`, "a string");
    if (typeof msg["timestamp"] !== "string" || Number.isNaN(Date.parse(msg["timestamp"]))) {
      fail(`messages[${i}].timestamp`, "an ISO-8601 timestamp");
    }
    if (msg["context"] !== undefined && typeof msg["context"] !== "string") fail(`messages[${i}].context`, "a string");
    if (msg["reasoning"] !== undefined && typeof msg["reasoning"] !== "string") {
      fail(`messages[${i}].reasoning`, "a string");
    }
    if (msg["sources"] !== undefined) {
      if (!Array.isArray(msg["sources"])) fail(`messages[${i}].sources`, "an array");
      (msg["sources"] as unknown[]).forEach((ref, j) => checkSource(ref, `messages[${i}].sources[${j}]`, fail));
    }
    return msg as unknown as StoredMessage;
  });
  return { ...(c as unknown as Conversation), messages };
}
