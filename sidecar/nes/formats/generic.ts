import type { NesFormatModule } from "./types";
import { editsWithHunks, windowWithCursor } from "./types";

/** The cursor as the generic prompt marks it. */
export const GENERIC_CURSOR = "<|cursor|>";

/** The answer's shape: the window rewritten, as one string. */
export const GENERIC_SCHEMA = {
  type: "object",
  properties: { window: { type: "string" } },
  required: ["window"],
  additionalProperties: false,
} as const;

const SYSTEM =
  "You predict the next edit a programmer makes. You are shown their recent edits as unified diffs and a window " +
  `of the file they are editing, with ${GENERIC_CURSOR} at the cursor. Answer with the whole window rewritten ` +
  "with the edit they will most likely make next (often the same change applied to more places, or the change " +
  "they started, finished): every line of the window, in order, without the cursor marker, and nothing else. " +
  "When no edit is due, answer with the window unchanged.";

/**
 * The generic format, for any chat (instruct) model: the recent edits as unified diffs and the window with a cursor
 * marker in one user message; the answer is JSON `{"window": "…"}` generated under a grammar (embedded engine) or
 * `response_format` (remote), so a small model cannot answer off-format.
 */
export const genericFormat: NesFormatModule = {
  name: "generic",
  build(input) {
    const edits = editsWithHunks(input.history)
      .map(({ event, hunks }) => `--- ${event.path}\n+++ ${event.path}\n${hunks}`)
      .join("");
    const user =
      `Recent edits:\n${edits || "(none)\n"}\n` +
      `File: ${input.path}\nWindow:\n\`\`\`\n${windowWithCursor(input, GENERIC_CURSOR)}\n\`\`\``;
    return {
      kind: "chat",
      system: SYSTEM,
      user,
      schema: GENERIC_SCHEMA,
      parse(answer) {
        try {
          const value = JSON.parse(answer) as { window?: unknown };
          if (typeof value.window !== "string") return undefined;
          return value.window.split(GENERIC_CURSOR).join("").replace(/\n$/, "");
        } catch {
          return undefined;
        }
      },
    };
  },
};
