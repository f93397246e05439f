import type { SidecarMethods, SidecarNotifications } from "../../shared/protocol";

/** Something that can be disposed (same shape as VS Code's Disposable). */
export interface Disposable {
  dispose(): void;
}

/**
 * The typed face of a sidecar connection that host-agnostic code (chat controller, slash commands) uses. Two
 * implementations: the CLI's {@link SidecarProcess} (vscode-jsonrpc over a forked process) and the extension's
 * language client adapter.
 */
export interface SidecarApi {
  /**
   * Send a request. Aborting `signal` sends `$/cancelRequest`; the promise then settles with whatever the
   * sidecar answers (a partial result for `chat/send`).
   * @throws HearthError with a fixed code (SidecarExited when the process dies meanwhile).
   */
  request<M extends keyof SidecarMethods>(
    method: M,
    params: SidecarMethods[M][0],
    signal?: AbortSignal,
  ): Promise<SidecarMethods[M][1]>;
  /** Subscribe to a sidecar notification. */
  onNotification<N extends keyof SidecarNotifications>(
    method: N,
    handler: (params: SidecarNotifications[N]) => void,
  ): Disposable;
}
