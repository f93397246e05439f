import { defineCommand } from "../command";
import { terminalSafe } from "../terminal";
import { runImportContinue } from "../importContinue";
import { JSON_OPTION } from "../options";

/** `hearth import-continue`: Continue's models as Hearth's per-role engines. */
export const importContinueCommand = defineCommand({
  name: "import-continue",
  usage: "[--continue-config <file>] [--json]",
  summary: "map Continue's configured models to Hearth's engines per role",
  description: `Map Continue's ~/.continue/config.yaml (or config.json) models to Hearth engines per role; prints the
settings and flags, and what it could not map. Writes nothing.`,
  options: {
    "continue-config": {
      type: "string",
      arg: "<file>",
      help: "Continue's config file (default ~/.continue/config.yaml, else config.json)",
    },
    ...JSON_OPTION,
  },
  maxPositionals: 0,
  async run(values) {
    try {
      return await runImportContinue({ file: values["continue-config"], json: values.json ?? false });
    } catch (error) {
      process.stderr.write(`hearth: ${terminalSafe((error as Error).message)}\n`);
      return 1;
    }
  },
});
