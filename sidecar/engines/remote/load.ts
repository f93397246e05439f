import { HearthError } from "../../../shared/errors";
import { ErrorCodes, type ModelInfo, type ModelLoadParams } from "../../../shared/protocol";
import type { RoleEngines } from "../types";
import { RemoteChat } from "./chat";
import { detectEngineKind } from "./detect";
import { RemoteEmbedding } from "./embedding";
import { chooseFimRoute, RemoteFim } from "./fim";
import { DEFAULT_HTTP_LIMITS, EngineHttp, optionalAnswer, type HttpLimits } from "./http";
import { ENGINE_KINDS_TABLE, type OpenAiModels } from "./kinds";
import { RemoteNes } from "./nes";
import { RemoteRerank } from "./rerank";

/**
 * How long a load waits for one of the engine's metadata answers (model list, `/props`, `/api/ps`), ms: they are
 * answered at once by a working engine, so a stuck one fails the load in seconds, not after a request's full
 * first-byte limit per call (issue 31 m18: a `hearth complete --engine-url` against a stuck engine waited minutes).
 */
export const METADATA_TIMEOUT_MS = 10_000;

/**
 * Connect a role to a remote engine: detect its kind, resolve the model id (an empty one means the engine's
 * only model), read the context window the engine really allocated, and check the role's call works once
 * (a tiny request), so a wrong engine or model fails at load, not at the first keystroke.
 * @param limits timeouts and retries of this engine's requests.
 * @throws HearthError EngineUnavailable, EngineAuth, ModelNotFound, Unsupported (no FIM, no rerank route).
 */
export async function loadRemote(
  params: ModelLoadParams,
  signal: AbortSignal,
  limits: HttpLimits = DEFAULT_HTTP_LIMITS,
): Promise<RoleEngines> {
  const started = performance.now();
  const engine = params.model.engine!;
  const kind = engine.kind ?? (await detectEngineKind(engine, signal));
  const row = ENGINE_KINDS_TABLE[kind];
  const http = new EngineHttp(engine, limits);
  const metadata = new EngineHttp(engine, {
    ...limits,
    firstByteMs: Math.min(limits.firstByteMs, METADATA_TIMEOUT_MS),
  });
  // The model list is optional (some servers have none), but a refused key, a cancel or silence is not.
  const listed = await optionalAnswer(metadata.json<OpenAiModels>("/v1/models", undefined, signal, "model list"));
  const ids = listed?.data?.map((m) => m.id) ?? [];
  let model = params.model.uri;
  if (!model) {
    if (ids.length !== 1) {
      throw new HearthError(
        ErrorCodes.ModelNotFound,
        ids.length
          ? `The engine at ${http.url} serves ${ids.length} models; name one: ${ids.slice(0, 8).join(", ")}.`
          : `The engine at ${http.url} lists no models.`,
        "Pass the model id (CLI: --model; VS Code: the role's model setting).",
      );
    }
    model = ids[0]!;
  } else if (ids.length && !ids.includes(model) && !row.unlistedModels) {
    // llama-server answers any model name with its one model; a listed id is what it is really running.
    if (!(row.anyModelName && ids.length === 1)) {
      throw new HearthError(
        ErrorCodes.ModelNotFound,
        `The engine at ${http.url} has no model '${model}'; it serves: ${ids.slice(0, 8).join(", ")}.`,
        "Pick one of those ids.",
      );
    }
  }
  const entry = listed?.data?.find((m) => m.id === model) ?? listed?.data?.[0];
  // The context window the engine allocated at run time (not the trained maximum); Ollama's default num_ctx,
  // and a safe guess elsewhere, when it does not say.
  const contextSize =
    (await row.allocatedContext(metadata, entry, signal)) ?? entry?.max_model_len ?? params.contextSize ?? 4096;
  const info: ModelInfo = {
    role: params.role,
    path: `${http.url}#${model}`,
    name: model,
    engine: { kind, url: engine.url },
    architecture: kind,
    sizeBytes: 0,
    trainContextSize: entry?.meta?.n_ctx_train ?? contextSize,
    contextSize,
    infillSupported: false,
    toolCalls: row.nativeTools ? "native" : "grammar",
    gpuLayers: 0,
    loadMs: 0,
  };
  const out: RoleEngines = {
    info,
    dispose: async () => {
      await out.chat?.dispose();
      await out.completion?.dispose();
      await out.embedding?.dispose();
      await out.rerank?.dispose();
      await out.nes?.dispose();
    },
  };
  if (params.role === "chat") out.chat = new RemoteChat(http, kind, model, contextSize);
  if (params.role === "completion") {
    const fim = new RemoteFim(http, model, contextSize, await chooseFimRoute(http, kind, model, signal));
    // One tiny call: llama-server answers 501 here when the model has no FIM tokens, others 404 without the route.
    await fim.infill({ prefix: "a", suffix: "", maxTokens: 1 }, signal);
    info.infillSupported = true;
    out.completion = fim;
  }
  if (params.role === "nes") {
    // Raw prompts through /v1/completions (one tiny call checks the route), the generic format through chat.
    const raw = new RemoteFim(http, model, contextSize);
    await raw.complete({ prompt: "a", maxTokens: 1, temperature: 0 }, () => undefined, signal);
    out.nes = new RemoteNes(raw, new RemoteChat(http, kind, model, contextSize));
  }
  if (params.role === "embedding") {
    const embedding = await RemoteEmbedding.connect(http, model, contextSize, params.prefixes, signal);
    info.embeddingDimensions = embedding.dimensions;
    out.embedding = embedding;
  }
  if (params.role === "rerank") {
    if (!row.rerank) {
      throw new HearthError(
        ErrorCodes.Unsupported,
        `${row.label} has no rerank endpoint, so ${http.url} cannot rerank.`,
        "Leave 'hearth.models.rerank' empty (search fuses without rerank), or serve a reranker with llama-server --rerank.",
      );
    }
    const rerank = new RemoteRerank(http, model, contextSize);
    await rerank.rank("probe", ["probe"], signal);
    out.rerank = rerank;
  }
  info.loadMs = Math.round(performance.now() - started);
  return out;
}
