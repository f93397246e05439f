/**
 * One row per server kind Hearth talks to: everything that differs between llama-server, Ollama, vLLM, LM
 * Studio and a generic OpenAI-compatible server (the wire facts of ../shared/design/ENGINE-PROTOCOLS.md), so the
 * capability files (`chat.ts`, `fim.ts`, `embedding.ts`, `rerank.ts`) and the loader read a row instead of
 * branching on the kind, and adding a kind is adding a row (plus its probe in `detect.ts`).
 */
import type { EngineKind } from "../../../shared/protocol";
import { fimTemplateFor, type FimTemplate } from "./fimTemplates";
import { optionalAnswer, type EngineHttp } from "./http";

/** One model of `/v1/models` as the OpenAI-compatible servers list it (vLLM adds `max_model_len`, llama-server `meta`). */
export interface OpenAiModel {
  id: string;
  owned_by?: string;
  max_model_len?: number;
  meta?: { n_ctx_train?: number };
}

/** The `/v1/models` answer. */
export interface OpenAiModels {
  data?: OpenAiModel[];
}

/** How a remote engine is asked for a middle (see {@link chooseFimRoute}). */
export type FimRoute =
  | { kind: "infill" }
  | { kind: "ollama-suffix" }
  | { kind: "ollama-raw"; template: FimTemplate }
  | { kind: "completions"; template: FimTemplate };

/** What a server kind is and does. */
export interface EngineKindRow {
  /** Its name in messages. */
  label: string;
  /**
   * The context window it allocated for `model` at run time (not the trained maximum), tokens; undefined when it
   * does not say (the loader then takes `max_model_len`, the asked size, or 4,096).
   */
  allocatedContext(http: EngineHttp, model: OpenAiModel | undefined, signal?: AbortSignal): Promise<number | undefined>;
  /** Its models with their context windows, where `/v1/models` is not the list to read. */
  listModels?(http: EngineHttp, signal?: AbortSignal): Promise<Array<{ id: string; contextSize?: number }>>;
  /** Its best FIM route for `model`; undefined when it has none (see `fim.ts`). */
  fimRoute(http: EngineHttp, model: string, signal: AbortSignal): Promise<FimRoute | undefined>;
  /** Why FIM can fail on it, before the common reason ("Hearth knows no FIM template for its family"). */
  fimLimit?: string;
  /** Whether it has `POST /v1/rerank`. */
  rerank: boolean;
  /** Whether its chat route takes `top_k` (plain OpenAI servers refuse unknown sampling fields). */
  topK: boolean;
  /** Whether it answers any model name with its one model (the listed id is what it really runs). */
  anyModelName: boolean;
  /** Whether it serves models its `/v1/models` does not list (Ollama loads any pulled model on demand). */
  unlistedModels: boolean;
  /** Whether its chat route takes OpenAI `tools` (native tool calls); else the grammar's JSON calls are used. */
  nativeTools: boolean;
}

/**
 * The context LM Studio (0.4+) loaded model `id` with: its loaded instance's `config.context_length` in
 * `/api/v1/models` (the same list's `max_context_length`, and all v0 gives, is the trained maximum).
 * @returns undefined when the model is not loaded or the server is older.
 */
async function lmStudioLoadedContext(http: EngineHttp, id: string, signal?: AbortSignal): Promise<number | undefined> {
  const v1 = await optionalAnswer(
    http.json<{
      models?: Array<{ key?: string; loaded_instances?: Array<{ id?: string; config?: { context_length?: number } }> }>;
    }>("/api/v1/models", undefined, signal, "models"),
  );
  return v1?.models
    ?.flatMap((m) => (m.loaded_instances ?? []).map((i) => ({ key: m.key, ...i })))
    .find((i) => i.id === id || i.key === id)?.config?.context_length;
}

/** A raw prompt from the model family's FIM tokens through `/v1/completions`, when the family is known. */
async function completionsRoute(_http: EngineHttp, model: string): Promise<FimRoute | undefined> {
  const template: FimTemplate | undefined = fimTemplateFor(model);
  return template ? { kind: "completions", template } : undefined;
}

/** The rows, by kind. */
export const ENGINE_KINDS_TABLE: Record<EngineKind, EngineKindRow> = {
  "llama-server": {
    label: "llama-server",
    async allocatedContext(http, _model, signal) {
      const props = await optionalAnswer(
        http.json<{ default_generation_settings?: { n_ctx?: number } }>("/props", undefined, signal, "props"),
      );
      return props?.default_generation_settings?.n_ctx || undefined;
    },
    fimRoute: async () => ({ kind: "infill" }),
    rerank: true,
    topK: true,
    anyModelName: true,
    unlistedModels: false,
    nativeTools: true,
  },
  ollama: {
    label: "Ollama",
    async allocatedContext(http, model, signal) {
      if (!model) return undefined;
      // What Ollama allocated for the model when it is loaded (`/api/show` would give the trained maximum).
      const ps = await optionalAnswer(
        http.json<{ models?: Array<{ name?: string; model?: string; context_length?: number }> }>(
          "/api/ps",
          undefined,
          signal,
          "running models",
        ),
      );
      return ps?.models?.find((m) => m.name === model.id || m.model === model.id)?.context_length || undefined;
    },
    async listModels(http, signal) {
      const tags = await http.json<{ models?: Array<{ name: string; details?: { context_length?: number } }> }>(
        "/api/tags",
        undefined,
        signal,
        "model list",
      );
      return (tags.models ?? []).map((m) => ({
        id: m.name,
        ...(m.details?.context_length ? { contextSize: m.details.context_length } : {}),
      }));
    },
    async fimRoute(http, model, signal) {
      const show = await optionalAnswer(
        http.json<{ capabilities?: string[] }>("/api/show", { model }, signal, "model details"),
      );
      if (show?.capabilities?.includes("insert")) return { kind: "ollama-suffix" };
      const template = fimTemplateFor(model);
      return template ? { kind: "ollama-raw", template } : undefined;
    },
    fimLimit: "the model has no 'insert' capability and ",
    rerank: false,
    topK: true,
    anyModelName: false,
    unlistedModels: true,
    nativeTools: true,
  },
  vllm: {
    label: "vLLM",
    allocatedContext: async (_http, model) => model?.max_model_len,
    fimRoute: completionsRoute,
    rerank: true,
    topK: true,
    anyModelName: false,
    unlistedModels: false,
    nativeTools: true,
  },
  lmstudio: {
    label: "LM Studio",
    allocatedContext: async (http, model, signal) =>
      model ? lmStudioLoadedContext(http, model.id, signal) : undefined,
    fimRoute: completionsRoute,
    rerank: false,
    topK: true,
    anyModelName: false,
    unlistedModels: false,
    nativeTools: true,
  },
  openai: {
    label: "OpenAI-compatible server",
    allocatedContext: async (_http, model) => model?.max_model_len,
    fimRoute: completionsRoute,
    rerank: true,
    topK: false,
    anyModelName: false,
    unlistedModels: false,
    nativeTools: true,
  },
};
