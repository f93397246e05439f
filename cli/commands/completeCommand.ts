import path from "node:path";
import { settingDefault } from "../../shared/settings";
import { defineCommand } from "../command";
import { runComplete } from "../complete";
import {
  ENGINE_OPTIONS,
  GENERATION_OPTIONS,
  JSON_OPTION,
  MODEL_OPTIONS,
  num,
  RUNTIME_OPTIONS,
  UsageError,
} from "../options";
import { CliSession } from "../session";

/** `hearth complete`: one FIM suggestion at a position of a file. */
export const completeCommand = defineCommand({
  name: "complete",
  modelRole: "completion",
  usage: "<file> --line L --column C (--model <path|hf:uri> | --engine-url <url>) [--json]",
  summary: "one fill-in-the-middle suggestion at a line and column of a file",
  description: `Fill-in-the-middle suggestion at a 1-based line/column of a file, with a FIM code model (local, or on
an engine with its best FIM route). --json adds the reason, prompt/evaluated/generated token counts and timings.`,
  options: {
    line: { type: "string", arg: "<L>", help: "1-based line of the cursor" },
    column: { type: "string", arg: "<C>", help: "1-based column of the cursor" },
    ...MODEL_OPTIONS,
    "max-tokens": GENERATION_OPTIONS["max-tokens"],
    ...JSON_OPTION,
    ...ENGINE_OPTIONS,
    ...RUNTIME_OPTIONS,
  },
  maxPositionals: 1,
  async run(values, [file]) {
    if (!file) throw new UsageError("complete needs a file: hearth complete <file> --line L --column C");
    if (!values.model && !values["engine-url"])
      throw new UsageError("complete needs a FIM-capable model: --model <path|hf:uri> (or --engine-url <url>)");
    if (values.line === undefined || values.column === undefined)
      throw new UsageError("complete needs --line and --column (1-based)");
    const line = num(values.line, "line", true)!;
    const column = num(values.column, "column", true)!;
    const maxTokens = num(values["max-tokens"], "max-tokens", true);
    const session = new CliSession(values, { oneShot: true });
    return session.run(async () => {
      await session.sidecar.start();
      await session.roles.ensure("completion", {
        model: session.modelSpec(values.model, values["engine-url"]),
        contextSize: session.contextSize ?? settingDefault("completion.contextSize"),
      });
      return await runComplete(session.sidecar, {
        file: path.resolve(file),
        line,
        column,
        json: values.json ?? false,
        maxTokens,
      });
    });
  },
});
