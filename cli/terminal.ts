/** C0 controls but tab and newline, DEL, and C1 controls (ESC starts the CSI / OSC sequences terminals obey). */
// eslint-disable-next-line no-control-regex -- matching control characters is this module's job
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Untrusted text made safe to print on a terminal: every control character but tab and newline becomes a
 * visible `\xNN` escape, so model output, file names and chunk text cannot retitle the window, clear the screen,
 * move the cursor or write the clipboard (OSC 52) of the user's terminal. Applied per character, so text that
 * streams in pieces is covered whatever the split. JSON output needs none (JSON.stringify escapes controls), and
 * the unified diffs of `hearth run` stay byte-exact for `git apply`.
 */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
