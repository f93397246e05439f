import type { AgentEvent } from "./AgentLoop";

/** Characters of a result the chat view shows unfolded (the model got up to the result cap). */
export const SHOWN_RESULT_CHARS = 4_000;

/** Inline code that no backquote in `text` can close early; newlines become spaces. */
function code(text: string): string {
  const flat = text.replace(/\s*\n\s*/g, " ").slice(0, 300);
  const fence = "`".repeat(Math.max(1, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return `${fence} ${flat} ${fence}`;
}

/** Text for inside HTML: `&`, `<`, `>` and `"` escaped. */
function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * A line of the agent's transcript as chat markdown: every call with its arguments as inline code; every result
 * folded, a `<details>` whose summary is its first line and whose body is the result as plain text (escaped, on
 * one source line so that markdown never parses inside it: a blank line would end the HTML block); notices.
 * The chat view's sanitizer still checks all of it (`webview/markdown.ts`).
 * @returns undefined for the answer, which the host adds as the message's text.
 */
export function transcriptMarkdown(e: AgentEvent): string | undefined {
  switch (e.kind) {
    case "call":
      return `**${e.step} → ${e.name}** ${code(JSON.stringify(e.args))}`;
    case "result": {
      const lines = e.text.split("\n");
      const more = lines.length > 1 ? ` (+${lines.length - 1} lines)` : "";
      const summary = escapeHtml(`${e.step} ← ${e.error ? "error: " : ""}${(lines[0] ?? "").slice(0, 200)}${more}`);
      const shown = e.text.length > SHOWN_RESULT_CHARS ? `${e.text.slice(0, SHOWN_RESULT_CHARS)}\n[…]` : e.text;
      return `<details><summary>${summary}</summary><pre>${escapeHtml(shown).replace(/\r?\n/g, "&#10;")}</pre></details>`;
    }
    case "invalid":
      return `${e.step} ⚠ invalid call (${e.reason.slice(0, 300)}), sent back to the model`;
    case "trimmed":
      return `${e.step} ✂ ${e.notice}`;
    case "notice":
      return `${e.step} ℹ ${e.text}`;
    case "answer":
      return undefined;
  }
}
