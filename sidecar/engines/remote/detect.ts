import { type HearthError } from "../../../shared/errors";
import { ErrorCodes, type EngineKind, type EngineModelsResult, type EngineSpec } from "../../../shared/protocol";
import { DEFAULT_HTTP_LIMITS, EngineHttp } from "./http";
import { ENGINE_KINDS_TABLE, type OpenAiModels } from "./kinds";

/** Probes answer fast or not at all: a server that takes longer than this per probe is not that kind. */
export const PROBE_LIMITS = { ...DEFAULT_HTTP_LIMITS, firstByteMs: 5_000, attempts: 1 };

/**
 * The kind of engine at `url`, by the probes of ENGINE-PROTOCOLS.md in its order: `/props` answers →
 * llama-server; `/api/version` → Ollama; `/v1/models` owned by vllm → vLLM; `/api/v0/models` → LM Studio;
 * otherwise a generic OpenAI-compatible server.
 * @throws HearthError EngineUnavailable when nothing answers at all, EngineAuth on 401/403.
 */
export async function detectEngineKind(spec: EngineSpec, signal?: AbortSignal): Promise<EngineKind> {
  const http = new EngineHttp(spec, PROBE_LIMITS);
  const probe = async <T>(path: string): Promise<T | undefined> => {
    try {
      return await http.json<T>(path, undefined, signal, "probe");
    } catch (error) {
      const code = (error as HearthError).code;
      if (code === ErrorCodes.EngineAuth || code === ErrorCodes.Cancelled) throw error;
      if (code === ErrorCodes.EngineUnavailable && /Cannot reach/.test((error as Error).message)) throw error;
      return undefined;
    }
  };
  const props = await probe<{ default_generation_settings?: unknown }>("/props");
  if (props?.default_generation_settings) return "llama-server";
  if ((await probe<{ version?: unknown }>("/api/version"))?.version) return "ollama";
  const models = await probe<{ data?: Array<{ owned_by?: string }> }>("/v1/models");
  if (models?.data?.some((m) => m.owned_by === "vllm")) return "vllm";
  if (await probe("/api/v0/models")) return "lmstudio";
  return "openai";
}

/**
 * The models an engine serves, with their context windows where it says (its row of `kinds.ts`: Ollama's
 * `/api/tags`, trained; llama-server's `/props` and LM Studio's loaded instances, allocated; vLLM's
 * `max_model_len`), else the OpenAI `/v1/models` list alone.
 * @throws HearthError EngineUnavailable, EngineAuth.
 */
export async function listEngineModels(spec: EngineSpec, signal?: AbortSignal): Promise<EngineModelsResult> {
  const kind = spec.kind ?? (await detectEngineKind(spec, signal));
  const http = new EngineHttp(spec, PROBE_LIMITS);
  const row = ENGINE_KINDS_TABLE[kind];
  if (row.listModels) return { kind, url: spec.url, models: await row.listModels(http, signal) };
  const listed = await http.json<OpenAiModels>("/v1/models", undefined, signal, "model list");
  const models = await Promise.all(
    (listed.data ?? []).map(async (m) => {
      const contextSize = (await row.allocatedContext(http, m, signal)) ?? m.max_model_len;
      return { id: m.id, ...(contextSize ? { contextSize } : {}) };
    }),
  );
  return { kind, url: spec.url, models };
}

/** How long a port may take to answer a probe during discovery, ms (a closed port answers at once). */
const DISCOVER_PROBE_MS = 2_000;

/**
 * The engines answering on `ports` of 127.0.0.1, each with its kind and model list; a port with nothing listening,
 * or with something that is not an engine, is left out. The ports are probed in parallel, each bounded in time.
 */
export async function discoverEngines(ports: readonly number[], signal?: AbortSignal): Promise<EngineModelsResult[]> {
  const found = await Promise.all(
    ports.map(async (port) => {
      const bounded = AbortSignal.timeout(DISCOVER_PROBE_MS * 3);
      const combined = signal ? AbortSignal.any([signal, bounded]) : bounded;
      try {
        return await listEngineModels({ url: `http://127.0.0.1:${port}` }, combined);
      } catch {
        return undefined;
      }
    }),
  );
  return found.filter((e): e is EngineModelsResult => e !== undefined && e.models.length > 0);
}
