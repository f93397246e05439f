import os from "node:os";
import {
  parseEngineDiscoverParams,
  parseEngineModelsParams,
  parseModelListParams,
  parseModelLoadParams,
  parseModelUnloadParams,
  parseRuntimeConfigureParams,
  parseDetokenizeParams,
  parseTokenizeParams,
} from "../../shared/guards";
import { toHearthError } from "../../shared/errors";
import { discoverEngines, listEngineModels } from "../engines/remote/detect";
import { DEFAULT_ENGINE_PORTS } from "../../shared/protocol";
import { discoverModels } from "../models/discoverModels";
import { method, type MethodContext, type MethodTable } from "./context";

/** `model/*`, `runtime/*` and `engine/models`: loading models per role, the backend, the engines' model lists. */
export function modelMethods(
  c: MethodContext,
): MethodTable<
  | "model/load"
  | "model/unload"
  | "model/list"
  | "model/tokenize"
  | "model/detokenize"
  | "runtime/configure"
  | "runtime/stats"
  | "engine/models"
  | "engine/discover"
> {
  return {
    "model/load": method(parseModelLoadParams, async (params, signal) => {
      const rt = c.engines();
      const name = params.model.uri.split(/[\\/]/).pop() ?? params.model.uri;
      c.setStatus({ state: "loading", health: "ok", message: `Loading ${name}`, model: c.chatModelName() });
      let lastSent = 0;
      try {
        const info = await rt.load(
          params,
          (phase, fraction, bytes) => {
            if (!params.progressId) return;
            // Throttle to ~20 notifications per second; always send completion.
            const now = Date.now();
            if (fraction < 1 && now - lastSent < 50) return;
            lastSent = now;
            c.notify("model/progress", {
              progressId: params.progressId,
              phase,
              fraction,
              downloadedBytes: bytes?.downloadedBytes,
              totalBytes: bytes?.totalBytes,
            });
          },
          signal,
        );
        c.setStatus(c.readyStatus());
        return info;
      } catch (error) {
        const e = toHearthError(error);
        c.setStatus({ ...c.readyStatus(), health: "warning", message: e.message });
        throw e;
      }
    }),
    "model/unload": method(parseModelUnloadParams, async (params) => {
      await c.engines().forget(params.role);
      c.setStatus(c.readyStatus());
      return null;
    }),
    "model/list": method(parseModelListParams, async (params) => ({
      models: await discoverModels({
        home: params.home ?? os.homedir(),
        folders: params.folders,
        hearthModelsDir: c.modelsDir(),
        hfHome: process.env["HF_HOME"],
      }),
    })),
    "model/tokenize": method(parseTokenizeParams, async (params) => {
      await c.engines().ensure(params.role);
      const tokens = c.engines().tokenize(params.role, params.text, params.special, params.addBos);
      if (!params.pieces) return { tokens };
      // Each token's text as it continues the one before (a word's leading space stays, as llama-server's).
      return {
        tokens,
        pieces: tokens.map((t, i) => c.engines().detokenize(params.role, [t], i > 0 ? [tokens[i - 1]!] : [])),
      };
    }),
    "model/detokenize": method(parseDetokenizeParams, async (params) => {
      await c.engines().ensure(params.role);
      return { text: c.engines().detokenize(params.role, params.tokens) };
    }),
    "runtime/configure": method(parseRuntimeConfigureParams, async (params) => {
      const rt = c.engines();
      c.setStatus({ state: "loading", health: "ok", message: "Reconfiguring backend", model: c.chatModelName() });
      try {
        await rt.configure(params);
      } finally {
        c.setStatus(c.readyStatus());
      }
      return rt.stats();
    }),
    "runtime/stats": method(
      () => ({}),
      async () => c.engines().stats(),
    ),
    "engine/models": method(parseEngineModelsParams, async (params, signal) => listEngineModels(params.engine, signal)),
    "engine/discover": method(parseEngineDiscoverParams, async (params, signal) => ({
      engines: await discoverEngines(params.ports ?? DEFAULT_ENGINE_PORTS, signal),
    })),
  };
}
