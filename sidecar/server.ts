import {
  ResponseError,
  type CancellationToken,
  type Connection,
  type InitializeError,
  type InitializeParams,
  type InitializeResult,
} from "vscode-languageserver/node";
import { HearthError, toHearthError } from "../shared/errors";
import { IndexManager } from "./search/IndexManager";
import { indexError } from "./search/indexErrors";
import { EngineRegistry, type Logger } from "./engines/registry";
import {
  ErrorCodes,
  PROTOCOL_VERSION,
  type ErrorData,
  type IndexTarget,
  type SidecarInfo,
  type SidecarInitOptions,
  type SidecarMethod,
  type SidecarNotifications,
  type StatusParams,
} from "../shared/protocol";
import os from "node:os";
import type { MethodContext, MethodHandler, MethodTable } from "./methods/context";
import { generationMethods } from "./methods/generationMethods";
import { nesMethods } from "./methods/nesMethods";
import { setupMethods } from "./methods/setupMethods";
import { indexMethods } from "./methods/indexMethods";
import { modelMethods } from "./methods/modelMethods";

declare const HEARTH_VERSION: string;

declare const NODE_LLAMA_CPP_VERSION: string;

/**
 * Wires the sidecar's method table onto an LSP connection: the `initialize` handshake with the protocol version
 * check, one handler per method of `SidecarMethods` (each validating its params, mapping
 * `$/cancelRequest` to an AbortSignal and errors to fixed codes), status notifications, and the two-step
 * `shutdown` / `exit` that disposes every llama object.
 */
export function startServer(connection: Connection): void {
  let runtime: EngineRegistry | undefined;
  let indexes: IndexManager | undefined;
  /** Set by `shutdown`: later requests are refused as SidecarExited, a later `initialize` too. */
  let shuttingDown = false;

  const log: Logger = {
    debug: (m) => connection.console.debug(m),
    info: (m) => connection.console.info(m),
    warn: (m) => connection.console.warn(m),
    error: (m) => connection.console.error(m),
  };

  function notify<N extends keyof SidecarNotifications>(method: N, params: SidecarNotifications[N]): void {
    void connection.sendNotification(method, params);
  }

  function setStatus(next: StatusParams): void {
    notify("sidecar/status", next);
  }

  function chatModelName(): string | undefined {
    return runtime?.loaded().find((m) => m.role === "chat")?.name;
  }

  function readyStatus(): StatusParams {
    const model = chatModelName();
    // The status bar's tooltip: each role's model, estimated memory and placement, and roles unloaded to fit.
    const roles = runtime?.memorySummary();
    return model
      ? { state: "ready", health: "ok", model, message: `${model} ready${roles ? `\n${roles}` : ""}` }
      : { state: "idle", health: "ok", message: `No chat model loaded${roles ? `\n${roles}` : ""}` };
  }

  function requireRuntime(): EngineRegistry {
    if (shuttingDown) {
      throw new HearthError(
        ErrorCodes.SidecarExited,
        "The sidecar is shutting down; this request was not run.",
        "Send it again once the sidecar has restarted.",
      );
    }
    if (!runtime) {
      throw new HearthError(ErrorCodes.InvalidParams, "The sidecar was not initialized: send 'initialize' first.");
    }
    return runtime;
  }

  function requireIndexes(): IndexManager {
    indexes ??= new IndexManager(
      () => requireRuntime().embeddingRole(),
      (m) => log.info(m),
    );
    return indexes;
  }

  /**
   * An index method's handler whose errors name the database folder: storage faults, damage and lock
   * conflicts get their codes (see {@link indexError}); the raw LanceDB text goes to the log only.
   */
  function onIndex<P extends IndexTarget, R>(run: (params: P, signal: AbortSignal) => Promise<R>) {
    return async (params: P, signal: AbortSignal): Promise<R> => {
      try {
        return await run(params, signal);
      } catch (error) {
        throw indexError(params.storageDir, error, (m) => log.warn(m));
      }
    };
  }

  /** Register a typed handler: params are validated by `parse`; cancellation becomes an AbortSignal. */
  function register<M extends SidecarMethod>(method: M, { parse, run }: MethodHandler<M>): void {
    connection.onRequest(method, async (raw: unknown, token: CancellationToken) => {
      const abort = new AbortController();
      const subscription = token.onCancellationRequested(() => abort.abort());
      try {
        return await run(parse(raw), abort.signal);
      } catch (error) {
        const hearthError = toHearthError(error);
        if (hearthError.code === ErrorCodes.Internal) {
          log.error(`${method} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        } else {
          log.warn(`${method}: ${hearthError.message}`);
        }
        return new ResponseError<ErrorData | undefined>(hearthError.code, hearthError.message, hearthError.data);
      } finally {
        subscription.dispose();
      }
    });
  }

  connection.onInitialize((params: InitializeParams): InitializeResult | ResponseError<InitializeError> => {
    if (runtime || shuttingDown) {
      // A second runtime would hold a second set of models and backends, and the first would leak.
      return new ResponseError(
        ErrorCodes.InvalidParams,
        "The sidecar is already initialized; a second 'initialize' is refused. Restart the sidecar to change its options.",
        { retry: false },
      );
    }
    const options = params.initializationOptions as Partial<SidecarInitOptions> | undefined;
    if (options?.protocolVersion !== PROTOCOL_VERSION) {
      return new ResponseError(
        ErrorCodes.ProtocolMismatch,
        `Protocol mismatch: the client speaks version ${String(options?.protocolVersion)}, ` +
          `this sidecar speaks ${PROTOCOL_VERSION}. Reinstall or rebuild Hearth so both sides match.`,
        { retry: false },
      );
    }
    runtime = new EngineRegistry({
      modelsDir: options.modelsDir ?? `${os.homedir()}/.cache/hearth/models`,
      gpu: options.gpu ?? "auto",
      threads: options.threads ?? 0,
      allowDownload: options.allowDownload ?? true,
      downloadStallTimeoutMs: options.downloadStallTimeoutMs,
      engineTimeoutMs: options.engineTimeoutMs,
      memoryBudgetBytes: options.memoryBudgetBytes,
      log,
    });
    // The backend's binary check and load overlap with what the client does before its first model load.
    if (options.prepareEngine) void runtime.backend().catch(() => undefined);
    const info: SidecarInfo = {
      protocolVersion: PROTOCOL_VERSION,
      pid: process.pid,
      version: typeof HEARTH_VERSION === "string" ? HEARTH_VERSION : "dev",
      nodeLlamaCppVersion: typeof NODE_LLAMA_CPP_VERSION === "string" ? NODE_LLAMA_CPP_VERSION : "unknown",
      threads: runtime.threads,
    };
    return {
      capabilities: { experimental: { hearth: info } },
      serverInfo: { name: "hearth-sidecar", version: info.version },
    };
  });

  connection.onInitialized(() => setStatus(readyStatus()));

  /**
   * The method table: one entry per method of `SidecarMethods`, typed so that a method without a
   * handler, or a handler for a method the protocol does not have, does not compile. The handlers live in
   * `sidecar/methods/`, one file per namespace.
   */
  const context: MethodContext = {
    log,
    engines: requireRuntime,
    indexes: requireIndexes,
    notify,
    setStatus,
    readyStatus,
    chatModelName,
    modelsDir: () => runtime?.modelsDir,
    onIndex,
  };
  const methods: MethodTable<SidecarMethod> = {
    ...modelMethods(context),
    ...generationMethods(context),
    ...indexMethods(context),
    ...setupMethods(context),
    ...nesMethods(context),
  };
  const registerEntry = <M extends SidecarMethod>(name: M): void => register(name, methods[name]);
  for (const name of Object.keys(methods) as SidecarMethod[]) registerEntry(name);

  connection.onShutdown(async () => {
    shuttingDown = true;
    await indexes?.dispose();
    indexes = undefined;
    await runtime?.dispose();
    runtime = undefined;
  });

  connection.listen();
}
