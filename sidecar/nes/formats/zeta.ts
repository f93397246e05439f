import type { NesFormatModule } from "./types";
import { editsWithHunks, windowWithCursor } from "./types";

/** Zeta's markers (plain text in its vocabulary, not special tokens). */
export const ZETA_MARKERS = {
  start: "<|editable_region_start|>",
  end: "<|editable_region_end|>",
  cursor: "<|user_cursor_is_here|>",
  startOfFile: "<|start_of_file|>",
} as const;

/** Lines of read-only context shown above and below the editable region. */
const CONTEXT_LINES = 5;

/**
 * Zed's Zeta (v1, Qwen2.5-Coder-7B based) format, as Zed's `zeta1` code writes it (the example prompt in Zed's
 * `edit_prediction` documentation; the `zed-industries/zeta` dataset has the same sections): an Alpaca-style
 * instruction, the user's edits as unified diffs (`User edited {path}:` and a ```diff block each), and the excerpt
 * in a fenced block named by the path, where the editable
 * region lies between `<|editable_region_start|>` and `<|editable_region_end|>` with `<|user_cursor_is_here|>` at
 * the cursor (`<|start_of_file|>` when the excerpt begins the file). The model answers with the excerpt's fence and
 * the editable region rewritten, ending at `<|editable_region_end|>`.
 */
export const zetaFormat: NesFormatModule = {
  name: "zeta",
  build(input) {
    const events = editsWithHunks(input.history)
      .map(({ event, hunks }) => `User edited ${event.path}:\n\`\`\`diff\n${hunks}\`\`\``)
      .join("\n\n");
    const before = input.lines.slice(Math.max(0, input.window.start - CONTEXT_LINES), input.window.start);
    const after = input.lines.slice(input.window.end, input.window.end + CONTEXT_LINES);
    const excerpt = [
      `\`\`\`${input.path}`,
      ...(input.window.start - before.length === 0 ? [ZETA_MARKERS.startOfFile] : []),
      ...before,
      ZETA_MARKERS.start,
      windowWithCursor(input, ZETA_MARKERS.cursor),
      ZETA_MARKERS.end,
      ...after,
      "```",
    ].join("\n");
    const prompt =
      "### Instruction:\n" +
      "You are a code completion assistant and your task is to analyze user edits and then rewrite an excerpt that " +
      "the user provides, suggesting the appropriate edits within the excerpt, taking into account the cursor " +
      "location.\n\n" +
      `### User Edits:\n\n${events}\n\n` +
      `### User Excerpt:\n\n${excerpt}\n\n` +
      "### Response:\n";
    return {
      kind: "raw",
      parts: [prompt],
      stop: [ZETA_MARKERS.end, "<|endoftext|>"],
      parse(answer) {
        const start = answer.indexOf(ZETA_MARKERS.start);
        if (start < 0) return undefined;
        let region = answer.slice(start + ZETA_MARKERS.start.length);
        if (region.startsWith("\n")) region = region.slice(1);
        if (region.endsWith("\n")) region = region.slice(0, -1);
        return region.split(ZETA_MARKERS.cursor).join("");
      },
    };
  },
};
