/**
 * The client half of the first-run flow that `hearth setup` and *Hearth: Set Up Models* share: which files of a
 * plan to download, what each download asks of the sidecar, and the smoke test of the roles once they are here.
 * The hosts differ only in how they show progress and ask the user.
 */
import type { ModelDownloadParams, ModelRole, PlanModel, SetupPlan } from "../../shared/protocol";
import type { SidecarApi } from "../sidecar/SidecarApi";
import { checkRoles, type RoleCheck } from "./checkRoles";
import type { ModelRoles } from "./ModelRoles";
import { SEARCH_MODEL_CONTEXT_SIZE } from "./modelArgs";

/** Each distinct model a plan chose, once (one model may serve chat and FIM). */
export function plannedModels(plan: SetupPlan): PlanModel[] {
  const models = new Map<string, PlanModel>();
  for (const r of plan.roles) if (r.model) models.set(r.model.id, r.model);
  return [...models.values()];
}

/** The `model/download` request for a catalog model: its URI, the sha256 and size the plan knows. */
export function downloadParams(model: PlanModel, progressId: string): ModelDownloadParams {
  return {
    uri: model.uri,
    progressId,
    ...(model.sha256 ? { sha256: model.sha256 } : {}),
    ...(model.downloadBytes > 0 ? { sizeBytes: model.downloadBytes } : {}),
  };
}

/**
 * Load each planned role from its local file (`paths`: model id → path) and make one tiny call of it.
 * @returns each role's check, and the settings to write for the roles that work (role → path).
 */
export async function smokeTestPlan(
  api: SidecarApi,
  roles: ModelRoles,
  plan: SetupPlan,
  paths: ReadonlyMap<string, string>,
): Promise<{ checks: RoleCheck[]; models: Partial<Record<ModelRole, string>> }> {
  const filled = plan.roles.filter((r) => r.model && paths.has(r.model.id));
  const fileOf = (role: ModelRole) => paths.get(filled.find((r) => r.role === role)!.model!.id)!;
  const checks = await checkRoles(
    api,
    roles,
    filled.map((r) => [
      r.role,
      {
        model: { uri: fileOf(r.role) },
        contextSize: r.role === "embedding" || r.role === "rerank" ? SEARCH_MODEL_CONTEXT_SIZE : r.contextSize,
      },
    ]),
  );
  return { checks, models: Object.fromEntries(checks.filter((c) => c.ok).map((c) => [c.role, fileOf(c.role)])) };
}
