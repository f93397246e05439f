import * as vscode from "vscode";
import type { GenerationParams, GpuSetting, ModelRole, SearchMode, FusionMethod } from "../sidecar/protocol";

/** Typed view of the `hearth.*` settings. Read fresh each time: settings can change at any moment. */
export interface HearthConfig {
  models: Record<ModelRole, string> & { folder: string; allowDownload: boolean };
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
  };
  actions: { maxTokens: number; temperature: number };
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
}

export function readConfig(): HearthConfig {
  const c = vscode.workspace.getConfiguration("hearth");
  return {
    models: {
      chat: c.get<string>("models.chat", "").trim(),
      completion: c.get<string>("models.completion", "").trim(),
      embedding: c.get<string>("models.embedding", "").trim(),
      rerank: c.get<string>("models.rerank", "").trim(),
      folder: c.get<string>("models.folder", "").trim(),
      allowDownload: c.get<boolean>("models.allowDownload", true),
    },
    gpu: c.get<GpuSetting>("gpu", "auto"),
    threads: c.get<number>("threads", 0),
    contextSize: c.get<number>("contextSize", 4096),
    systemPrompt: c.get<string>("chat.systemPrompt", ""),
    generation: {
      temperature: c.get<number>("chat.temperature", 0.7),
      topP: c.get<number>("chat.topP", 0.95),
      topK: c.get<number>("chat.topK", 40),
      maxTokens: c.get<number>("chat.maxTokens", 512),
    },
    startOnActivation: c.get<boolean>("sidecar.startOnActivation", false),
    index: {
      maxFileBytes: c.get<number>("index.maxFileBytes", 1_000_000),
      batchSize: c.get<number>("index.batchSize", 128),
      batchTokens: c.get<number>("index.batchTokens", 512),
      watch: c.get<boolean>("index.watch", true),
      queryPrefix: c.get<string | null>("index.queryPrefix", null),
      documentPrefix: c.get<string | null>("index.documentPrefix", null),
    },
    search: {
      mode: c.get<SearchMode | "auto">("search.mode", "auto"),
      topK: c.get<number>("search.topK", 10),
      rerank: c.get<boolean>("search.rerank", true),
      codebaseChunks: c.get<number>("search.codebaseChunks", 5),
      fusion: c.get<FusionMethod>("search.fusion", "convex"),
      vectorWeight: c.get<number>("search.vectorWeight", 1),
      rerankWeight: c.get<number>("search.rerankWeight", 1),
    },
    actions: {
      maxTokens: c.get<number>("actions.maxTokens", 2048),
      temperature: c.get<number>("actions.temperature", 0.2),
    },
    completion: {
      enabled: c.get<boolean>("completion.enabled", true),
      disabledLanguages: c.get<string[]>("completion.disabledLanguages", []),
      prefixTokens: c.get<number>("completion.prefixTokens", 1024),
      suffixTokens: c.get<number>("completion.suffixTokens", 256),
      maxTokens: c.get<number>("completion.maxTokens", 64),
      timeBudgetMs: c.get<number>("completion.timeBudgetMs", 1500),
      debounceMs: c.get<number>("completion.debounceMs", 75),
      contextSize: c.get<number>("completion.contextSize", 2048),
      contextTokens: c.get<number>("completion.contextTokens", 512),
    },
  };
}
