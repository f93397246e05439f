/**
 * `npm run bench:schemas` — the sidecar's memory under a client that sends a new response schema with every
 * request (issue 31, C1: an agent framework whose tool set changes per call, or a hostile page behind
 * `hearth serve`): `--requests` chat requests of one token, each with a schema no earlier one had, and the
 * sidecar's RSS (from /proc) every `--every` requests, with the compiled grammars the chat model keeps. The same
 * number of requests with one schema repeated, in the same sidecar first, is the baseline: the ratio is what the
 * distinct schemas cost on top. Nothing here asserts a figure.
 *
 *   npm run bench:schemas [-- --model <gguf>] [--requests 2000] [--every 250] [--enum 900] [--enum-chars 48] [--threads 1]
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";
import { processMemory } from "./stats";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    model: { type: "string", default: path.join(root, "..", "shared", "models", "stories260K.gguf") },
    requests: { type: "string", default: "2000" },
    every: { type: "string", default: "250" },
    threads: { type: "string", default: "1" },
    enum: { type: "string", default: "900" },
    "enum-chars": { type: "string", default: "48" },
  },
});
const enumValues = Number(values.enum);
/** Characters of each enum value. */
const enumChars = Number(values["enum-chars"]);
const requests = Number(values.requests);
const every = Number(values.every);
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const sidecar = new SidecarProcess({
  sidecarPath: path.join(root, "dist", "sidecar.mjs"),
  init: { modelsDir: os.tmpdir(), threads: Number(values.threads), gpu: "off" },
});
await sidecar.start();
try {
  await sidecar.request("model/load", { role: "chat", model: { uri: values.model! }, contextSize: 256 });
  /**
   * A schema with a property named after `i` and an enum of `--enum` values of `--enum-chars` characters (an
   * agent framework's tool with a list of choices): distinct for each i, all the same shape and size, within the
   * request bounds at the defaults.
   */
  const schema = (i: number) => ({
    type: "object",
    properties: {
      [`field_${i}`]: { type: "string" },
      choice: { enum: Array.from({ length: enumValues }, (_, k) => `option_${i}_${k}_`.padEnd(enumChars, "x")) },
    },
  });
  const run = async (label: string, schemaOf: (i: number) => object) => {
    const start = processMemory(sidecar.pid, "VmRSS");
    console.log(`${label}: RSS ${mib(start)} MiB at start`);
    for (let i = 1; i <= requests; i++) {
      await sidecar.request("chat/send", {
        streamId: "schemas",
        messages: [{ role: "user", content: "Once upon a time" }],
        params: { temperature: 0, maxTokens: 1 },
        responseSchema: schemaOf(i),
      });
      if (i % every === 0) {
        const stats = await sidecar.request("runtime/stats", {});
        const rss = processMemory(sidecar.pid, "VmRSS");
        console.log(
          `  ${String(i).padStart(6)} requests  RSS ${mib(rss).padStart(7)} MiB  (+${mib(rss - start)})  grammars kept ${stats.grammarCache?.entries ?? "-"}/${stats.grammarCache?.maxEntries ?? "-"}`,
        );
      }
    }
    return processMemory(sidecar.pid, "VmRSS") - start;
  };
  const same = await run(`${requests} requests, one schema`, () => schema(0));
  const distinct = await run(`${requests} requests, each with a new schema`, schema);
  console.log(
    `growth: one schema +${mib(same)} MiB, distinct schemas +${mib(distinct)} MiB (${(distinct / Math.max(same, 1)).toFixed(2)}x)`,
  );
} finally {
  await sidecar.stop();
}
