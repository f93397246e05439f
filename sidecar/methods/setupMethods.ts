import { parseModelDownloadParams, parseSetupPlanParams } from "../../shared/guards";
import { HearthError } from "../../shared/errors";
import { downloadModel, makePlan, type SetupDeps } from "../setup/setup";
import { method, type MethodContext, type MethodTable } from "./context";

/** `setup/plan` and `model/download`: the first-run plan for this machine and verified downloads with progress. */
export function setupMethods(c: MethodContext): MethodTable<"setup/plan" | "model/download"> {
  const deps = (): SetupDeps => {
    const engines = c.engines();
    return {
      llama: () =>
        engines.backend().catch((error: unknown) => {
          c.log.warn(`Planning without the GPU: ${HearthError.from(error).message}`);
          return undefined;
        }),
      modelsDir: engines.modelsDir,
      log: c.log,
    };
  };
  return {
    "setup/plan": method(parseSetupPlanParams, (params, signal) => makePlan(params, deps(), signal)),
    "model/download": method(parseModelDownloadParams, async (params, signal) => {
      let lastSent = 0;
      const result = await downloadModel(
        params,
        deps(),
        ({ downloadedBytes, totalBytes }) => {
          if (!params.progressId) return;
          const fraction = totalBytes > 0 ? downloadedBytes / totalBytes : 0;
          const now = Date.now();
          if (fraction < 1 && now - lastSent < 100) return;
          lastSent = now;
          c.notify("model/progress", {
            progressId: params.progressId,
            phase: "download",
            fraction,
            downloadedBytes,
            totalBytes,
          });
        },
        signal,
      );
      if (params.progressId)
        c.notify("model/progress", {
          progressId: params.progressId,
          phase: "download",
          fraction: 1,
          downloadedBytes: result.sizeBytes,
          totalBytes: result.sizeBytes,
        });
      return result;
    }),
  };
}
