import type { SourceRef } from "../../common/chat/conversation";
import {
  codebaseCharBudget,
  codebaseContext,
  mentionsCodebase,
  withoutMention,
} from "../../common/search/codebaseContext";
import { HearthError } from "../../shared/errors";
import { ErrorCodes } from "../../shared/protocol";
import type { IndexController } from "../search/IndexController";

/** A line for the chat's notice area. */
export type Notice = { kind: "info" | "error"; text: string };

/**
 * `@codebase` in a message: the index's top `topK` chunks for it, as context the model sees before the message
 * and as sources shown under it. Anything that stops retrieval (no folder, empty index, a failed search)
 * becomes a notice and the message goes without context; only cancellation is thrown.
 * @throws HearthError(Cancelled) when `signal` aborts the search.
 */
export async function retrieveCodebase(
  text: string,
  index: IndexController | undefined,
  options: {
    topK: number;
    /** The chat model's context window, tokens: excerpts are cut to fit it (see `codebaseCharBudget`). */
    contextSize?: number | undefined;
    signal?: AbortSignal | undefined;
    notice: (n: Notice) => void;
  },
): Promise<{ context?: string; sources?: SourceRef[] }> {
  if (!mentionsCodebase(text)) return {};
  if (!index?.target()) {
    options.notice({
      kind: "error",
      text: "@codebase needs a folder open in VS Code; sending without codebase context.",
    });
    return {};
  }
  try {
    const result = await index.search(withoutMention(text) || text, { topK: options.topK, signal: options.signal });
    if (!result.hits.length) {
      options.notice({
        kind: "info",
        text: "@codebase: the index has nothing for this question; sending without codebase context.",
      });
      return {};
    }
    const { context, sources, omitted } = codebaseContext(result.hits, codebaseCharBudget(options.contextSize));
    if (omitted) {
      options.notice({
        kind: "info",
        text: `@codebase: ${omitted} of ${result.hits.length} excerpts left out to fit the ${options.contextSize}-token context window.`,
      });
    }
    return sources.length ? { context, sources } : {};
  } catch (error) {
    const e = HearthError.from(error);
    if (e.code === ErrorCodes.Cancelled) throw error;
    options.notice({
      kind: "error",
      text: `@codebase search failed (${e.userMessage}); sending without codebase context.`,
    });
    return {};
  }
}
