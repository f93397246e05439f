import { checkRoles } from "../../common/models/checkRoles";
import type { ModelRole, ModelSpec } from "../../shared/protocol";
import { defineCommand } from "../command";
import { ENGINE_OPTIONS, MODEL_OPTIONS, RUNTIME_OPTIONS, SEARCH_MODEL_OPTIONS, UsageError } from "../options";
import { CliSession } from "../session";
import { terminalSafe } from "../terminal";
import { readUserConfig } from "../userConfig";

/** `hearth doctor`: does each configured role work, and if not, why and what to do. */
export const doctorCommand = defineCommand({
  name: "doctor",
  usage: "[--engine-url <url>] [--model <m>] [--embedding-engine-url <url>] [--rerank-engine-url <url>]",
  summary: "check each configured role: works, or why not and what to do",
  description: `Check each configured role (chat and completion on --engine-url or --model; embedding and rerank on their
flags; without flags, the models 'hearth setup' wrote to the config file): one tiny call per role (a one-token
answer, a FIM suggestion, an embedding, a rerank pair, a next edit), one line per role, works or why not and what to do; exit 0
when all work.`,
  options: { ...MODEL_OPTIONS, ...ENGINE_OPTIONS, ...SEARCH_MODEL_OPTIONS, ...RUNTIME_OPTIONS },
  maxPositionals: 0,
  async run(values) {
    const session = new CliSession(values, { oneShot: true });
    const engineUrl = values["engine-url"];
    const checks: Array<[ModelRole, ModelSpec]> = [];
    // Without --model or --engine-url: the chat and completion models of the config file (`hearth setup`).
    const configured = engineUrl || values.model ? {} : readUserConfig().models;
    const chat = values.model ?? configured.chat;
    const completion = values.model ?? configured.completion;
    if (engineUrl || chat) checks.push(["chat", session.modelSpec(chat, engineUrl)]);
    if (engineUrl || completion) checks.push(["completion", session.modelSpec(completion, engineUrl)]);
    if (values["embedding-model"] || values["embedding-engine-url"])
      checks.push(["embedding", session.modelSpec(values["embedding-model"], values["embedding-engine-url"])]);
    if (values["rerank-model"] || values["rerank-engine-url"])
      checks.push(["rerank", session.modelSpec(values["rerank-model"], values["rerank-engine-url"])]);
    // The next-edit model of the config file (it has no flag of its own here: `hearth next-edit --model` checks one).
    if (configured.nes) checks.push(["nes", session.modelSpec(configured.nes, undefined)]);
    if (!checks.length)
      throw new UsageError(
        "doctor needs something to check: run 'hearth setup', or give --engine-url <url> or --model <m> (and/or the embedding and rerank flags)",
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
