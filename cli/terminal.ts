/**
 * C0 controls but tab and newline, DEL, and C1 controls (ESC starts the CSI / OSC sequences terminals obey); and
 * the invisible formatting characters that reorder or hide text on screen: bidirectional embeddings, overrides and
 * isolates (U+202A–U+202E, U+2066–U+2069), the directional marks (U+200E, U+200F, U+061C), the zero-width space and
 * word joiner (U+200B, U+2060) and the byte-order mark (U+FEFF) — a command shown for confirmation must read as
 * what runs ("Trojan Source", CVE-2021-42574). The zero-width (non-)joiners stay: emoji and Persian need them.
 */
const CONTROL =
  // eslint-disable-next-line no-control-regex -- matching control characters is this module's job
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;

/**
 * Untrusted text made safe to print on a terminal: every control character but tab and newline becomes a
 * visible `\xNN` escape (an invisible formatting character a `\uNNNN` one), so model output, file names and chunk
 * text cannot retitle the window, clear the screen, move the cursor or write the clipboard (OSC 52) of the user's
 * terminal, nor show a command reordered. Applied per character, so text that
 * streams in pieces is covered whatever the split. JSON output needs none (JSON.stringify escapes controls), and
 * the unified diffs of `hearth run` stay byte-exact for `git apply`.
 */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
