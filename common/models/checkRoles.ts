import type { ModelRole } from "../../shared/protocol";
import type { SidecarApi } from "../sidecar/SidecarApi";
import { HearthError } from "../../shared/errors";
import type { ModelRoleSpec, ModelRoles } from "./ModelRoles";

/** The outcome of checking one role: whether it works, and one line saying so (or why not, and the fix). */
export interface RoleCheck {
  role: ModelRole;
  ok: boolean;
  /** `works: <model> on <engine>, context N` or `does not work: <sentence> <hint>`. */
  line: string;
}

/**
 * The engine doctor (`hearth doctor`, *Hearth: Check Engines*): load each role's spec through `roles` (which
 * probes a remote engine and makes one tiny call of the role: an `/infill`, an embedding, a rerank) and, for
 * chat, generate one token. Never throws: each failure is that role's line.
 */
export async function checkRoles(
  api: SidecarApi,
  roles: ModelRoles,
  checks: ReadonlyArray<readonly [ModelRole, ModelRoleSpec]>,
): Promise<RoleCheck[]> {
  const out: RoleCheck[] = [];
  for (const [role, spec] of checks) {
    try {
      const info = await roles.ensure(role, spec, { retryCrashed: true });
      if (role === "chat") {
        await api.request("chat/send", {
          streamId: "doctor",
          messages: [{ role: "user", content: "Hi" }],
          params: { maxTokens: 1 },
        });
      }
      const where = info.engine ? `${info.engine.kind} at ${info.engine.url}` : "the embedded engine";
      out.push({ role, ok: true, line: `works: ${info.name} on ${where}, context ${info.contextSize}` });
    } catch (error) {
      out.push({ role, ok: false, line: `does not work: ${HearthError.from(error).userMessage}` });
    }
  }
  return out;
}
