import type { SourceRef } from "../chat/conversation";
import type { SearchHit } from "../../shared/protocol";
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
 * Characters of excerpts that fit a chat model's context window with room to spare: half the window at about
 * 2.5 characters per token of code (tokenizers give 2–4). The sidecar refuses a message that does not fit
 * (PromptTooLong), so `@codebase` stays well inside. Infinity when the window is not known.
 * @param contextSize the chat model's context window, tokens.
 */
export function codebaseCharBudget(contextSize: number | undefined): number {
  return contextSize ? Math.floor(contextSize * 1.25) : Number.POSITIVE_INFINITY;
}

/**
 * Retrieved chunks → the context block the model sees before the user's message (numbered excerpts with
 * `path:start-end` headers it is asked to cite) and the {@link SourceRef}s the chat shows under the message.
 * Hits are taken best first while their excerpts fit `maxChars` (see {@link codebaseCharBudget}); `omitted`
 * counts the rest.
 */
export function codebaseContext(
  hits: SearchHit[],
  maxChars = Number.POSITIVE_INFINITY,
): { context: string; sources: SourceRef[]; omitted: number } {
  const blocks: string[] = [];
  let used = 0;
  for (const [i, h] of hits.entries()) {
    const block = `[${i + 1}] ${hitLocation(h)}${h.symbol ? ` (${h.symbol})` : ""}\n\`\`\`${h.language}\n${h.text}\n\`\`\``;
    if (used + block.length > maxChars) break;
    blocks.push(block);
    used += block.length;
  }
  const kept = hits.slice(0, blocks.length);
  if (!kept.length) return { context: "", sources: [], omitted: hits.length };
  const context =
    "Excerpts from the user's codebase, retrieved for the question below. Use them when relevant and cite " +
    `them as path:line.\n\n${blocks.join("\n\n")}`;
  return { context, sources: kept.map(sourceRef), omitted: hits.length - kept.length };
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
