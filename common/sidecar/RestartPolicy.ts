/**
 * When to restart a crashed sidecar: exponential backoff (base · 2^n, capped), at most `maxRestarts` crashes
 * within `windowMs`; after that, give up and let the user restart by hand. A deliberate stop never restarts
 * (callers simply do not ask). The idea follows vscode-languageclient's default error handler (5 crashes in
 * 3 minutes) with backoff added so a crash loop does not burn the CPU.
 */
export class RestartPolicy {
  private crashes: number[] = [];

  constructor(
    private readonly options: { maxRestarts: number; windowMs: number; baseDelayMs: number; maxDelayMs: number } = {
      maxRestarts: 4,
      windowMs: 3 * 60_000,
      baseDelayMs: 250,
      maxDelayMs: 8_000,
    },
  ) {}

  /**
   * Record a crash at `now` (ms) and return the delay before restarting, in ms, or `undefined` when the crash
   * budget of the window is spent.
   */
  onCrash(now: number = Date.now()): number | undefined {
    this.crashes = this.crashes.filter((t) => now - t < this.options.windowMs);
    this.crashes.push(now);
    const n = this.crashes.length;
    if (n > this.options.maxRestarts) return undefined;
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (n - 1));
  }

  /** Forget past crashes (after a manual restart). */
  reset(): void {
    this.crashes = [];
  }
}
