import * as vscode from "vscode";
import type { ModelRoles } from "../../common/models/ModelRoles";
import type { HearthServer } from "../../common/serve/HearthServer";
import { HearthError } from "../../shared/errors";
import type { ModelInfo, ModelRole } from "../../shared/protocol";
import { readConfig } from "../config";
import { roleModelSpec } from "../models/engineSpec";
import type { SidecarClient } from "../sidecar/SidecarClient";

const ROLES: ModelRole[] = ["chat", "completion", "embedding", "rerank"];

/**
 * "Hearth: Start Local API Server": the models this window has loaded, served over HTTP on 127.0.0.1 (OpenAI-
 * and llama.cpp-compatible, the same server as `hearth serve`) so other tools on this machine — llama.vscode, a
 * terminal agent, scripts — use them instead of loading their own. Off until started; loopback only (use
 * `hearth serve --api-key-env` to serve a network). The status bar shows the address while it runs.
 */
export class LocalApiServer implements vscode.Disposable {
  private server?: HearthServer;
  private url?: string;
  private loading = false;
  private readonly item = vscode.window.createStatusBarItem("hearth.localServer", vscode.StatusBarAlignment.Right, 98);

  constructor(
    private readonly sidecar: SidecarClient,
    private readonly roles: ModelRoles,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.item.name = "Hearth Local API Server";
    this.item.command = "hearth.stopLocalServer";
  }

  /** The server's base URL while it runs. */
  get address(): string | undefined {
    return this.url;
  }

  /**
   * Start serving (a no-op when running): listen on `hearth.server.port`, then load every role that has a
   * model or an engine set and is not loaded yet (a role that fails to load is logged and not served).
   * @returns the base URL, e.g. `http://127.0.0.1:8012`.
   * @throws Error when the port cannot be bound (the message names it).
   */
  async start(): Promise<string> {
    if (this.url) return this.url;
    const config = readConfig();
    await this.sidecar.start();
    // Loaded on first use: fastify and prom-client stay out of the extension's activation.
    const { HearthServer } = await import("../../common/serve/HearthServer");
    const server = new HearthServer({
      api: this.sidecar,
      models: () => {
        const out: Partial<Record<ModelRole, ModelInfo>> = {};
        for (const role of ROLES) {
          const info = this.roles.info(role);
          if (info) out[role] = info;
        }
        return out;
      },
      loading: () => this.loading,
      host: "127.0.0.1",
      port: config.server.port,
      maxQueue: config.server.maxQueue,
      onError: (line) => this.log.error(`Local API server: ${line}`),
    });
    try {
      this.url = await server.listen();
    } catch (error) {
      throw new Error(`cannot listen on 127.0.0.1:${config.server.port} (${(error as Error).message})`, {
        cause: error,
      });
    }
    this.server = server;
    this.item.text = `$(radio-tower) ${this.url.replace(/^http:\/\//, "")}`;
    this.item.tooltip = `Hearth serves its models at ${this.url} (OpenAI: ${this.url}/v1; llama.cpp: ${this.url}/infill). Click to stop.`;
    this.item.show();
    this.log.info(`Local API server: listening on ${this.url}`);
    this.loading = true;
    try {
      for (const role of ROLES) {
        const model = roleModelSpec(role, config);
        if (!model || this.roles.info(role)) continue;
        const contextSize =
          role === "chat" ? config.contextSize : role === "completion" ? config.completion.contextSize : undefined;
        await this.roles
          .ensure(role, { model, ...(contextSize ? { contextSize } : {}) })
          .catch((error: unknown) =>
            this.log.error(`Local API server: the ${role} model did not load: ${HearthError.from(error).userMessage}`),
          );
      }
    } finally {
      this.loading = false;
    }
    return this.url;
  }

  /** Stop serving: new connections are refused, requests in flight finish. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.url = undefined;
    this.item.hide();
    if (server) {
      await server.close();
      this.log.info("Local API server: stopped");
    }
  }

  dispose(): void {
    void this.stop();
    this.item.dispose();
  }
}
