import os from "node:os";
import { mapContinueModels, readContinueConfig, type ContinueImport } from "../common/models/continueImport";
import { terminalSafe } from "./terminal";

/** The VS Code settings an import becomes (`hearth.engines.<role>` and `hearth.models.<role>`). */
export function importSettings(result: ContinueImport): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [role, r] of Object.entries(result.roles)) {
    settings[`hearth.engines.${role}`] = r.url;
    settings[`hearth.models.${role}`] = r.model;
  }
  return settings;
}

/**
 * `hearth import-continue [--continue-config <file>] [--json]`: what Continue's config maps to in Hearth, per
 * role, the VS Code settings and CLI flags that do it, what could not be mapped and why, and which engines have
 * an API key in the file (never the key itself). Reads only; writes nothing. Returns the exit code: 0 when at
 * least one role mapped.
 */
export async function runImportContinue(options: { file?: string | undefined; json: boolean }): Promise<number> {
  const { source, models } = await readContinueConfig(process.env["HOME"] ?? os.homedir(), options.file);
  const result = mapContinueModels(source, models);
  const settings = importSettings(result);
  const keyed = [
    ...new Set(
      Object.values(result.roles)
        .filter((r) => r.apiKey)
        .map((r) => r.url),
    ),
  ];
  if (options.json) {
    const roles = Object.fromEntries(
      Object.entries(result.roles).map(([role, r]) => [
        role,
        { kind: r.kind, url: r.url, model: r.model, from: r.from, apiKey: !!r.apiKey },
      ]),
    );
    process.stdout.write(`${JSON.stringify({ source, roles, settings, notMapped: result.notMapped })}\n`);
    return Object.keys(roles).length ? 0 : 1;
  }
  const out = (line: string) => process.stdout.write(`${terminalSafe(line)}\n`);
  out(`From ${source}:`);
  for (const [role, r] of Object.entries(result.roles)) {
    out(
      `  ${role.padEnd(11)} ${r.from} → ${r.kind} at ${r.url}${r.model ? `, model ${r.model}` : " (its only model)"}`,
    );
  }
  if (result.notMapped.length) {
    out("Not mapped:");
    for (const n of result.notMapped) out(`  - ${n}`);
  }
  if (!Object.keys(result.roles).length) return 1;
  out("VS Code settings (settings.json), or run 'Hearth: Import Models from Continue':");
  out(JSON.stringify(settings, null, 2));
  const chat = result.roles.chat;
  if (chat) out(`CLI: hearth chat --engine-url ${chat.url}${chat.model ? ` --model ${chat.model}` : ""}`);
  if (keyed.length) {
    out(`API keys are in the file for ${keyed.join(", ")} (not shown): in VS Code 'Hearth: Set Engine API Key';`);
    out("in the CLI export HEARTH_ENGINE_API_KEY (or name another variable with --engine-key-env).");
  }
  return 0;
}
