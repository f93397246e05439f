import path from "node:path";
import { fileURLToPath } from "node:url";
import { defaultModelsDir, resolveModelArg, SEARCH_MODEL_CONTEXT_SIZE } from "../common/models/modelArgs";
import { ModelRoles, type ModelRoleSpec } from "../common/models/ModelRoles";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";
import { HearthError } from "../shared/errors";
import { terminalSafe } from "./terminal";
import { settingDefault } from "../shared/settings";
import {
  ENGINE_KINDS,
  GPU_SETTINGS,
  type EngineKind,
  type GpuSetting,
  type ModelInfo,
  type ModelRole,
  type ModelSpec,
} from "../shared/protocol";
import {
  num,
  oneOf,
  UsageError,
  type ENGINE_OPTIONS,
  type OptionValues,
  type RUNTIME_OPTIONS,
  type SEARCH_MODEL_OPTIONS,
} from "./options";

/** The flags a session reads; a command passes those of its own flags that it has (the others are absent). */
export type SessionValues = OptionValues<typeof RUNTIME_OPTIONS> &
  Partial<OptionValues<typeof ENGINE_OPTIONS>> &
  Partial<OptionValues<typeof SEARCH_MODEL_OPTIONS>>;

/**
 * One command's sidecar: the process (not started until the command's work does, inside {@link CliSession.run}),
 * the one owner of its model roles, and how the flags become model specs. A command builds one after checking its own flags, then does its work inside
 * {@link CliSession.run}, which always stops the sidecar.
 */
export class CliSession {
  readonly sidecar: SidecarProcess;
  /** The one owner of model roles in the CLI; after a crash it loads again what the old sidecar had. */
  readonly roles: ModelRoles;
  /** Resolved `--models-dir`. */
  readonly modelsDir: string;
  /** `--context-size`, when given. */
  readonly contextSize: number | undefined;
  readonly verbose: boolean;
  private readonly engineKind: EngineKind | undefined;
  private readonly apiKey: string | undefined;

  /**
   * @param oneShot whether the command ends after one answer (every command but the chat REPL): a crash then
   *   says to run the command again, not to send the message again.
   * @throws UsageError for a bad `--gpu`, `--threads`, `--context-size` or `--engine-kind`.
   */
  constructor(
    private readonly values: SessionValues,
    options: { oneShot: boolean },
  ) {
    const gpu = oneOf(values.gpu, "gpu", GPU_SETTINGS) ?? (settingDefault("gpu") as GpuSetting);
    this.engineKind = oneOf(values["engine-kind"], "engine-kind", ENGINE_KINDS);
    this.apiKey = process.env[values["engine-key-env"] ?? "HEARTH_ENGINE_API_KEY"] || undefined;
    this.modelsDir = path.resolve(values["models-dir"] ?? defaultModelsDir());
    this.contextSize = num(values["context-size"], "context-size", true);
    this.verbose = values.verbose ?? false;
    let onRestarted = () => {};
    this.sidecar = new SidecarProcess({
      onRestarted: () => onRestarted(),
      ...(options.oneShot ? { crashHint: "Run the command again (add --verbose to see the sidecar's log)." } : {}),
      sidecarPath: path.join(path.dirname(fileURLToPath(import.meta.url)), "sidecar.mjs"),
      init: {
        modelsDir: this.modelsDir,
        threads: num(values.threads, "threads", true) ?? 0,
        gpu,
        allowDownload: !values["no-download"],
        // Models on the embedded engine: its backend starts loading while the CLI gets ready.
        prepareEngine: !values["engine-url"],
      },
      onLog: (type, message) => {
        if (this.verbose || type === 1) process.stderr.write(`[sidecar] ${terminalSafe(message)}\n`);
      },
      onCrash: (detail, delay) =>
        process.stderr.write(
          `hearth: the sidecar stopped (${detail}); ${delay === undefined ? "giving up" : `restarting in ${delay} ms`}\n`,
        ),
    });
    this.roles = new ModelRoles(this.sidecar);
    // When the sidecar restarts after a crash, load the models again so the next message just works.
    onRestarted = () => {
      void this.roles.restarted((role, e) =>
        process.stderr.write(
          `hearth: reloading the ${role} model failed: ${terminalSafe(HearthError.from(e).userMessage)}\n`,
        ),
      );
    };
  }

  /**
   * The model spec of a role: on the remote engine at `engineUrl` (the model id, "" for its only model), or a
   * local GGUF resolved against --models-dir.
   */
  modelSpec(uri: string | undefined, engineUrl: string | undefined): ModelSpec {
    const kind = this.engineKind;
    return engineUrl
      ? {
          uri: uri ?? "",
          engine: { url: engineUrl, ...(kind ? { kind } : {}), ...(this.apiKey ? { apiKey: this.apiKey } : {}) },
        }
      : { uri: resolveModelArg(uri!, this.modelsDir) };
  }

  /** The embedding and rerank roles the flags ask for (local GGUF or engine). */
  searchRoles(options: { rerank?: boolean } = {}): Array<[ModelRole, ModelRoleSpec]> {
    const v = this.values;
    return (
      [
        ["embedding", v["embedding-model"], v["embedding-engine-url"]],
        ["rerank", v["rerank-model"], v["rerank-engine-url"]],
      ] as const
    )
      .filter(([role, uri, url]) => (uri || url) && !(role === "rerank" && options.rerank === false))
      .map(([role, uri, url]) => [
        role,
        { model: this.modelSpec(uri, url), contextSize: this.contextSize ?? SEARCH_MODEL_CONTEXT_SIZE },
      ]);
  }

  /** Start the sidecar and load the search roles the flags ask for. */
  async startWithSearchRoles(options: { rerank?: boolean } = {}): Promise<void> {
    await this.sidecar.start();
    for (const [role, spec] of this.searchRoles(options)) await this.roles.ensure(role, spec);
  }

  /**
   * Load the chat model (`uri`, or the engine's only model), showing download progress on a terminal.
   * @throws HearthError from the sidecar (missing model, unreachable engine, …).
   */
  async loadChatModel(uri: string | undefined, engineUrl: string | undefined): Promise<ModelInfo> {
    const progressId = "cli-load";
    const tty = process.stderr.isTTY;
    const sub = this.sidecar.onNotification("model/progress", (p) => {
      if (!tty || p.progressId !== progressId || p.phase !== "download") return;
      const pct = Math.round(p.fraction * 100);
      process.stderr.write(`\rDownloading ${uri}: ${pct}% (${mib(p.downloadedBytes)}/${mib(p.totalBytes)} MiB)`);
      if (p.fraction >= 1) process.stderr.write("\n");
    });
    try {
      return await this.roles.ensure(
        "chat",
        { model: this.modelSpec(uri, engineUrl), ...(this.contextSize ? { contextSize: this.contextSize } : {}) },
        { progressId, retryCrashed: true },
      );
    } finally {
      sub.dispose();
    }
  }

  /**
   * Run a command's work against the sidecar: any error becomes one line on stderr and exit code 1 (a
   * {@link UsageError} is thrown on, for exit code 2); the sidecar always stops.
   */
  async run(work: () => Promise<number>): Promise<number> {
    try {
      return await work();
    } catch (e) {
      if (e instanceof UsageError) throw e;
      // An engine's or a file's error text is untrusted: printed as terminalSafe makes it.
      process.stderr.write(
        `hearth: ${terminalSafe(e instanceof Error && !("code" in e) ? e.message : HearthError.from(e).userMessage)}\n`,
      );
      return 1;
    } finally {
      await this.sidecar.stop();
    }
  }
}

/** Bytes as MiB with one decimal, for progress lines. */
export function mib(bytes: number | undefined): string {
  return ((bytes ?? 0) / 1024 / 1024).toFixed(1);
}
