import type { SidecarNotifications } from "../../shared/protocol";
import type { Disposable } from "./SidecarApi";

/**
 * The notification handlers of one sidecar connection, by method. Kept apart from the connection so they
 * survive restarts: a new connection routes into the same table. Shared by {@link SidecarProcess} (CLI) and
 * the extension's language-client wrapper.
 */
export class NotificationHandlers {
  private readonly table = new Map<string, Set<(params: unknown) => void>>();

  /**
   * Add a handler. `onFirst` runs when a method gets its first handler, for connections that must subscribe
   * per method (vscode-languageclient).
   */
  add<N extends keyof SidecarNotifications>(
    method: N,
    handler: (params: SidecarNotifications[N]) => void,
    onFirst?: (method: N) => void,
  ): Disposable {
    let set = this.table.get(method);
    if (!set) {
      set = new Set();
      this.table.set(method, set);
      onFirst?.(method);
    }
    const h = handler as (params: unknown) => void;
    set.add(h);
    return { dispose: () => set.delete(h) };
  }

  /** Call every handler of `method`. */
  dispatch(method: string, params: unknown): void {
    for (const handler of this.table.get(method) ?? []) handler(params);
  }

  /** Methods that have (or had) handlers. */
  methods(): string[] {
    return [...this.table.keys()];
  }
}
