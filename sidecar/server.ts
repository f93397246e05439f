import {
  ResponseError,
  type CancellationToken,
  type Connection,
  type InitializeError,
  type InitializeParams,
  type InitializeResult,
} from "vscode-languageserver/node";
import { DeltaCoalescer } from "./DeltaCoalescer";
import { HearthError, toHearthError } from "../shared/errors";
import {
  parseChatSendParams,
  parseIndexBuildParams,
  parseIndexDropParams,
  parseIndexSearchParams,
  parseIndexTarget,
  parseEmbedParams,
  parseEngineModelsParams,
  parseRerankParams,
  parseTokenizeParams,
  parseIndexUpdateParams,
  parseInfillParams,
  parseModelListParams,
  parseModelLoadParams,
  parseModelUnloadParams,
  parseRuntimeConfigureParams,
} from "../shared/guards";
import { IndexManager } from "./search/IndexManager";
import { indexError } from "./search/indexErrors";
import { listEngineModels } from "./engines/remote/detect";
import { EngineRegistry, type Logger } from "./engines/registry";
import { discoverModels } from "./models/discoverModels";
import {
  ErrorCodes,
  PROTOCOL_VERSION,
  type ErrorData,
  type IndexTarget,
  type SidecarInfo,
  type SidecarInitOptions,
  type SidecarMethod,
  type SidecarMethods,
  type SidecarNotifications,
  type StatusParams,
} from "../shared/protocol";
import os from "node:os";

declare const HEARTH_VERSION: string;

/** One method's handler: `parse` validates the raw params (throws HearthError(InvalidParams)), `run` answers. */
interface MethodHandler<M extends SidecarMethod> {
  parse: (raw: unknown) => SidecarMethods[M][0];
  run: (params: SidecarMethods[M][0], signal: AbortSignal) => Promise<SidecarMethods[M][1]>;
}

/** Pairs a parser with its handler, so that the handler's params take the parser's type. */
function method<M extends SidecarMethod>(
  parse: MethodHandler<M>["parse"],
  run: MethodHandler<M>["run"],
): MethodHandler<M> {
  return { parse, run };
}
declare const NODE_LLAMA_CPP_VERSION: string;

/**
 * Wires the sidecar's method table onto an LSP connection: the `initialize` handshake with the protocol version
 * check, one handler per method of {@link SidecarMethods} (each validating its params, mapping
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
    return model
      ? { state: "ready", health: "ok", model, message: `${model} ready` }
      : { state: "idle", health: "ok", message: "No model loaded" };
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
      log,
    });
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
   * The method table: one entry per method of {@link SidecarMethods}, typed so that a method without a
   * handler, or a handler for a method the protocol does not have, does not compile.
   */
  const methods: { [M in SidecarMethod]: MethodHandler<M> } = {
    "model/load": method(parseModelLoadParams, async (params, signal) => {
      const rt = requireRuntime();
      const name = params.model.uri.split(/[\\/]/).pop() ?? params.model.uri;
      setStatus({ state: "loading", health: "ok", message: `Loading ${name}`, model: chatModelName() });
      let lastSent = 0;
      try {
        const info = await rt.load(
          params,
          (phase, fraction, bytes) => {
            if (!params.progressId) return;
            // Throttle to ~20 notifications per second; always send completion.
            const now = Date.now();
            if (fraction < 1 && now - lastSent < 50) return;
            lastSent = now;
            notify("model/progress", {
              progressId: params.progressId,
              phase,
              fraction,
              downloadedBytes: bytes?.downloadedBytes,
              totalBytes: bytes?.totalBytes,
            });
          },
          signal,
        );
        setStatus(readyStatus());
        return info;
      } catch (error) {
        const e = toHearthError(error);
        setStatus({ ...readyStatus(), health: "warning", message: e.message });
        throw e;
      }
    }),
    "model/unload": method(parseModelUnloadParams, async (params) => {
      await requireRuntime().unload(params.role);
      setStatus(readyStatus());
      return null;
    }),
    "model/list": method(parseModelListParams, async (params) => ({
      models: await discoverModels({
        home: params.home ?? os.homedir(),
        folders: params.folders,
        hearthModelsDir: runtime?.modelsDir,
        hfHome: process.env["HF_HOME"],
      }),
    })),
    "chat/send": method(parseChatSendParams, async (params, signal) => {
      const chat = requireRuntime().chat();
      setStatus({ state: "busy", health: "ok", model: chatModelName(), message: "Generating" });
      const stream = new DeltaCoalescer((text) => notify("chat/delta", { streamId: params.streamId, text }));
      const thinking = new DeltaCoalescer((reasoning) =>
        notify("chat/delta", { streamId: params.streamId, text: "", reasoning }),
      );
      try {
        // Each kind flushes the other first, so the client sees reasoning and answer in the order they came.
        return await chat.send(
          params,
          (text) => {
            thinking.flush();
            stream.push(text);
          },
          signal,
          (text) => {
            stream.flush();
            thinking.push(text);
          },
        );
      } finally {
        // Every delta is on the wire before the result: clients rely on that order.
        thinking.flush();
        stream.flush();
        setStatus(readyStatus());
      }
    }),
    "completion/infill": method(parseInfillParams, async (params, signal) =>
      requireRuntime().completion().infill(params, signal),
    ),
    "runtime/configure": method(parseRuntimeConfigureParams, async (params) => {
      const rt = requireRuntime();
      setStatus({ state: "loading", health: "ok", message: "Reconfiguring backend", model: chatModelName() });
      try {
        await rt.configure(params);
      } finally {
        setStatus(readyStatus());
      }
      return rt.stats();
    }),
    "runtime/stats": method(
      () => ({}),
      async () => requireRuntime().stats(),
    ),
    "index/build": method(
      parseIndexBuildParams,
      onIndex(async (params, signal) => {
        const index = await requireIndexes().get(params);
        setStatus({ state: "busy", health: "ok", model: chatModelName(), message: "Indexing" });
        let last = 0;
        try {
          return await index.build(
            params,
            (p) => {
              if (!params.progressId) return;
              const now = Date.now();
              if (p.phase === "index" && now - last < 100) return;
              last = now;
              notify("index/progress", { progressId: params.progressId, ...p });
            },
            signal,
          );
        } finally {
          setStatus(readyStatus());
        }
      }),
    ),
    "index/update": method(
      parseIndexUpdateParams,
      onIndex(async (params, signal) => (await requireIndexes().get(params)).update(params, signal)),
    ),
    "index/search": method(
      parseIndexSearchParams,
      onIndex(async (params, signal) =>
        (await requireIndexes().get(params, true)).search(params, requireRuntime().rerankOrUndefined(), signal),
      ),
    ),
    "index/status": method(
      parseIndexTarget,
      onIndex(async (params) => (await requireIndexes().get(params, true)).status()),
    ),
    "engine/models": method(parseEngineModelsParams, async (params, signal) => listEngineModels(params.engine, signal)),
    "embedding/embed": method(parseEmbedParams, async (params, signal) => {
      const engine = requireRuntime().embedding();
      const { vectors, tokens } = await engine.embed(params.texts, params.kind ?? "document", signal);
      return { vectors: vectors.map((v) => Array.from(v)), dimensions: engine.dimensions, tokens };
    }),
    "model/tokenize": method(parseTokenizeParams, async (params) => ({
      tokens: requireRuntime().tokenize(params.role, params.text, params.special),
    })),
    "rerank/score": method(parseRerankParams, async (params, signal) => ({
      scores: await requireRuntime().rerank().rank(params.query, params.documents, signal),
    })),
    "index/drop": method(
      parseIndexDropParams,
      onIndex(async (params) => ({ dropped: await requireIndexes().drop(params, params.which) })),
    ),
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
