import { createInterface } from "node:readline/promises";
import { downloadParams, plannedModels, smokeTestPlan } from "../../common/models/setupFlow";
import type { SetupPlan } from "../../shared/protocol";
import { defineCommand } from "../command";
import { JSON_OPTION, num, RUNTIME_OPTIONS, UsageError } from "../options";
import { CliSession } from "../session";
import { formatPlan, ProgressBar } from "../setupView";
import { terminalSafe } from "../terminal";
import { userConfigPath, writeUserConfig, type UserConfig } from "../userConfig";

const GIB = 1024 ** 3;

/** `hearth setup`: a model per role fitted to this machine, downloaded, verified, smoke-tested and written to the config file. */
export const setupCommand = defineCommand({
  name: "setup",
  usage: "[--plan] [--json] [--yes] [--ram-gib N] [--vram-gib N] [--catalog <url|file>] [--import <folder>]...",
  summary: "choose a model per role for this machine, download, verify and test them",
  description: `Plans one model per role (chat, FIM completion, embedding, rerank) so that all of them fit this machine's
memory together, from the catalog and the GGUFs already here (Ollama, LM Studio, the Hugging Face cache, the models
folder, --import), and shows it: each role's model, download size, estimated memory and whether it fits. Then (after
a yes, or with --yes) downloads each file with progress, resumes an interrupted download, verifies its sha256,
loads each role and makes one tiny call of it, and writes the config file every 'hearth' command reads for its
defaults (flags still win; 'hearth config' shows it). --plan only shows the plan; --ram-gib / --vram-gib plan for
another machine.`,
  options: {
    plan: { type: "boolean", help: "show the plan and stop" },
    yes: { type: "boolean", short: "y", help: "download and set up without asking" },
    "ram-gib": { type: "string", arg: "<n>", help: "plan for a machine with this much RAM (GiB)" },
    "vram-gib": { type: "string", arg: "<n>", help: "plan for a GPU with this much memory (GiB; 0: none)" },
    catalog: {
      type: "string",
      arg: "<url|file>",
      help: "the model catalog (default: the one Hearth ships; also $HEARTH_CATALOG)",
    },
    import: { type: "string", multiple: true, arg: "<folder>", help: "also consider the GGUFs in this folder" },
    ...JSON_OPTION,
    ...RUNTIME_OPTIONS,
  },
  maxPositionals: 0,
  async run(values) {
    const ram = num(values["ram-gib"], "ram-gib");
    const vram = num(values["vram-gib"], "vram-gib");
    if ((ram !== undefined && ram <= 0) || (vram !== undefined && vram < 0))
      throw new UsageError("--ram-gib must be above 0 and --vram-gib at least 0");
    const catalog = values.catalog ?? (process.env["HEARTH_CATALOG"] || undefined);
    const session = new CliSession(values, { oneShot: true });
    return session.run(async () => {
      await session.sidecar.start();
      const plan = await session.sidecar.request("setup/plan", {
        ...(catalog ? { catalog } : {}),
        ...(ram !== undefined ? { ramBytes: Math.round(ram * GIB) } : {}),
        ...(vram !== undefined ? { vramBytes: Math.round(vram * GIB) } : {}),
        ...(values.import?.length ? { folders: values.import } : {}),
      });
      const filled = plan.roles.filter((r) => r.model);
      if (values.plan || !filled.length) {
        if (values.json) process.stdout.write(JSON.stringify(plan, null, 2) + "\n");
        else process.stdout.write(terminalSafe(formatPlan(plan)) + "\n");
        return filled.length ? 0 : 1;
      }
      if (!values.json) process.stderr.write(terminalSafe(formatPlan(plan)) + "\n");
      if (!values.yes && !(await confirm(plan))) return 0;
      const paths = await downloadAll(session, plan, !values.json);
      const { checks: results, models } = await smokeTestPlan(session.sidecar, session.roles, plan, paths);
      const config: UserConfig = { models, writtenBy: "hearth setup", writtenAt: new Date().toISOString() };
      const file = userConfigPath();
      if (Object.keys(config.models).length) writeUserConfig(config, file);
      if (values.json) {
        process.stdout.write(
          JSON.stringify({ plan, checks: results, config: file, models: config.models }, null, 2) + "\n",
        );
      } else {
        for (const r of results) process.stdout.write(terminalSafe(`${r.role.padEnd(11)} ${r.line}`) + "\n");
        process.stdout.write(
          `Wrote ${file}: every 'hearth' command now uses these models unless a flag says otherwise.\n`,
        );
      }
      return results.every((r) => r.ok) ? 0 : 1;
    });
  },
});

/** Asks on the terminal; without one, says how to go on and answers no. */
async function confirm(plan: SetupPlan): Promise<boolean> {
  const mib = Math.ceil(plan.downloadBytes / 1024 / 1024).toLocaleString("en");
  if (!process.stdin.isTTY) {
    process.stderr.write(`Run 'hearth setup --yes' to download ${mib} MiB and set these models up.\n`);
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Download ${mib} MiB and set these models up? [Y/n] `);
    return !/^n/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Downloads each distinct catalog model of the plan (local ones are used where they are). @returns id → path. */
async function downloadAll(session: CliSession, plan: SetupPlan, showProgress: boolean): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  for (const model of plannedModels(plan)) {
    if (model.source === "local") {
      paths.set(model.id, model.uri);
      continue;
    }
    const progressId = `setup-${model.id}`;
    const bar = new ProgressBar(model.name, showProgress && process.stderr.isTTY);
    const sub = session.sidecar.onNotification("model/progress", (p) => {
      if (p.progressId === progressId) bar.update(p.downloadedBytes ?? 0, p.totalBytes ?? 0);
    });
    try {
      const result = await session.sidecar.request("model/download", downloadParams(model, progressId));
      bar.done(
        result.sizeBytes,
        result.verifiedAgainst === "none"
          ? `sha256 ${result.sha256.slice(0, 12)}… (nothing to verify against)`
          : "sha256 verified",
      );
      paths.set(model.id, result.path);
    } finally {
      sub.dispose();
    }
  }
  return paths;
}
