import path from "node:path";
import { loadPromptDir, PROMPTS_DIR } from "../../common/actions/loadPrompts";
import { DEFAULT_MODELS } from "../../common/models/modelArgs";
import { defineCommand } from "../command";
import { terminalSafe } from "../terminal";
import {
  ENGINE_OPTIONS,
  GENERATION_OPTIONS,
  generationParams,
  MODEL_OPTIONS,
  PROMPTS_DIR_OPTION,
  RUNTIME_OPTIONS,
  UsageError,
} from "../options";
import { fileInput, runPromptOnFile } from "../run";
import { CliSession } from "../session";

/** `hearth run`: a prompt (action) on a file or a range of it. */
export const runCommand = defineCommand({
  name: "run",
  modelRole: "chat",
  usage: '<prompt> <file> [--range L1:L2] [--input "text"] [--model <path|hf:uri>]',
  summary: "run a prompt (explain, fix, doc, tests, edit, ask, or your own) on a file",
  description: `Run a prompt (built-in: explain, fix, doc, tests, edit, ask; or one of .hearth/prompts/*.md) on a file or
a line range: prints the answer, or the proposed change as a unified diff (nothing is written). --input answers
the prompt's question (edit, ask).`,
  options: {
    range: { type: "string", arg: "<L1:L2>", help: "1-based inclusive line range of the file" },
    input: { type: "string", arg: "<text>", help: "the answer to the prompt's question (edit: how to change it)" },
    ...PROMPTS_DIR_OPTION,
    ...MODEL_OPTIONS,
    ...GENERATION_OPTIONS,
    ...ENGINE_OPTIONS,
    ...RUNTIME_OPTIONS,
  },
  maxPositionals: 2,
  async run(values, [name, file]) {
    if (!name || !file)
      throw new UsageError("run needs a prompt name and a file: hearth run <prompt> <file> [--range L1:L2]");
    const params = generationParams(values);
    const engineUrl = values["engine-url"];
    const session = new CliSession(values, { oneShot: true });
    return session.run(async () => {
      const { prompts, errors } = await loadPromptDir(path.resolve(values["prompts-dir"] ?? PROMPTS_DIR));
      for (const e of errors) process.stderr.write(`hearth: ${terminalSafe(e.message)}\n`);
      const spec = prompts.find((p) => p.name === name);
      if (!spec) {
        process.stderr.write(
          `hearth: no prompt named '${name}'. Available: ${prompts.map((p) => p.name).join(", ")}\n`,
        );
        return 2;
      }
      const input = await fileInput(path.resolve(file), values.range, values.input);
      await session.sidecar.start();
      await session.loadChatModel(values.model ?? (engineUrl ? undefined : DEFAULT_MODELS.chat), engineUrl);
      await runPromptOnFile(session.sidecar, spec, input, { params, write: (t) => process.stdout.write(t) });
      return 0;
    });
  },
});
