import { defineCommand } from "../command";
import { ENGINE_OPTIONS, num, RUNTIME_OPTIONS, UsageError } from "../options";
import { CliSession, mib } from "../session";
import { terminalSafe } from "../terminal";

/** `hearth models`: what an engine serves, or the GGUF files on this machine. */
export const modelsCommand = defineCommand({
  name: "models",
  usage: "[--engine-url <url> | --discover [--ports 11434,8080]] [--models-dir <dir>]",
  summary: "the models an engine serves, the engines running here, or the GGUF files on this machine",
  description: `The models an engine serves, with their context windows (--engine-url); the engines already running on
this machine with theirs (--discover: Ollama 11434, llama-server 8080, LM Studio 1234, vLLM 8000, hearth serve
8012 on 127.0.0.1, or --ports); or the GGUF files on this machine with the roles their headers say they can serve
(--models-dir, Ollama's store, Hugging Face and LM Studio caches).`,
  options: {
    discover: { type: "boolean", help: "list the engines running on this machine's default loopback ports" },
    ports: { type: "string", arg: "<list>", help: "with --discover: the ports to probe, comma-separated" },
    ...ENGINE_OPTIONS,
    ...RUNTIME_OPTIONS,
  },
  maxPositionals: 0,
  async run(values) {
    const ports = values.ports?.split(",").map((p) => num(p.trim(), "ports", true)!);
    if (ports && !values.discover) throw new UsageError("--ports goes with --discover");
    const session = new CliSession(values, { oneShot: true });
    const engineUrl = values["engine-url"];
    return session.run(async () => {
      await session.sidecar.start();
      if (values.discover) {
        const { engines } = await session.sidecar.request("engine/discover", ports ? { ports } : {});
        for (const e of engines) {
          process.stdout.write(terminalSafe(`${e.kind} at ${e.url}: ${e.models.map((m) => m.id).join(", ")}`) + "\n");
        }
        if (!engines.length) process.stderr.write("No engine answers on this machine's default ports.\n");
        return 0;
      }
      if (engineUrl) {
        const r = await session.sidecar.request("engine/models", { engine: session.modelSpec("", engineUrl).engine! });
        process.stdout.write(terminalSafe(`${r.kind} at ${r.url}: ${r.models.length} model(s)`) + "\n");
        for (const m of r.models) {
          process.stdout.write(terminalSafe(`  ${m.id}${m.contextSize ? `  context ${m.contextSize}` : ""}`) + "\n");
        }
        return 0;
      }
      const { models } = await session.sidecar.request("model/list", { folders: [session.modelsDir] });
      for (const m of models) {
        const roles = m.roles ? `  ${m.roles.join(", ")}` : "";
        process.stdout.write(terminalSafe(`${m.path}  ${mib(m.sizeBytes)} MiB${roles}`) + "\n");
      }
      if (!models.length)
        process.stderr.write(`No GGUF files found (looked in ${session.modelsDir} and the usual caches).\n`);
      return 0;
    });
  },
});
