import { defaultModelsDir } from "../../common/models/modelArgs";
import { MODEL_ROLES } from "../../shared/protocol";
import { defineCommand } from "../command";
import { JSON_OPTION } from "../options";
import { terminalSafe } from "../terminal";
import { readUserConfig, userConfigPath } from "../userConfig";

/** `hearth config`: what is in effect for the models and folders, and where each value comes from. */
export const configCommand = defineCommand({
  name: "config",
  usage: "[--json]",
  summary: "show the models and folders in effect and where each value comes from",
  description: `Shows each role's model from the config file 'hearth setup' writes (a flag such as --model still wins
on any command), the models folder and the catalog, each with where its value comes from (config file, environment
variable, default).`,
  options: { ...JSON_OPTION },
  maxPositionals: 0,
  async run(values) {
    const file = userConfigPath();
    const config = readUserConfig(file);
    const rows: Array<{ key: string; value: string | null; source: string }> = MODEL_ROLES.map((role) => ({
      key: `models.${role}`,
      value: config.models[role] ?? null,
      source: config.models[role]
        ? file
        : "not set (pass --model / --embedding-model / --rerank-model, or run 'hearth setup')",
    }));
    rows.push({
      key: "modelsDir",
      value: defaultModelsDir(),
      source: process.env["HEARTH_MODELS_DIR"] ? "$HEARTH_MODELS_DIR" : "default (--models-dir overrides)",
    });
    rows.push({
      key: "catalog",
      value: process.env["HEARTH_CATALOG"] || "shipped with Hearth",
      source: process.env["HEARTH_CATALOG"] ? "$HEARTH_CATALOG" : "default (hearth setup --catalog overrides)",
    });
    if (values.json) {
      process.stdout.write(
        JSON.stringify(
          { file, exists: Boolean(config.writtenAt || Object.keys(config.models).length), values: rows },
          null,
          2,
        ) + "\n",
      );
      return 0;
    }
    process.stdout.write(
      `Config file: ${terminalSafe(file)}${config.writtenBy ? ` (written by ${terminalSafe(config.writtenBy)}, ${terminalSafe(config.writtenAt ?? "")})` : ""}\n`,
    );
    for (const r of rows)
      process.stdout.write(terminalSafe(`${r.key.padEnd(17)} ${r.value ?? "-"}    [${r.source}]`) + "\n");
    return 0;
  },
});
