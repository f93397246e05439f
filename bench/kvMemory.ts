/**
 * `npm run bench:memory` — where a chat model's memory goes, and what a quantized KV cache would save: for each
 * KV cache type (f16, llama.cpp's default and Hearth's; q8_0; q4_0), a fresh process loads the model with raw
 * node-llama-cpp, creates one context of `--context` tokens, evaluates a prompt of `--prompt` tokens and decodes
 * 32, and prints its RSS after each step against the GGUF's size, with prompt and decode tokens/s. Quantized V
 * needs flash attention, so those runs turn it on (and f16 runs with it off and on, to separate the two effects);
 * the first run is what Hearth asks for (node-llama-cpp's defaults), the baseline of the ratios.
 *
 *   npm run bench:memory [-- --model <gguf>] [--context 4096] [--prompt 512] [--threads 1] [--mmap on|off]
 *
 * node-llama-cpp marks its KV-type options experimental, so Hearth does not set them; this measures what they
 * would give (issue 21: sidecar RSS ≤ 1.5× the model file). Default model: the SYNTHETIC real-size
 * deepseek-coder (`npm run models:real-size`). Nothing here asserts a figure.
 */
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { processMemory } from "./stats";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    model: { type: "string" },
    context: { type: "string", default: "4096" },
    prompt: { type: "string", default: "512" },
    threads: { type: "string", default: "1" },
    mmap: { type: "string", default: "on" },
    child: { type: "string" },
  },
});
const modelPath = values.model ?? path.join(root, ".cache", "real-size", "SYNTHETIC-deepseek-coder-1.3b-L6-q8_0.gguf");
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

interface Step {
  rss: number;
  promptTps?: number;
  decodeTps?: number;
}

if (values.child) {
  // One configuration, in a process of its own: "<kv type>:<flash attention>".
  const [kv, flash] = values.child.split(":") as [string, string];
  const rss = () => processMemory(process.pid, "VmRSS");
  const out: Record<string, Step> = {};
  const { getLlama } = await import("node-llama-cpp");
  const llama = await getLlama({ build: "never", gpu: false, logLevel: "error" as never });
  out["process"] = { rss: rss() };
  const model = await llama.loadModel({ modelPath, useMmap: values.mmap !== "off" });
  out["weights"] = { rss: rss() };
  const context = await model.createContext({
    contextSize: Number(values.context),
    threads: Number(values.threads),
    sequences: 1,
    ...(flash === "default" ? {} : { flashAttention: flash === "on" }),
    ...(kv === "f16"
      ? {}
      : { experimentalKvCacheKeyType: kv.toUpperCase(), experimentalKvCacheValueType: kv.toUpperCase() }),
  } as Parameters<typeof model.createContext>[0]);
  out["context"] = { rss: rss() };
  const sequence = context.getSequence();
  // Real text through the model's own tokenizer: ids outside its vocabulary would trip a llama.cpp assert.
  const code = "export function add(a: number, b: number): number {\n  return a + b;\n}\n";
  const prompt = model.tokenize(code.repeat(Number(values.prompt))).slice(0, Number(values.prompt));
  let t0 = performance.now();
  const it = sequence.evaluate(prompt, { temperature: 0 });
  let first = true;
  let decoded = 0;
  let tDecode = 0;
  for await (const _token of it) {
    if (first) {
      out["prompt"] = { rss: rss(), promptTps: prompt.length / ((performance.now() - t0) / 1000) };
      first = false;
      tDecode = performance.now();
      continue;
    }
    if (++decoded >= 32) break;
  }
  t0 = tDecode;
  out["decode"] = { rss: rss(), decodeTps: decoded / ((performance.now() - t0) / 1000) };
  console.log(JSON.stringify(out));
  await context.dispose();
  await model.dispose();
  process.exit(0);
}

const size = statSync(modelPath).size;
console.log(
  `${path.basename(modelPath)}: ${mib(size)} MiB, mmap ${values.mmap}; one context of ${values.context} tokens, a ${values.prompt}-token prompt, ` +
    `32 decoded, ${values.threads} thread(s)\n`,
);
// First what Hearth's Runtime asks for (node-llama-cpp's defaults: f16, flash attention "auto"): the baseline.
const configs = ["f16:default", "f16:off", "f16:on", "q8_0:on", "q4_0:on"];
let base: Record<string, Step> | undefined;
for (const config of configs) {
  const r = spawnSync(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      "--model",
      modelPath,
      "--context",
      values.context!,
      "--prompt",
      values.prompt!,
      "--threads",
      values.threads!,
      "--child",
      config,
    ],
    {
      encoding: "utf8",
      timeout: 600_000,
    },
  );
  const line = r.stdout.trim().split("\n").pop() ?? "";
  let steps: Record<string, Step>;
  try {
    steps = JSON.parse(line) as Record<string, Step>;
  } catch {
    const why = (r.stderr || r.stdout).split("\n").find((l) => /error/i.test(l)) ?? "";
    console.log(`KV ${config}: failed (exit ${r.status ?? r.signal}) ${why.trim()}`);
    continue;
  }
  base ??= steps;
  const [kv, flash] = config.split(":");
  const ratio = (a: number, b: number) => (b ? (a / b).toFixed(2) : "-");
  console.log(
    `KV ${kv!.padEnd(4)} flash attention ${flash!.padEnd(7)}: RSS node ${mib(steps["process"]!.rss)}, + weights ${mib(steps["weights"]!.rss)}, ` +
      `+ context ${mib(steps["context"]!.rss)}, after prompt ${mib(steps["prompt"]!.rss)}, after decode ${mib(steps["decode"]!.rss)} MiB ` +
      `= ${(steps["decode"]!.rss / size).toFixed(2)}x the file; prompt ${steps["prompt"]!.promptTps!.toFixed(1)} tok/s ` +
      `(${ratio(steps["prompt"]!.promptTps!, base["prompt"]!.promptTps!)}x), decode ${steps["decode"]!.decodeTps!.toFixed(1)} tok/s ` +
      `(${ratio(steps["decode"]!.decodeTps!, base["decode"]!.decodeTps!)}x)`,
  );
}
