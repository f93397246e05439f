import { fork, type ChildProcess } from "node:child_process";
import {
  createMessageConnection,
  IPCMessageReader,
  IPCMessageWriter,
  type MessageConnection,
} from "vscode-jsonrpc/node";
import {
  PROTOCOL_VERSION,
  type SidecarInfo,
  type SidecarInitOptions,
  type SidecarMethods,
  type SidecarNotifications,
} from "../../shared/protocol";
import { RestartPolicy } from "./RestartPolicy";
import type { Disposable, SidecarApi } from "./SidecarApi";
import { NotificationHandlers } from "./NotificationHandlers";
import { PendingRequests } from "./PendingRequests";
import { sidecarExited } from "../../shared/errors";

/** glibc's heap trim threshold for the sidecar, bytes (mallopt(3) `M_TRIM_THRESHOLD`; its initial default). */
export const SIDECAR_MALLOC_TRIM_THRESHOLD = 128 * 1024;

/**
 * The sidecar's environment: the parent's, with glibc's `MALLOC_TRIM_THRESHOLD_` set to
 * {@link SIDECAR_MALLOC_TRIM_THRESHOLD} unless the parent sets it or a `glibc.malloc.*` tunable. Setting it also
 * keeps glibc's mmap threshold at its 128 KiB default, where it would otherwise grow as large blocks are freed
 * (mallopt(3), "dynamic mmap threshold"), so the memory llama.cpp allocates and frees while it loads a model's
 * vocabulary goes back to the system instead of staying in the heap. Measured (`bench:memory`, issue 21): sidecar
 * RSS after a chat answer 2,028–2,058 → 1,986–2,002 MiB on a model with a 151,936-token vocabulary, 852–855 →
 * 834–836 MiB with 32,256 tokens; chat TTFT, decode, search and index build unchanged within run-to-run spread.
 * Other C libraries ignore the variable. @returns a new object; `parent` is not changed.
 */
export function sidecarEnvironment(parent: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...parent };
  if (env["MALLOC_TRIM_THRESHOLD_"] === undefined && !/glibc\.malloc\./.test(env["GLIBC_TUNABLES"] ?? "")) {
    env["MALLOC_TRIM_THRESHOLD_"] = String(SIDECAR_MALLOC_TRIM_THRESHOLD);
  }
  return env;
}

export interface SidecarProcessOptions {
  /** Path of the built sidecar bundle (`dist/sidecar.mjs`). */
  sidecarPath: string;
  init: Omit<SidecarInitOptions, "protocolVersion">;
  /** Restart after a crash (default true). */
  restart?: boolean;
  restartPolicy?: RestartPolicy;
  /** Receives the sidecar's log lines (LSP `window/logMessage`): type 1 error … 4 log, 5 debug. */
  onLog?: (type: number, message: string) => void;
  /** Called after a restart that followed a crash (not after the first start). */
  onRestarted?: (info: SidecarInfo) => void;
  /** What a request cut off by a crash tells the user to do (default: HearthError's RESTARTING_HINT). */
  crashHint?: string;
  /** Called when the process exits unexpectedly, with the restart delay (undefined: given up). */
  onCrash?: (detail: string, restartInMs: number | undefined) => void;
  /** Node options of the sidecar process, e.g. `["--cpu-prof", "--cpu-prof-dir=…"]` (default: this process's). */
  execArgv?: string[];
}

/**
 * A sidecar child process spoken to with vscode-jsonrpc over Node IPC: the CLI's, the tests' and the benchmarks'
 * way in (the extension uses vscode-languageclient instead). Performs the LSP handshake (`initialize` with the
 * protocol version, `initialized`), routes notifications, rejects every pending request with a SidecarExited
 * error when the process dies, restarts it per {@link RestartPolicy}, and shuts down in two steps
 * (`shutdown` request, then `exit` notification).
 */
export class SidecarProcess implements SidecarApi {
  private child?: ChildProcess;
  private connection?: MessageConnection;
  private readonly handlers = new NotificationHandlers();
  private readonly pending = new PendingRequests();
  private stopping = false;
  private startPromise?: Promise<SidecarInfo>;
  private readonly policy: RestartPolicy;
  private infoValue?: SidecarInfo;

  constructor(private readonly options: SidecarProcessOptions) {
    this.policy = options.restartPolicy ?? new RestartPolicy();
  }

  /** Info from the last successful `initialize`. */
  get info(): SidecarInfo | undefined {
    return this.infoValue;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Start the process and complete the handshake. Concurrent calls share one start. */
  start(): Promise<SidecarInfo> {
    this.startPromise ??= this.spawn().catch((error) => {
      this.startPromise = undefined;
      throw error;
    });
    return this.startPromise;
  }

  private async spawn(): Promise<SidecarInfo> {
    this.stopping = false;
    const child = fork(this.options.sidecarPath, ["--node-ipc"], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      ...(this.options.execArgv ? { execArgv: this.options.execArgv } : {}),
      env: sidecarEnvironment(process.env),
    });
    this.child = child;
    // stdout must stay clean; anything that reaches it anyway is a bug worth seeing in the log.
    child.stdout?.on("data", (d: Buffer) => this.options.onLog?.(2, `[stdout] ${d.toString().trimEnd()}`));
    child.stderr?.on("data", (d: Buffer) => this.options.onLog?.(1, `[stderr] ${d.toString().trimEnd()}`));
    const connection = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    this.connection = connection;
    connection.onNotification((method, params) => {
      if (method === "window/logMessage") {
        const p = params as { type: number; message: string };
        this.options.onLog?.(p.type, p.message);
        return;
      }
      this.handlers.dispatch(method, params);
    });
    child.once("exit", (code, signal) => this.onExit(child, code, signal));
    connection.listen();

    const result = (await this.pending.run(() =>
      connection.sendRequest("initialize", {
        processId: process.pid,
        rootUri: null,
        capabilities: {},
        initializationOptions: { protocolVersion: PROTOCOL_VERSION, ...this.options.init } satisfies SidecarInitOptions,
      }),
    )) as { capabilities: { experimental: { hearth: SidecarInfo } } };
    await connection.sendNotification("initialized", {});
    this.infoValue = result.capabilities.experimental.hearth;
    return this.infoValue;
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    const detail = signal ? `killed by ${signal}` : `exit code ${code}`;
    this.connection?.dispose();
    this.connection = undefined;
    this.child = undefined;
    this.startPromise = undefined;
    this.pending.rejectAll(sidecarExited(detail, this.options.crashHint));
    if (this.stopping || this.options.restart === false) return;
    const delay = this.policy.onCrash();
    this.options.onCrash?.(detail, delay);
    if (delay !== undefined) {
      setTimeout(() => {
        if (this.stopping) return;
        this.start().then(
          (info) => this.options.onRestarted?.(info),
          () => undefined,
        );
      }, delay).unref();
    }
  }

  async request<M extends keyof SidecarMethods>(
    method: M,
    params: SidecarMethods[M][0],
    signal?: AbortSignal,
  ): Promise<SidecarMethods[M][1]> {
    await this.start();
    const connection = this.connection;
    if (!connection) throw sidecarExited("not running", this.options.crashHint);
    return this.pending.run((token) => connection.sendRequest<SidecarMethods[M][1]>(method, params, token), signal);
  }

  onNotification<N extends keyof SidecarNotifications>(
    method: N,
    handler: (params: SidecarNotifications[N]) => void,
  ): Disposable {
    return this.handlers.add(method, handler);
  }

  /**
   * Two-step shutdown: `shutdown` (the sidecar disposes every llama object), then `exit`. Kills the process if it
   * has not exited within `timeoutMs`.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    const connection = this.connection;
    if (!child || !connection) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      await Promise.race([connection.sendRequest("shutdown"), delay(timeoutMs)]);
      await connection.sendNotification("exit");
    } catch {
      // The process may already be gone; the kill below covers it.
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
