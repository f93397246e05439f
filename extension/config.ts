import * as vscode from "vscode";
import { settingDefault, type SettingKey, type SettingValue } from "../shared/settings";
import type { GenerationParams, GpuSetting, ModelRole, NesFormat, SearchMode, FusionMethod } from "../shared/protocol";

/** Typed view of the `hearth.*` settings. Read fresh each time: settings can change at any moment. */
export interface HearthConfig {
  models: Record<ModelRole, string> & {
    folder: string;
    allowDownload: boolean;
    /** `hearth.setup.catalog`: URL or file; empty: the shipped one. */ catalog: string;
  };
  /** Per role, the base URL of the remote engine that runs it; "" = the embedded llama.cpp. */
  engines: Record<ModelRole, string>;
  gpu: GpuSetting;
  threads: number;
  contextSize: number;
  systemPrompt: string;
  generation: GenerationParams;
  startOnActivation: boolean;
  index: {
    maxFileBytes: number;
    /** Chunks embedded and written per batch. */
    batchSize: number;
    /** Tokens per llama.cpp decode batch of the embedding model. */
    batchTokens: number;
    watch: boolean;
    /** null: the model family's own prefix. */
    queryPrefix: string | null;
    documentPrefix: string | null;
  };
  search: {
    mode: SearchMode | "auto";
    topK: number;
    rerank: boolean;
    codebaseChunks: number;
    fusion: FusionMethod;
    vectorWeight: number;
    rerankWeight: number;
    rerankBudgetMs: number;
  };
  actions: { maxTokens: number; temperature: number };
  /** The local API server (*Hearth: Start Local API Server*). */
  server: { port: number; maxQueue: number };
  /** `/agent` in the chat view. */
  agent: { maxSteps: number; allowedCommands: string[]; otherTools: boolean };
  completion: {
    enabled: boolean;
    disabledLanguages: string[];
    prefixTokens: number;
    suffixTokens: number;
    maxTokens: number;
    timeBudgetMs: number;
    debounceMs: number;
    contextSize: number;
    contextTokens: number;
  };
  /** Next-edit suggestions (`hearth.nes.*`); off without `models.nes` / `engines.nes`. */
  nes: {
    enabled: boolean;
    format: NesFormat | "auto";
    debounceMs: number;
    contextSize: number;
    timeBudgetMs: number;
  };
}

/** The `hearth.*` settings now; defaults come from package.json (`common/settings.ts`). */
export function readConfig(): HearthConfig {
  const c = vscode.workspace.getConfiguration("hearth");
  // VS Code fills in package.json's defaults; the fallback only matters where no manifest was read (tests).
  const get = <K extends SettingKey>(key: K): SettingValue<K> => c.get(key, settingDefault(key));
  return {
    models: {
      chat: get("models.chat").trim(),
      completion: get("models.completion").trim(),
      embedding: get("models.embedding").trim(),
      rerank: get("models.rerank").trim(),
      nes: get("models.nes").trim(),
      folder: get("models.folder").trim(),
      allowDownload: get("models.allowDownload"),
      catalog: get("setup.catalog").trim(),
    },
    engines: {
      chat: get("engines.chat").trim(),
      completion: get("engines.completion").trim(),
      embedding: get("engines.embedding").trim(),
      rerank: get("engines.rerank").trim(),
      nes: get("engines.nes").trim(),
    },
    gpu: get("gpu") as GpuSetting,
    threads: get("threads"),
    contextSize: get("contextSize"),
    systemPrompt: get("chat.systemPrompt"),
    generation: {
      temperature: get("chat.temperature"),
      topP: get("chat.topP"),
      topK: get("chat.topK"),
      maxTokens: get("chat.maxTokens"),
    },
    startOnActivation: get("sidecar.startOnActivation"),
    server: { port: get("server.port"), maxQueue: get("server.maxQueue") },
    agent: {
      maxSteps: get("agent.maxSteps"),
      allowedCommands: [...(get("agent.allowedCommands") as readonly string[])],
      otherTools: get("agent.otherTools"),
    },
    index: {
      maxFileBytes: get("index.maxFileBytes"),
      batchSize: get("index.batchSize"),
      batchTokens: get("index.batchTokens"),
      watch: get("index.watch"),
      queryPrefix: get("index.queryPrefix"),
      documentPrefix: get("index.documentPrefix"),
    },
    search: {
      mode: get("search.mode") as SearchMode | "auto",
      topK: get("search.topK"),
      rerank: get("search.rerank"),
      codebaseChunks: get("search.codebaseChunks"),
      fusion: get("search.fusion") as FusionMethod,
      vectorWeight: get("search.vectorWeight"),
      rerankWeight: get("search.rerankWeight"),
      rerankBudgetMs: get("search.rerankBudgetMs"),
    },
    actions: {
      maxTokens: get("actions.maxTokens"),
      temperature: get("actions.temperature"),
    },
    completion: {
      enabled: get("completion.enabled"),
      disabledLanguages: get("completion.disabledLanguages"),
      prefixTokens: get("completion.prefixTokens"),
      suffixTokens: get("completion.suffixTokens"),
      maxTokens: get("completion.maxTokens"),
      timeBudgetMs: get("completion.timeBudgetMs"),
      debounceMs: get("completion.debounceMs"),
      contextSize: get("completion.contextSize"),
      contextTokens: get("completion.contextTokens"),
    },
    nes: {
      enabled: get("nes.enabled"),
      format: get("nes.format") as NesFormat | "auto",
      debounceMs: get("nes.debounceMs"),
      contextSize: get("nes.contextSize"),
      timeBudgetMs: get("nes.timeBudgetMs"),
    },
  };
}
