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
 * The engine doctor (`hearth doctor`, *Hearth: Check Engines*, and the smoke test of `hearth setup` / *Hearth: Set
 * Up Models*): load each role's spec through `roles`, then make one tiny call of the role on whichever engine runs
 * it — a one-token chat answer, a FIM suggestion, one embedding, one rerank pair, a next-edit request of a few
 * tokens. Never throws: each failure is that
 * role's line.
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
      await smokeTest(api, role);
      const where = info.engine ? `${info.engine.kind} at ${info.engine.url}` : "the embedded engine";
      const memory = info.memory
        ? `, ~${Math.ceil((info.memory.weightsBytes + info.memory.contextBytes) / 1024 / 1024)} MiB on the ${info.memory.placement.toUpperCase()}`
        : "";
      out.push({ role, ok: true, line: `works: ${info.name} on ${where}, context ${info.contextSize}${memory}` });
    } catch (error) {
      out.push({ role, ok: false, line: `does not work: ${HearthError.from(error).userMessage}` });
    }
  }
  return out;
}

/** One tiny call of `role`. @throws what the call throws. */
async function smokeTest(api: SidecarApi, role: ModelRole): Promise<void> {
  switch (role) {
    case "chat":
      await api.request("chat/send", {
        streamId: "doctor",
        messages: [{ role: "user", content: "Hi" }],
        params: { maxTokens: 1 },
      });
      return;
    case "completion":
      await api.request("completion/infill", { prefix: "def add(a, b):\n    return ", suffix: "\n", maxTokens: 4 });
      return;
    case "embedding":
      await api.request("embedding/embed", { texts: ["function add(a, b) { return a + b; }"] });
      return;
    case "rerank":
      await api.request("rerank/score", {
        query: "add two numbers",
        documents: ["function add(a, b) { return a + b; }"],
      });
      return;
    case "nes":
      await api.request("nes/predict", {
        path: "add.ts",
        text: "function add(a, b) {\n  return a + b;\n}\n",
        line: 1,
        column: 2,
        maxTokens: 4,
      });
      return;
  }
}
