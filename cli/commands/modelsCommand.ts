import { defineCommand } from "../command";
import { ENGINE_OPTIONS, RUNTIME_OPTIONS } from "../options";
import { CliSession, mib } from "../session";
import { terminalSafe } from "../terminal";

/** `hearth models`: what an engine serves, or the GGUF files on this machine. */
export const modelsCommand = defineCommand({
  name: "models",
  usage: "[--engine-url <url>] [--models-dir <dir>]",
  summary: "the models an engine serves, or the GGUF files on this machine",
  description: `The models an engine serves, with their context windows (--engine-url), or the GGUF files on this
machine (--models-dir, Hugging Face and LM Studio caches).`,
  options: { ...ENGINE_OPTIONS, ...RUNTIME_OPTIONS },
  maxPositionals: 0,
  async run(values) {
    const session = new CliSession(values, { oneShot: true });
    const engineUrl = values["engine-url"];
    return session.run(async () => {
      await session.sidecar.start();
      if (engineUrl) {
        const r = await session.sidecar.request("engine/models", { engine: session.modelSpec("", engineUrl).engine! });
        process.stdout.write(terminalSafe(`${r.kind} at ${r.url}: ${r.models.length} model(s)`) + "\n");
        for (const m of r.models) {
          process.stdout.write(terminalSafe(`  ${m.id}${m.contextSize ? `  context ${m.contextSize}` : ""}`) + "\n");
        }
        return 0;
      }
      const { models } = await session.sidecar.request("model/list", { folders: [session.modelsDir] });
      for (const m of models) process.stdout.write(terminalSafe(`${m.path}  ${mib(m.sizeBytes)} MiB`) + "\n");
      if (!models.length)
        process.stderr.write(`No GGUF files found (looked in ${session.modelsDir} and the usual caches).\n`);
      return 0;
    });
  },
});
