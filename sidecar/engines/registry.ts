import type { Llama } from "node-llama-cpp";
import { HearthError } from "../../shared/errors";
import {
  ErrorCodes,
  type GpuSetting,
  type ModelInfo,
  type ModelLoadParams,
  type ModelRole,
  type RuntimeStatsResult,
} from "../../shared/protocol";
import os from "node:os";
import type { DownloadProgress } from "../models/resolveModel";
import { memoryBudget, probeMachine } from "./machine";
import { LlamaRuntime, type Logger, type RuntimeOptions } from "./llama/LlamaRuntime";
import { DEFAULT_HTTP_LIMITS, shownUrl } from "./remote/http";
import { loadRemote } from "./remote/load";
import type { ChatEngine, EmbeddingEngine, FimEngine, NesEngine, RerankEngine, RoleEngines } from "./types";

export type { Logger };

/** The loaded embedding role as the code index needs it: the engine, and what names its vectors' table. */
export interface EmbeddingRole {
  engine: EmbeddingEngine;
  /** The model's display name (the table's name says it). */
  model: string;
  /**
   * What makes vectors comparable: engine kind + model path for a remote engine, file name + size for a GGUF, so
   * another quantization or another server gets its own table.
   */
  modelId: string;
}

/**
 * The role → engine registry: one {@link RoleEngines} per {@link ModelRole}, made by the embedded engine
 * ({@link LlamaRuntime}) or a remote one (`loadRemote`) — Tabby's `create()` per kind. The server and the code
 * index ask it for a role's capability; it disposes a role's engines when the role is unloaded or replaced, and
 * everything on {@link dispose}.
 */
export class EngineRegistry {
  private readonly roles = new Map<ModelRole, { params: ModelLoadParams; engines: RoleEngines }>();
  private readonly llama: LlamaRuntime;
  /** When each role was last asked for (`performance.now()`), for least-recently-used eviction. */
  private readonly lastUsed = new Map<ModelRole, number>();
  /** Roles unloaded to fit the memory budget, with what loads them again on their next request. */
  private readonly evicted = new Map<ModelRole, ModelLoadParams>();
  private budget: number | undefined;
  private evictions = 0;
  private reloads = 0;
  /** Requests using each role now: a role in use is never unloaded to make room. */
  private readonly busy = new Map<ModelRole, number>();
  /** A reload in flight per role, so concurrent requests wait for one load. */
  private readonly reloading = new Map<ModelRole, Promise<void>>();

  constructor(private readonly options: RuntimeOptions) {
    this.llama = new LlamaRuntime(options);
  }

  /**
   * The roles' memory budget, bytes: `memoryBudgetBytes`, else this machine's (RAM less the system's reserve, plus
   * 90 % of the GPU's free memory), worked out once, at the first load, from the machine's totals (not what is free
   * then: the roles already loaded are part of what is used).
   */
  private async memoryBudget(): Promise<number> {
    if (this.budget !== undefined) return this.budget;
    const given = this.options.memoryBudgetBytes;
    if (typeof given === "number" && Number.isFinite(given) && given > 0) return (this.budget = given);
    const llama = await this.backend().catch(() => undefined);
    const b = memoryBudget(await probeMachine(llama, { ramBytes: os.totalmem() }));
    return (this.budget = b.ramBytes + b.vramBytes);
  }

  /** Estimated memory of the loaded embedded roles: each file's weights once, plus every role's context. */
  private usedBytes(): number {
    const weights = new Map<string, number>();
    let contexts = 0;
    for (const { engines } of this.roles.values()) {
      const m = engines.info.memory;
      if (!m) continue;
      weights.set(engines.info.path, m.weightsBytes);
      contexts += m.contextBytes;
    }
    return [...weights.values()].reduce((n, w) => n + w, 0) + contexts;
  }

  /**
   * Unload the least recently used roles (never the completion or next-edit role: typing must not wait for a load; never
   * `keep`) until the loaded roles fit the budget; each is loaded again on its next request ({@link ensure}).
   */
  private async fitBudget(keep: readonly ModelRole[]): Promise<void> {
    const budget = await this.memoryBudget();
    while (this.usedBytes() > budget) {
      const victim = [...this.roles.entries()]
        .filter(
          ([role, r]) =>
            !keep.includes(role) &&
            role !== "completion" &&
            role !== "nes" &&
            !this.busy.get(role) &&
            r.engines.info.memory,
        )
        .sort(([a], [b]) => (this.lastUsed.get(a) ?? 0) - (this.lastUsed.get(b) ?? 0))[0];
      if (!victim) return;
      const [role, { params }] = victim;
      if (this.evictions === 0)
        this.options.log.warn(
          `The loaded models do not all fit this machine's memory budget (${gib(budget)} GiB): Hearth keeps the ` +
            `completion model loaded and loads the others when they are asked for, unloading the least recently ` +
            `used one (now: ${role}). Smaller models, or a remote engine for a role, avoid the reloads.`,
        );
      this.evictions++;
      await this.unload(role);
      this.evicted.set(role, params);
    }
  }

  /**
   * Make sure `roles` (those one request needs together) are loaded when they were unloaded to fit the memory
   * budget: load them again, fitting the budget around all of them. A role never loaded stays so (its accessor then
   * says how to load one).
   * @throws what {@link load} throws.
   */
  async ensure(...roles: ModelRole[]): Promise<void> {
    const release = await this.acquire(...roles);
    release();
  }

  /**
   * {@link ensure} `roles`, and keep them from being unloaded to make room until the returned release is called
   * (a request, or an index build, that uses them). @throws what {@link load} throws (nothing is held then).
   */
  async acquire(...roles: ModelRole[]): Promise<() => void> {
    for (const role of roles) this.busy.set(role, (this.busy.get(role) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const role of roles) this.busy.set(role, Math.max(0, (this.busy.get(role) ?? 1) - 1));
    };
    try {
      await this.reloadEvicted(roles);
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }

  private async reloadEvicted(roles: readonly ModelRole[]): Promise<void> {
    for (const role of roles) this.lastUsed.set(role, performance.now());
    for (const role of roles) {
      const params = this.evicted.get(role);
      if (!params || this.roles.has(role)) continue;
      let running = this.reloading.get(role);
      if (!running) {
        running = (async () => {
          this.options.log.info(`Loading the ${role} model again (unloaded earlier to fit the memory budget).`);
          await this.load({ ...params, progressId: undefined }, () => {}, new AbortController().signal, roles);
          this.reloads++;
        })().finally(() => this.reloading.delete(role));
        this.reloading.set(role, running);
      }
      await running;
    }
  }

  /** Folder that `hf:` and URL models are downloaded into. */
  get modelsDir(): string {
    return this.llama.modelsDir;
  }

  /** The embedded engine's llama.cpp backend (created on first use): GPU type and memory, for planning. */
  backend(): Promise<Llama> {
    return this.llama.llama();
  }

  /** CPU threads the embedded engine runs with. */
  get threads(): number {
    return this.llama.threads;
  }

  /**
   * Load a role's model on its engine, replacing the role's current one: a remote engine is connected and checked
   * first; a local GGUF is resolved (downloading if needed) and checked to fit before the old model goes.
   * @throws HearthError ModelNotFound, ModelNotGguf, ModelCorrupt, ModelTooLarge, DownloadFailed,
   *   ChecksumMismatch, BackendUnavailable, Cancelled; EngineUnavailable, EngineAuth, Unsupported (remote).
   */
  async load(
    params: ModelLoadParams,
    onProgress: (phase: "download" | "load", fraction: number, bytes?: DownloadProgress) => void,
    signal: AbortSignal,
    /** Roles the memory budget must not unload to make room (besides this one and completion). */
    keep: readonly ModelRole[] = [],
  ): Promise<ModelInfo> {
    let engines: RoleEngines;
    if (params.model.engine) {
      // A remote engine: nothing to resolve or fit here; the old model goes only once the new one answered.
      engines = await loadRemote(params, signal, {
        ...DEFAULT_HTTP_LIMITS,
        ...(this.options.engineTimeoutMs ? { firstByteMs: this.options.engineTimeoutMs } : {}),
      });
      await this.unload(params.role);
      const { info } = engines;
      this.options.log.info(
        `Connected ${params.role} to ${info.name} on ${info.engine?.kind} at ${shownUrl(info.engine?.url ?? "")} ` +
          `(context ${info.contextSize}) in ${info.loadMs} ms`,
      );
    } else {
      engines = await this.llama.load(params, onProgress, signal, () => this.unload(params.role));
    }
    this.roles.set(params.role, { params, engines });
    this.evicted.delete(params.role);
    this.lastUsed.set(params.role, performance.now());
    if (engines.info.memory) await this.fitBudget([params.role, ...keep]);
    return engines.info;
  }

  /** The chat engine of the chat role. @throws HearthError NoModelLoaded */
  chat(): ChatEngine {
    return loaded("chat", this.engines("chat")?.chat, "Set 'hearth.models.chat' or run '/model <path.gguf>'.");
  }

  /** The FIM engine of the completion role. @throws HearthError NoModelLoaded */
  completion(): FimEngine {
    return loaded(
      "completion",
      this.engines("completion")?.completion,
      "Set 'hearth.models.completion' to a FIM-capable code model (or pass --model to 'hearth complete').",
    );
  }

  /** The next-edit engine of the `nes` role. @throws HearthError NoModelLoaded */
  nes(): NesEngine {
    return loaded(
      "nes",
      this.engines("nes")?.nes,
      "Set 'hearth.models.nes' to a next-edit model (Sweep Next-Edit, Zeta) or pass --model to 'hearth next-edit'.",
    );
  }

  /** The engine of the embedding role. @throws HearthError NoModelLoaded */
  embedding(): EmbeddingEngine {
    return loaded(
      "embedding",
      this.embeddingOrUndefined(),
      "Set 'hearth.models.embedding' (or pass --embedding-model), or point the embedding role at an engine.",
    );
  }

  /** The engine of the rerank role. @throws HearthError NoModelLoaded */
  rerank(): RerankEngine {
    return loaded(
      "rerank",
      this.rerankOrUndefined(),
      "Set 'hearth.models.rerank' (or pass --rerank-model), or point the rerank role at an engine.",
    );
  }

  /** The loaded embedding model, or undefined when none is loaded. */
  embeddingOrUndefined(): EmbeddingEngine | undefined {
    return this.engines("embedding")?.embedding;
  }

  /** The loaded embedding role with the names of its vectors, or undefined when none is loaded. */
  embeddingRole(): EmbeddingRole | undefined {
    const role = this.engines("embedding");
    if (!role?.embedding) return undefined;
    const { info } = role;
    const modelId = info.engine ? `${info.engine.kind}:${info.path}` : `${info.name}:${info.sizeBytes}`;
    return { engine: role.embedding, model: info.name, modelId };
  }

  /** The loaded reranker, or undefined when none is loaded. */
  rerankOrUndefined(): RerankEngine | undefined {
    return this.engines("rerank")?.rerank;
  }

  /**
   * The token ids of `text` in the model of `role`.
   * @throws HearthError NoModelLoaded; Unsupported for a role on a remote engine (it does its own tokenizing).
   */
  tokenize(role: ModelRole, text: string, special = false, addBos = false): number[] {
    return this.tokenizer(role).tokenize!(text, special, addBos);
  }

  /**
   * The text of `tokens` in the model of `role` (special tokens written out), as it continues `lastTokens`.
   * @throws HearthError NoModelLoaded; Unsupported on a remote engine; InvalidParams for an id outside the vocabulary.
   */
  detokenize(role: ModelRole, tokens: number[], lastTokens?: number[]): string {
    return this.tokenizer(role).detokenize!(tokens, lastTokens);
  }

  /** The engines of `role`, which must tokenize locally. */
  private tokenizer(role: ModelRole): RoleEngines & Required<Pick<RoleEngines, "tokenize" | "detokenize">> {
    const engines = this.engines(role);
    if (!engines) throw new HearthError(ErrorCodes.NoModelLoaded, `No ${role} model is loaded.`);
    if (!engines.tokenize || !engines.detokenize) {
      throw new HearthError(
        ErrorCodes.Unsupported,
        `The ${role} model runs on the engine at ${shownUrl(engines.info.engine?.url ?? "")}, which tokenizes on its own.`,
        "Ask that engine (llama-server: POST /tokenize), or tokenize with a local GGUF.",
      );
    }
    return engines as RoleEngines & Required<Pick<RoleEngines, "tokenize" | "detokenize">>;
  }

  /** Info of every loaded model. */
  loaded(): ModelInfo[] {
    return [...this.roles.values()].map((r) => r.engines.info);
  }

  /** Dispose the engines of a role (no-op when none); a role unloaded to fit the budget is forgotten too. */
  async forget(role: ModelRole): Promise<void> {
    this.evicted.delete(role);
    await this.unload(role);
  }

  /** Dispose the engines of a role (no-op when none). */
  async unload(role: ModelRole): Promise<void> {
    const entry = this.roles.get(role);
    if (!entry) return;
    this.roles.delete(role);
    await entry.engines.dispose();
  }

  /**
   * Switch backend and/or thread count; loaded models are reloaded from their original specs.
   * @throws HearthError BackendUnavailable — nothing changes: the current backend and models stay.
   */
  async configure(change: { gpu?: GpuSetting; threads?: number }): Promise<void> {
    await this.llama.configure(change);
    const reload = [...this.roles.values()].map((r) => r.params);
    for (const role of [...this.roles.keys()]) await this.unload(role);
    const never = new AbortController().signal;
    for (const params of reload) await this.load({ ...params, progressId: undefined }, () => {}, never);
  }

  /**
   * One line per loaded role (model, estimated memory, GPU/CPU) and one for the roles unloaded to fit the budget;
   * empty when nothing is loaded. For the status bar's tooltip.
   */
  memorySummary(): string {
    const lines = this.loaded().map((m) => {
      const where = m.memory
        ? `~${Math.ceil((m.memory.weightsBytes + m.memory.contextBytes) / 1024 / 1024)} MiB, ${m.memory.placement.toUpperCase()}`
        : `on ${m.engine?.kind ?? "an engine"}`;
      return `${m.role}: ${m.name} (${where})`;
    });
    if (this.evicted.size)
      lines.push(`unloaded to fit memory, loaded when asked for: ${[...this.evicted.keys()].join(", ")}`);
    return lines.join("\n");
  }

  /** Backend, devices, memory and loaded models. */
  async stats(): Promise<RuntimeStatsResult> {
    const grammars = this.engines("chat")?.chat?.grammarCacheStats?.();
    return {
      ...(await this.llama.stats()),
      models: this.loaded(),
      ...(grammars ? { grammarCache: grammars } : {}),
      memory: {
        budgetBytes: await this.memoryBudget(),
        usedBytes: this.usedBytes(),
        evicted: [...this.evicted.keys()],
        evictions: this.evictions,
        reloads: this.reloads,
      },
    };
  }

  /** Dispose every role's engines, then the backends. Safe to call twice. */
  async dispose(): Promise<void> {
    for (const role of [...this.roles.keys()]) await this.unload(role);
    await this.llama.dispose();
  }

  private engines(role: ModelRole): RoleEngines | undefined {
    return this.roles.get(role)?.engines;
  }
}

/** A role's engine. @throws HearthError NoModelLoaded ("No <role> model is loaded.") with `hint` when absent. */
function loaded<T>(role: ModelRole, engine: T | undefined, hint: string): T {
  if (!engine) throw new HearthError(ErrorCodes.NoModelLoaded, `No ${role} model is loaded.`, hint);
  return engine;
}

/** Bytes as GiB with one decimal, for log lines. */
function gib(bytes: number): string {
  return (bytes / 1024 ** 3).toFixed(1);
}
