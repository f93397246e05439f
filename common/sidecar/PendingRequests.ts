import { CancellationTokenSource, type CancellationToken } from "vscode-jsonrpc";
import { HearthError } from "../../shared/errors";

/**
 * The requests in flight on one sidecar connection. {@link run} ties an AbortSignal to a JSON-RPC cancellation
 * token (so aborting sends `$/cancelRequest`) and converts failures to {@link HearthError}; {@link rejectAll}
 * fails every pending request at once when the process dies, so nothing waits on an answer that cannot come.
 * Shared by the CLI's {@link SidecarProcess} and the extension's language-client wrapper.
 */
export class PendingRequests {
  private readonly pending = new Set<(error: HearthError) => void>();

  /** Send with `send(token)`; settle with its result, its error as a HearthError, or a rejectAll error. */
  run<T>(send: (token: CancellationToken) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const source = new CancellationTokenSource();
    const onAbort = () => source.cancel();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) source.cancel();
    let fail: (error: HearthError) => void = () => {};
    return new Promise<T>((resolve, reject) => {
      fail = reject;
      this.pending.add(fail);
      send(source.token).then(resolve, (error) => reject(HearthError.from(error)));
    }).finally(() => {
      this.pending.delete(fail);
      signal?.removeEventListener("abort", onAbort);
      source.dispose();
    });
  }

  /** Number of requests in flight. */
  get size(): number {
    return this.pending.size;
  }

  /** Fail every request in flight with `error`. */
  rejectAll(error: HearthError): void {
    const all = [...this.pending];
    this.pending.clear();
    for (const reject of all) reject(error);
  }
}
