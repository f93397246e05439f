/**
 * Sends streamed text without flooding the channel: the first piece goes out at once (time to first token is
 * what users feel), later pieces at most once per `intervalMs`. A model slower than that (most real models on
 * CPU: tens of ms per token) still gets one notification per token; a very fast one gets batches, which keeps
 * the per-message IPC cost off the decode loop.
 */
export class DeltaCoalescer {
  private buffer = "";
  private lastSent = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly send: (text: string) => void,
    private readonly intervalMs = 16,
  ) {}

  push(text: string): void {
    this.buffer += text;
    const now = performance.now();
    if (this.lastSent === 0 || now - this.lastSent >= this.intervalMs) {
      this.flush();
    } else {
      this.timer ??= setTimeout(() => this.flush(), this.intervalMs - (now - this.lastSent));
    }
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.buffer) return;
    const text = this.buffer;
    this.buffer = "";
    this.lastSent = performance.now();
    this.send(text);
  }
}
