import os from "node:os";
import path from "node:path";
import {
  getLlama,
  getLlamaGpuTypes,
  GgufInsights,
  InsufficientMemoryError,
  LlamaLogLevel,
  type Llama,
  type LlamaContext,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { HearthError } from "../../../shared/errors";
import { corrupt } from "../../models/ggufHeader";
import { estimateFromInfo } from "../../models/estimate";
import { inspectGguf, resolveModel, type DownloadProgress } from "../../models/resolveModel";
import {
  ErrorCodes,
  type GpuSetting,
  type ModelLoadParams,
  type ModelRole,
  type RuntimeStatsResult,
} from "../../../shared/protocol";
import { ChatService } from "./ChatService";
import { CompletionService } from "./CompletionService";
import { NesService } from "./NesService";
import { EmbeddingService } from "./EmbeddingService";
import { RerankService } from "./RerankService";
import { defaultThreads } from "./threads";
import type { RoleEngines } from "../types";
import { settingDefault } from "../../../shared/settings";

/** Where the runtime writes its log lines; the sidecar forwards them to the client's output channel. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface RuntimeOptions {
  modelsDir: string;
  gpu: GpuSetting;
  /** 0 = {@link defaultThreads}. */
  threads: number;
  allowDownload: boolean;
  /** See `SidecarInitOptions.downloadStallTimeoutMs` in sidecar/protocol.ts. */
  downloadStallTimeoutMs?: number | undefined;
  /** See `SidecarInitOptions.engineTimeoutMs`. */
  engineTimeoutMs?: number | undefined;
  /** See `SidecarInitOptions.memoryBudgetBytes`. */
  memoryBudgetBytes?: number | undefined;
  log: Logger;
}

/** Default context window, in tokens, when neither the request nor the model asks for less. */
export const DEFAULT_CONTEXT_SIZE = settingDefault("contextSize");

/**
 * The embedded engine: owns node-llama-cpp inside the sidecar — the `Llama` backends (created lazily with
 * `build: "never"`, so only prebuilt binaries are used) and the weights the roles share — and loads a role's
 * model into the {@link RoleEngines} of its capability (chat, FIM, embedding, rerank), which dispose their
 * contexts and let go of the weights. The registry (`sidecar/engines/registry.ts`) keeps the roles. Every
 * llama object it creates is disposed by its role's `dispose` or by {@link dispose}.
 */
export class LlamaRuntime {
  private readonly llamas = new Map<string, Promise<Llama>>();
  /** Llamas created for a backend that turned out unavailable; disposed with the rest. */
  private readonly strays: Llama[] = [];
  /**
   * Loaded weights by backend and file, shared by the roles that use the same GGUF (chat and completion on one
   * code model, say): each role keeps its own context and KV cache, but the weights — with llama.cpp's CPU
   * repacking, an anonymous copy the size of the file — are loaded once. Disposed when the last role lets go.
   */
  private readonly weights = new Map<string, { model: Promise<LlamaModel>; roles: Set<ModelRole> }>();
  /** llama.cpp's latest error lines (at most 20), for naming why a load failed (see {@link loadError}). */
  private readonly llamaErrors: Array<{ at: number; line: string }> = [];
  private gpu: GpuSetting;
  private threadCount: number;

  constructor(private readonly options: RuntimeOptions) {
    this.gpu = options.gpu;
    this.threadCount = options.threads > 0 ? options.threads : defaultThreads();
  }

  /** Folder that `hf:` and URL models are downloaded into. */
  get modelsDir(): string {
    return this.options.modelsDir;
  }

  get threads(): number {
    return this.threadCount;
  }

  /** The llama.cpp backend of the current GPU setting, created on first use. @throws HearthError BackendUnavailable */
  llama(): Promise<Llama> {
    return this.llamaFor(this.gpu);
  }

  /**
   * One `Llama` per effective backend ("cpu", "cuda", "vulkan", "metal"), kept until {@link dispose}: "off" and an
   * "auto" that finds no GPU share the CPU one. Instances are neither duplicated nor disposed on a backend switch
   * because node-llama-cpp routes llama.cpp's native log through one Llama per binding; a second Llama on the same
   * binding, or one created after another was disposed, has its native log written to stdout, which must stay
   * clean. An explicitly requested GPU type this machine cannot run is refused before anything is created.
   */
  private async llamaFor(gpu: GpuSetting): Promise<Llama> {
    const supported = await getLlamaGpuTypes("supported");
    if (gpu !== "auto" && gpu !== "off" && !supported.includes(gpu)) {
      const usable = supported.filter((g) => g !== false);
      throw backendUnavailable(
        gpu,
        usable.length ? `usable here: ${usable.join(", ")}` : "this machine has no usable GPU backend",
      );
    }
    const firstGpu = supported.find((g) => g !== false);
    const key = gpu === "off" || (gpu === "auto" && !firstGpu) ? "cpu" : gpu === "auto" ? String(firstGpu) : gpu;
    let llama = this.llamas.get(key);
    if (!llama) {
      llama = this.createLlama(gpu).catch((error) => {
        this.llamas.delete(key);
        throw error;
      });
      this.llamas.set(key, llama);
    }
    return llama;
  }

  private async createLlama(gpu: GpuSetting): Promise<Llama> {
    const { log } = this.options;
    let llama: Llama;
    try {
      llama = await getLlama({
        gpu: gpu === "off" ? false : gpu,
        build: "never",
        logLevel: LlamaLogLevel.warn,
        logger: (level, message) => {
          const line = message.trimEnd();
          if (!line) return;
          if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) {
            log.error(line);
            this.llamaErrors.push({ at: performance.now(), line });
            if (this.llamaErrors.length > 20) this.llamaErrors.shift();
          } else if (level === LlamaLogLevel.warn) log.warn(line);
          else log.debug(line);
        },
      });
    } catch (error) {
      throw backendUnavailable(gpu, error instanceof Error ? error.message : String(error));
    }
    // node-llama-cpp falls back to the CPU when an explicitly requested GPU type has no binary or no device;
    // asking for one and silently getting another would mislead the user.
    if (gpu !== "auto" && gpu !== "off" && llama.gpu !== gpu) {
      this.strays.push(llama);
      throw backendUnavailable(gpu, `llama.cpp would run on ${llama.gpu === false ? "the CPU" : llama.gpu}`);
    }
    return llama;
  }

  /**
   * Resolve (downloading if needed), check and load a model for a role, replacing the role's current model.
   * Chat models get a context and a {@link ChatService}.
   *
   * @throws HearthError ModelNotFound, ModelNotGguf, ModelCorrupt, ModelTooLarge, DownloadFailed,
   *   ChecksumMismatch, BackendUnavailable, Cancelled.
   */
  async load(
    params: ModelLoadParams,
    onProgress: (phase: "download" | "load", fraction: number, bytes?: DownloadProgress) => void,
    signal: AbortSignal,
    dropPrevious: () => Promise<void>,
  ): Promise<RoleEngines> {
    const started = performance.now();
    const filePath = await resolveModel(params.model, {
      modelsDir: this.options.modelsDir,
      allowDownload: this.options.allowDownload,
      stallTimeoutMs: this.options.downloadStallTimeoutMs,
      signal,
      onProgress: (p) => onProgress("download", p.totalBytes ? p.downloadedBytes / p.totalBytes : 0, p),
    });
    const fileInfo = await inspectGguf(filePath, signal);
    const llama = await this.llama();
    const trainContextSize = Number(fileInfo.architectureMetadata?.context_length ?? DEFAULT_CONTEXT_SIZE);
    const contextSize = Math.min(params.contextSize ?? DEFAULT_CONTEXT_SIZE, trainContextSize);
    await this.checkFits(filePath, fileInfo, llama, contextSize, params.role === "embedding");

    // Only now drop the old model: a failed load above leaves the previous one serving.
    await dropPrevious();
    const weightsKey = `${llama.gpu === false ? "cpu" : llama.gpu}\u0000${filePath}`;
    let model: LlamaModel;
    try {
      model = await this.acquireWeights(weightsKey, params.role, () =>
        llama.loadModel({
          modelPath: filePath,
          loadSignal: signal,
          onLoadProgress: (fraction) => onProgress("load", fraction),
        }),
      );
    } catch (error) {
      if (signal.aborted) throw new HearthError(ErrorCodes.Cancelled, "Model load cancelled.");
      throw this.loadError(filePath, error, started);
    }
    onProgress("load", 1);
    const release = () => this.releaseWeights(weightsKey, params.role);
    let context: LlamaContext | undefined;
    const entry: RoleEngines = {
      tokenize: (text, special, addBos) => {
        const tokens = [...model.tokenize(text, special)];
        const bos = model.tokens.bos;
        return addBos && bos !== null && model.tokens.shouldPrependBosToken ? [bos, ...tokens] : tokens;
      },
      detokenize: (tokens, lastTokens = []) => {
        // An id beyond the vocabulary would abort llama.cpp (an assertion), so it is refused here.
        const size = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length;
        const all = [...lastTokens, ...tokens];
        const bad = all.findIndex((t) => !Number.isInteger(t) || t < 0 || (typeof size === "number" && t >= size));
        if (bad >= 0 || typeof size !== "number") {
          throw new HearthError(
            ErrorCodes.InvalidParams,
            typeof size !== "number"
              ? "This model's vocabulary size is unknown, so its tokens cannot be checked for detokenizing."
              : `Invalid params: tokens[${bad - lastTokens.length}] (${all[bad]}) is not a token of this model (its vocabulary has ${size}).`,
            undefined,
            { field: `tokens[${bad - lastTokens.length}]` },
          );
        }
        return model.detokenize(tokens as Token[], true, lastTokens as Token[]);
      },
      dispose: async () => {
        await entry.chat?.dispose();
        await entry.completion?.dispose();
        await entry.embedding?.dispose();
        await entry.rerank?.dispose();
        await entry.nes?.dispose();
        await context?.dispose();
        await release();
      },
      info: {
        role: params.role,
        path: filePath,
        name: path.basename(filePath),
        architecture: String(fileInfo.metadata.general.architecture),
        sizeBytes: model.size,
        trainContextSize: model.trainContextSize,
        contextSize,
        infillSupported: model.tokens.infill.prefix != null && model.tokens.infill.suffix != null,
        toolCalls: "grammar",
        gpuLayers: model.gpuLayers,
        loadMs: 0,
      },
    };
    if (params.role === "chat" || params.role === "completion" || params.role === "nes") {
      try {
        context = await model.createContext({ contextSize, threads: this.threadCount, sequences: 1 });
      } catch (error) {
        await release();
        throw this.loadError(filePath, error, started);
      }
      if (params.role === "chat") {
        const chat = new ChatService(model, context);
        entry.chat = chat;
        entry.info.chatWrapper = chat.chatWrapperName;
      } else if (params.role === "nes") {
        entry.nes = new NesService(model, context);
      } else {
        entry.completion = new CompletionService(model, context);
      }
    }
    if (params.role === "embedding" || params.role === "rerank") {
      try {
        const options = {
          contextSize,
          threads: this.threadCount,
          batchSize: Math.min(contextSize, params.batchSize ?? settingDefault("index.batchTokens")),
        };
        if (params.role === "embedding") {
          const name = `${entry.info.name} ${String(fileInfo.metadata.general.name ?? "")}`;
          entry.embedding = new EmbeddingService(
            model,
            await model.createEmbeddingContext(options),
            name,
            contextSize,
            params.prefixes,
          );
          entry.info.embeddingDimensions = entry.embedding.dimensions;
        } else {
          entry.rerank = new RerankService(model, await model.createRankingContext(options), contextSize);
        }
      } catch (error) {
        await release();
        throw this.loadError(filePath, error, started);
      }
    }
    entry.info.loadMs = Math.round(performance.now() - started);
    try {
      // What this role costs, by the same estimate the first-run plan uses (the registry keeps the budget).
      const estimate = await estimateFromInfo(fileInfo, { [params.role]: contextSize }, llama);
      entry.info.memory = {
        weightsBytes: estimate.weightsBytes,
        contextBytes: estimate.contextBytes[params.role] ?? 0,
        placement: model.gpuLayers > 0 ? "gpu" : "cpu",
      };
    } catch (error) {
      this.options.log.warn(`Could not estimate the memory of ${entry.info.name}: ${String(error)}`);
    }
    this.options.log.info(
      `Loaded ${entry.info.name} for ${params.role} (${entry.info.architecture}, context ${contextSize}, ` +
        `${this.threadCount} threads, ${entry.info.loadMs} ms).`,
    );
    return entry;
  }

  private async checkFits(
    filePath: string,
    fileInfo: Awaited<ReturnType<typeof inspectGguf>>,
    llama: Llama,
    contextSize: number,
    embeddingContext: boolean,
  ): Promise<void> {
    let resolved;
    try {
      const insights = await GgufInsights.from(fileInfo, llama);
      resolved = await insights.configurationResolver.resolveAndScoreConfig({
        targetContextSize: contextSize,
        embeddingContext,
      });
    } catch (error) {
      // Insights only estimate; an estimate we cannot make is no reason to refuse the model.
      this.options.log.warn(`Could not estimate memory for ${path.basename(filePath)}: ${String(error)}`);
      return;
    }
    if (resolved.compatibilityScore === 0) {
      const need = resolved.resolvedValues.totalRamUsage + resolved.resolvedValues.totalVramUsage;
      throw new HearthError(
        ErrorCodes.ModelTooLarge,
        `${path.basename(filePath)} with a ${contextSize}-token context needs about ${gib(need)} GiB, ` +
          `more than this machine has free (${gib(os.freemem())} GiB RAM).`,
        "Pick a smaller or more quantized model, or lower 'hearth.contextSize'.",
      );
    }
  }

  /**
   * What a failed load says to the user: memory as ModelTooLarge; an architecture llama.cpp does not know as
   * Unsupported; otherwise ModelCorrupt with llama.cpp's own reason (its last error line since `since`, a
   * `performance.now()` time) rather than node-llama-cpp's "Failed to load model".
   */
  private loadError(filePath: string, error: unknown, since: number): HearthError {
    if (error instanceof HearthError) return error;
    const lines = this.llamaErrors.filter((e) => e.at >= since).map((e) => e.line);
    const arch = lines.map((l) => /unknown model architecture: '([^']*)'/.exec(l)?.[1]).find((a) => a !== undefined);
    if (arch !== undefined) {
      return new HearthError(
        ErrorCodes.Unsupported,
        `${path.basename(filePath)} is a '${arch}' model, an architecture the llama.cpp in this Hearth does not support.`,
        "Use a GGUF of a supported architecture (llama, qwen2, qwen3, gemma, phi3, mistral, …), or update Hearth.",
      );
    }
    if (error instanceof InsufficientMemoryError) {
      return new HearthError(
        ErrorCodes.ModelTooLarge,
        `Not enough memory to load ${path.basename(filePath)}: ${error.message}`,
        "Pick a smaller model or lower 'hearth.contextSize'.",
      );
    }
    const reason = lines
      .map((l) => /error loading model(?: [a-z ]+)?: (.+)$/.exec(l)?.[1])
      .filter((r): r is string => !!r)
      .at(-1);
    return corrupt(
      filePath,
      `llama.cpp could not load it (${reason ?? (error instanceof Error ? error.message : String(error))})`,
    );
  }

  /**
   * The weights under `key` for `role`: the ones another role loaded, or `load()`'s. A failed load is forgotten,
   * so the next try loads again. @throws what `load` throws.
   */
  private async acquireWeights(key: string, role: ModelRole, load: () => Promise<LlamaModel>): Promise<LlamaModel> {
    let shared = this.weights.get(key);
    if (!shared) {
      shared = { model: load(), roles: new Set() };
      this.weights.set(key, shared);
    }
    shared.roles.add(role);
    try {
      return await shared.model;
    } catch (error) {
      if (this.weights.get(key) === shared) this.weights.delete(key);
      throw error;
    }
  }

  /** `role` lets go of the weights under `key`; the last one to let go disposes them. */
  private async releaseWeights(key: string, role: ModelRole): Promise<void> {
    const shared = this.weights.get(key);
    if (!shared) return;
    shared.roles.delete(role);
    if (shared.roles.size) return;
    this.weights.delete(key);
    await (await shared.model.catch(() => undefined))?.dispose();
  }

  /**
   * Switch backend and/or thread count for models loaded from now on (the registry reloads the roles).
   * @throws HearthError BackendUnavailable — nothing changes: the current backend stays.
   */
  async configure(change: { gpu?: GpuSetting; threads?: number }): Promise<void> {
    if (change.gpu !== undefined && change.gpu !== this.gpu) {
      await this.llamaFor(change.gpu);
      this.gpu = change.gpu;
    }
    if (change.threads !== undefined) this.threadCount = change.threads > 0 ? change.threads : defaultThreads();
  }

  /** Backend, devices and memory (the registry adds the loaded models). */
  async stats(): Promise<Omit<RuntimeStatsResult, "models" | "memory">> {
    const llama = await this.llama();
    const vram = await llama.getVramState().catch(() => ({ total: 0, used: 0 }));
    const devices = await llama.getGpuDeviceNames().catch(() => [] as string[]);
    return {
      backend: llama.gpu === false ? "cpu" : llama.gpu,
      devices: devices.length > 0 ? devices : [`CPU (${os.cpus()[0]?.model?.trim() ?? "unknown"})`],
      threads: this.threadCount,
      vram: { totalBytes: vram.total, usedBytes: vram.used },
      ram: { totalBytes: os.totalmem(), freeBytes: os.freemem(), sidecarRssBytes: process.memoryUsage().rss },
    };
  }

  /** Dispose every backend (the registry has disposed the roles first). Safe to call twice. */
  async dispose(): Promise<void> {
    const llamas = await Promise.all([...this.llamas.values()].map((l) => l.catch(() => undefined)));
    this.llamas.clear();
    for (const llama of [...llamas, ...this.strays.splice(0)]) await llama?.dispose();
  }
}

function backendUnavailable(gpu: GpuSetting, reason: string): HearthError {
  return new HearthError(
    ErrorCodes.BackendUnavailable,
    `The '${gpu}' backend is not available on this machine: ${reason}.`,
    "Set 'hearth.gpu' (or /backend) to 'auto', or 'off' for CPU only.",
  );
}

function gib(bytes: number): string {
  return (bytes / 1024 ** 3).toFixed(1);
}
