import type { EngineRegistry, Logger } from "../engines/registry";
import type { IndexManager } from "../search/IndexManager";
import type {
  IndexTarget,
  SidecarMethod,
  SidecarMethods,
  SidecarNotifications,
  StatusParams,
} from "../../shared/protocol";

/** One method's handler: `parse` validates the raw params (throws HearthError(InvalidParams)), `run` answers. */
export interface MethodHandler<M extends SidecarMethod> {
  parse: (raw: unknown) => SidecarMethods[M][0];
  run: (params: SidecarMethods[M][0], signal: AbortSignal) => Promise<SidecarMethods[M][1]>;
}

/** Handlers for some of the protocol's methods (a file of `sidecar/methods/` makes one per namespace). */
export type MethodTable<M extends SidecarMethod> = { [K in M]: MethodHandler<K> };

/** Pairs a parser with its handler, so that the handler's params take the parser's type. */
export function method<M extends SidecarMethod>(
  parse: MethodHandler<M>["parse"],
  run: MethodHandler<M>["run"],
): MethodHandler<M> {
  return { parse, run };
}

/** What the method handlers share: the engines, the indexes, the log, the status and the notifications. */
export interface MethodContext {
  log: Logger;
  /** @throws HearthError SidecarExited while shutting down, InvalidParams before `initialize`. */
  engines(): EngineRegistry;
  /** The index manager, made on first use. @throws what {@link engines} throws. */
  indexes(): IndexManager;
  notify<N extends keyof SidecarNotifications>(method: N, params: SidecarNotifications[N]): void;
  setStatus(next: StatusParams): void;
  /** The status when nothing is running: ready with the chat model's name, or idle. */
  readyStatus(): StatusParams;
  /** Where `hf:` and URL models are downloaded, once initialized. */
  modelsDir(): string | undefined;
  /** The chat model's name, when one is loaded. */
  chatModelName(): string | undefined;
  /**
   * An index method's handler whose errors name the database folder: storage faults, damage and lock conflicts
   * get their codes (see `indexError`); the raw LanceDB text goes to the log only.
   */
  onIndex<P extends IndexTarget, R>(
    run: (params: P, signal: AbortSignal) => Promise<R>,
  ): (params: P, signal: AbortSignal) => Promise<R>;
}
