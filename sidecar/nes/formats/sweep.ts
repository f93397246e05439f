import type { NesFormatModule, PromptPart } from "./types";
import { trimFinalBreak, windowText } from "./types";

/**
 * Sweep's next-edit format (Sweep Next-Edit 0.5B / 1.5B, Qwen2.5-Coder based), as Sweep describes it in its
 * announcement ("Open sourcing a 1.5B parameter Next-Edit Autocomplete Model", blog.sweep.dev, 2026) and model card:
 * Qwen2.5-Coder's own pretraining separator `<|file_sep|>` between blocks — each recent edit as a `{path}.diff`
 * block of `original:` / `updated:` text (not unified-diff syntax, which scored lower in Sweep's format search),
 * then the fixed window around the cursor as it was before the last edit (`original/{path}`) and as it is now
 * (`current/{path}`), then `updated/{path}`, after which the model writes the window rewritten. The window is a
 * fixed 21 lines (10 above and below the cursor line), which the model was trained on.
 *
 *     <|file_sep|>src/a.ts.diff
 *     original:
 *     {hunk before}
 *     updated:
 *     {hunk after}
 *     <|file_sep|>original/src/a.ts
 *     {window before the last edit}
 *     <|file_sep|>current/src/a.ts
 *     {window now}
 *     <|file_sep|>updated/src/a.ts
 *     {the model's rewrite}<|file_sep|>
 */
export const sweepFormat: NesFormatModule = {
  name: "sweep",
  build(input) {
    const sep: PromptPart = { special: "<|file_sep|>" };
    const parts: PromptPart[] = [];
    for (const event of input.history) {
      parts.push(
        sep,
        `${event.path}.diff\noriginal:\n${trimFinalBreak(event.original)}\nupdated:\n${trimFinalBreak(event.updated)}\n`,
      );
    }
    parts.push(sep, `original/${input.path}\n${input.original}\n`);
    parts.push(sep, `current/${input.path}\n${windowText(input)}\n`);
    parts.push(sep, `updated/${input.path}\n`);
    return {
      kind: "raw",
      parts,
      stop: ["<|file_sep|>", "<|endoftext|>"],
      parse: (answer) => trimFinalBreak(answer),
    };
  },
};
