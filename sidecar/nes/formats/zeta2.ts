import type { NesFormatModule, PromptPart } from "./types";
import { editsWithHunks, windowWithCursor } from "./types";

/** Zeta 2's cursor marker (plain text). */
export const ZETA2_CURSOR = "<|user_cursor|>";

/** Lines of read-only context shown above and below the editable region. */
const CONTEXT_LINES = 10;

const ensureBreak = (t: string) => (t === "" || t.endsWith("\n") ? t : `${t}\n`);

/**
 * Zed's Zeta 2 format (the `V0113_Ordered` layout of Zed's `zeta_prompt` crate): Qwen2.5-Coder's file separator
 * and FIM tokens reused — the edit history as one `<|file_sep|>edit history` block of `--- a/{path}` / `+++ b/{path}`
 * unified diffs, then the file under `<|file_sep|>{path}`: `<|fim_prefix|>` with the lines above the editable
 * region, `<|fim_middle|>current` with the region and `<|user_cursor|>` at the cursor, `<|fim_suffix|>` with the
 * lines below, and `<|fim_middle|>updated`, after which the model writes the region rewritten.
 */
export const zeta2Format: NesFormatModule = {
  name: "zeta2",
  build(input) {
    const sep: PromptPart = { special: "<|file_sep|>" };
    const parts: PromptPart[] = [];
    const events = editsWithHunks(input.history).map(
      ({ event, hunks }) => `--- a/${event.path}\n+++ b/${event.path}\n${hunks}`,
    );
    if (events.length) parts.push(sep, `edit history\n${events.join("")}`);
    const before = input.lines.slice(Math.max(0, input.window.start - CONTEXT_LINES), input.window.start);
    const after = input.lines.slice(input.window.end, input.window.end + CONTEXT_LINES);
    parts.push(sep, `${input.path}\n`);
    parts.push({ special: "<|fim_prefix|>" }, `\n${ensureBreak(before.join("\n"))}`);
    parts.push({ special: "<|fim_middle|>" }, `current\n${ensureBreak(windowWithCursor(input, ZETA2_CURSOR))}`);
    parts.push({ special: "<|fim_suffix|>" }, `\n${ensureBreak(after.join("\n"))}`);
    parts.push({ special: "<|fim_middle|>" }, "updated\n");
    return {
      kind: "raw",
      parts,
      stop: ["<|file_sep|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|endoftext|>"],
      parse: (answer) => (answer.endsWith("\n") ? answer.slice(0, -1) : answer).split(ZETA2_CURSOR).join(""),
    };
  },
};
