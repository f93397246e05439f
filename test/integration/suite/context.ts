/**
 * What the concern files of the extension suite share: the extension's id, its API once activated, and waits on
 * real signals (never fixed sleeps).
 */
import type { HearthApi } from "../../../extension/extension";

export const EXTENSION_ID = "hearth.hearth";

/** The extension's API: set by the first test that activates it (the files run in one extension host, in order). */
export const hearth = { api: undefined as unknown as HearthApi };

/** Call `fn` until its result satisfies `ok` (every 100 ms, at most `timeoutMs`); returns that result. */
export async function eventually<T>(
  fn: () => Promise<T>,
  ok: (value: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await fn();
    if (ok(value)) return value;
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function lastMessage() {
  return hearth.api.session.controller.conversation.messages.at(-1);
}
