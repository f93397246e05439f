import type { SourceRef } from "../chat/conversation";
import type { SearchHit } from "../../sidecar/protocol";
import { describeScores, hitLocation } from "./format";

/** `@codebase` anywhere in a chat message (as a word) asks for retrieved code as context. */
const MENTION = /(^|\s)@codebase\b/i;

/** Whether a message asks for codebase context. */
export function mentionsCodebase(text: string): boolean {
  return MENTION.test(text);
}

/** The message without the `@codebase` mention: what is searched for. */
export function withoutMention(text: string): string {
  return text.replace(new RegExp(MENTION.source, "gi"), " ").replace(/\s+/g, " ").trim();
}

/**
 * Retrieved chunks → the context block the model sees before the user's message (numbered excerpts with
 * `path:start-end` headers it is asked to cite) and the {@link SourceRef}s the chat shows under the message.
 */
export function codebaseContext(hits: SearchHit[]): { context: string; sources: SourceRef[] } {
  const blocks = hits.map(
    (h, i) => `[${i + 1}] ${hitLocation(h)}${h.symbol ? ` (${h.symbol})` : ""}\n\`\`\`${h.language}\n${h.text}\n\`\`\``,
  );
  const context =
    "Excerpts from the user's codebase, retrieved for the question below. Use them when relevant and cite " +
    `them as path:line.\n\n${blocks.join("\n\n")}`;
  return { context, sources: hits.map(sourceRef) };
}

/** A hit as the chat stores and shows it: its location, score, and the scores as text. */
export function sourceRef(h: SearchHit): SourceRef {
  return {
    path: h.path,
    startLine: h.startLine,
    endLine: h.endLine,
    ...(h.symbol ? { symbol: h.symbol } : {}),
    score: h.score,
    why: describeScores(h.scores),
  };
}
