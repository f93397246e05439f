import { checkRoles } from "../../common/models/checkRoles";
import type { ModelRole, ModelSpec } from "../../shared/protocol";
import { defineCommand } from "../command";
import { ENGINE_OPTIONS, MODEL_OPTIONS, RUNTIME_OPTIONS, SEARCH_MODEL_OPTIONS, UsageError } from "../options";
import { CliSession } from "../session";
import { terminalSafe } from "../terminal";

/** `hearth doctor`: does each configured role work, and if not, why and what to do. */
export const doctorCommand = defineCommand({
  name: "doctor",
  usage: "[--engine-url <url>] [--model <m>] [--embedding-engine-url <url>] [--rerank-engine-url <url>]",
  summary: "check each configured role: works, or why not and what to do",
  description: `Check each configured role (chat and completion on --engine-url or --model; embedding and rerank on their
flags): one line per role, works or why not and what to do; exit 0 when all work.`,
  options: { ...MODEL_OPTIONS, ...ENGINE_OPTIONS, ...SEARCH_MODEL_OPTIONS, ...RUNTIME_OPTIONS },
  maxPositionals: 0,
  async run(values) {
    const session = new CliSession(values, { oneShot: true });
    const engineUrl = values["engine-url"];
    const checks: Array<[ModelRole, ModelSpec]> = [];
    if (engineUrl || values.model) {
      checks.push(["chat", session.modelSpec(values.model, engineUrl)]);
      checks.push(["completion", session.modelSpec(values.model, engineUrl)]);
    }
    if (values["embedding-model"] || values["embedding-engine-url"])
      checks.push(["embedding", session.modelSpec(values["embedding-model"], values["embedding-engine-url"])]);
    if (values["rerank-model"] || values["rerank-engine-url"])
      checks.push(["rerank", session.modelSpec(values["rerank-model"], values["rerank-engine-url"])]);
    if (!checks.length)
      throw new UsageError(
        "doctor needs something to check: --engine-url <url> or --model <m> (and/or the embedding and rerank flags)",
      );
    const contextSize = session.contextSize;
    return session.run(async () => {
      await session.sidecar.start();
      const results = await checkRoles(
        session.sidecar,
        session.roles,
        checks.map(([role, model]) => [role, { model, ...(contextSize ? { contextSize } : {}) }] as const),
      );
      for (const r of results) process.stdout.write(terminalSafe(`${r.role.padEnd(11)} ${r.line}`) + "\n");
      return results.some((r) => !r.ok) ? 1 : 0;
    });
  },
});
