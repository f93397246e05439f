import * as path from "node:path";
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import { RestartPolicy } from "../../common/sidecar/RestartPolicy";
import type { Disposable, SidecarApi } from "../../common/sidecar/SidecarApi";
import { NotificationHandlers } from "../../common/sidecar/NotificationHandlers";
import { PendingRequests } from "../../common/sidecar/PendingRequests";
import { HearthError, sidecarExited } from "../../shared/errors";
import {
  PROTOCOL_VERSION,
  type SidecarInfo,
  type SidecarInitOptions,
  type SidecarMethods,
  type SidecarNotifications,
  type StatusParams,
} from "../../shared/protocol";
import type { HearthConfig } from "../config";

/**
 * The extension's connection to the sidecar, through vscode-languageclient (forked Node module over IPC, so it
 * runs on VS Code's own Node). Starts lazily on the first request. On a crash every pending request is
 * rejected with SidecarExited, and the sidecar is restarted after a backoff delay ({@link RestartPolicy});
 * after too many crashes it stays down and the user gets a notification with Restart / Show Log buttons.
 */
export class SidecarClient implements SidecarApi, vscode.Disposable {
  private client?: LanguageClient;
  private startPromise?: Promise<SidecarInfo>;
  private readonly pending = new PendingRequests();
  private readonly handlers = new NotificationHandlers();
  private readonly policy = new RestartPolicy();
  private stopping = false;
  private readonly statusEmitter = new vscode.EventEmitter<StatusParams>();
  private readonly restartEmitter = new vscode.EventEmitter<SidecarInfo>();
  /** Status notifications, plus synthetic ones for "not started", "starting" and "crashed". */
  readonly onStatus = this.statusEmitter.event;
  /** Fires after the sidecar came back from a crash (listeners reload models). */
  readonly onRestarted = this.restartEmitter.event;
  info?: SidecarInfo;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly config: () => HearthConfig,
  ) {
    // Through the handler table like every notification: vscode-languageclient keeps one handler per method.
    this.handlers.add("sidecar/status", (s) => this.statusEmitter.fire(s));
  }

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  /** Start the sidecar if needed (concurrent calls share one start). */
  start(): Promise<SidecarInfo> {
    this.startPromise ??= this.doStart().catch((error) => {
      this.startPromise = undefined;
      this.statusEmitter.fire({
        state: "error",
        health: "error",
        message: `Sidecar failed to start: ${String(error)}`,
      });
      throw HearthError.from(error);
    });
    return this.startPromise;
  }

  private async doStart(): Promise<SidecarInfo> {
    this.stopping = false;
    this.statusEmitter.fire({ state: "starting", health: "ok", message: "Starting sidecar" });
    const cfg = this.config();
    const module = this.context.asAbsolutePath(path.join("dist", "sidecar.mjs"));
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ["--inspect=6010"] } },
    };
    const initializationOptions: SidecarInitOptions = {
      protocolVersion: PROTOCOL_VERSION,
      modelsDir: vscode.Uri.joinPath(this.context.globalStorageUri, "models").fsPath,
      threads: cfg.threads,
      gpu: cfg.gpu,
      allowDownload: cfg.models.allowDownload,
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [],
      outputChannel: this.log,
      initializationOptions,
      // Only our own supervision restarts the sidecar, with backoff; see onClosed.
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => {
          this.onClosed();
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
      initializationFailedHandler: () => false,
    };
    const client = new LanguageClient("hearth", "Hearth", serverOptions, clientOptions);
    this.client = client;
    for (const method of this.handlers.methods()) this.route(client, method);
    await client.start();
    this.info = (client.initializeResult?.capabilities.experimental as { hearth: SidecarInfo }).hearth;
    this.log.info(`Sidecar ${this.info.version} started (pid ${this.info.pid}, ${this.info.threads} threads).`);
    return this.info;
  }

  private onClosed(): void {
    this.pending.rejectAll(sidecarExited("the process exited"));
    this.startPromise = undefined;
    if (this.stopping) return;
    const delay = this.policy.onCrash();
    const old = this.client;
    this.client = undefined;
    void old?.dispose().catch(() => undefined);
    if (delay === undefined) {
      this.statusEmitter.fire({ state: "error", health: "error", message: "Sidecar crashed repeatedly; stopped" });
      void vscode.window
        .showErrorMessage("The Hearth sidecar crashed repeatedly and was stopped.", "Restart", "Show Log")
        .then((choice) => {
          if (choice === "Restart") void this.restart();
          if (choice === "Show Log") this.log.show();
        });
      return;
    }
    this.log.warn(`Sidecar exited unexpectedly; restarting in ${delay} ms.`);
    this.statusEmitter.fire({ state: "error", health: "warning", message: `Sidecar stopped; restarting` });
    setTimeout(() => {
      if (this.stopping) return;
      this.start().then(
        (info) => this.restartEmitter.fire(info),
        (error) => this.log.error(`Sidecar restart failed: ${String(error)}`),
      );
    }, delay);
  }

  async request<M extends keyof SidecarMethods>(
    method: M,
    params: SidecarMethods[M][0],
    signal?: AbortSignal,
  ): Promise<SidecarMethods[M][1]> {
    await this.start();
    const client = this.client;
    if (!client) throw sidecarExited("not running");
    return this.pending.run((token) => client.sendRequest<SidecarMethods[M][1]>(method, params, token), signal);
  }

  onNotification<N extends keyof SidecarNotifications>(
    method: N,
    handler: (params: SidecarNotifications[N]) => void,
  ): Disposable {
    // A running client subscribes now; clients started later subscribe to the whole table in doStart.
    return this.handlers.add(method, handler, (m) => this.client && this.route(this.client, m));
  }

  private route(client: LanguageClient, method: string): void {
    client.onNotification(method, (params: unknown) => this.handlers.dispatch(method, params));
  }

  /** Stop and start again (user command); resets the crash budget. */
  async restart(): Promise<SidecarInfo> {
    await this.stop();
    this.policy.reset();
    return this.start();
  }

  /** Two-step shutdown (`shutdown` then `exit`, done by the language client). */
  async stop(): Promise<void> {
    this.stopping = true;
    const client = this.client;
    this.client = undefined;
    this.startPromise = undefined;
    if (client?.isRunning()) await client.stop(5000).catch(() => undefined);
    await client?.dispose().catch(() => undefined);
    this.statusEmitter.fire({ state: "idle", health: "ok", message: "Sidecar stopped" });
  }

  dispose(): void {
    void this.stop();
    this.statusEmitter.dispose();
    this.restartEmitter.dispose();
  }
}
