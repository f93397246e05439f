/**
 * `npm run bench:memory` — where a chat model's memory goes, and what a quantized KV cache would save: for each
 * KV cache type (f16, llama.cpp's default and Hearth's; q8_0; q4_0), a fresh process loads the model with raw
 * node-llama-cpp, creates one context of `--context` tokens, evaluates a prompt of `--prompt` tokens and decodes
 * 32, and prints its RSS after each step against the GGUF's size, with prompt and decode tokens/s. Quantized V
 * needs flash attention, so those runs turn it on (and f16 runs with it off and on, to separate the two effects);
 * the first run is what Hearth asks for (node-llama-cpp's defaults), the baseline of the ratios. Then the same
 * model, context and prompt side by side: Hearth's sidecar with the model in the chat role (`chat/send`), and
 * llama-server (`/completion`, `-np 1`), each RSS after the answer, so what Hearth adds to the engine shows apart
 * from what the model and its KV cache take in any engine.
 *
 *   npm run bench:memory [-- --model <gguf> | --shape qwen2.5-coder-1.5b] [--context 4096] [--prompt 512]
 *                        [--threads 1] [--mmap on|off] [--raw <kv type>:<flash attention>,… | none]
 *
 * node-llama-cpp marks its KV-type options experimental, so Hearth does not set them; this measures what they
 * would give (issue 21: sidecar RSS ≤ 1.5× the model file). Default model: the SYNTHETIC real-size
 * deepseek-coder (`npm run models:real-size`); `--shape` builds (once) and uses another SYNTHETIC real-size shape
 * (bench/realSizeModels.ts). Nothing here asserts a figure.
 */
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import os from "node:os";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";
import { startLlamaServer } from "../test/engines/llamaServer";
import { buildRealSizeModel, llamaVocabDir, type RealSizeModel } from "./realSizeModels";
import { processMemory } from "./stats";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    model: { type: "string" },
    shape: { type: "string" },
    raw: { type: "string" },
    context: { type: "string", default: "4096" },
    prompt: { type: "string", default: "512" },
    threads: { type: "string", default: "1" },
    mmap: { type: "string", default: "on" },
    child: { type: "string" },
  },
});
const modelPath =
  values.model ??
  (values.shape
    ? await buildRealSizeModel(values.shape as RealSizeModel, {
        vocabDir: llamaVocabDir(root, path.join(root, ".cache")),
        outDir: path.join(root, ".cache", "real-size"),
      })
    : path.join(root, ".cache", "real-size", "SYNTHETIC-deepseek-coder-1.3b-L6-q8_0.gguf"));
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

/** The prompt's text, repeated to length (real text: ids outside a small vocabulary trip a llama.cpp assert). */
const CODE = "export function add(a: number, b: number): number {\n  return a + b;\n}\n";

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
  const prompt = model.tokenize(CODE.repeat(Number(values.prompt))).slice(0, Number(values.prompt));
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
const configs =
  values.raw === "none" ? [] : (values.raw?.split(",") ?? ["f16:default", "f16:off", "f16:on", "q8_0:on", "q4_0:on"]);
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

// The same model, context and prompt in Hearth's sidecar and in llama-server: RSS after a 32-token answer.
const context = Number(values.context);
const promptText = (tokens: number) => CODE.repeat(Math.ceil(tokens / 20));
const side: Array<[string, number, number]> = [];
{
  const sidecar = new SidecarProcess({
    sidecarPath: path.join(root, "dist", "sidecar.mjs"),
    init: { modelsDir: os.tmpdir(), threads: Number(values.threads), gpu: "off" },
  });
  await sidecar.start();
  try {
    await sidecar.request("model/load", { role: "chat", model: { uri: modelPath }, contextSize: context });
    // The same text to both engines, about --prompt tokens; each prints the count its tokenizer and template gave.
    const r = await sidecar.request("chat/send", {
      streamId: "memory",
      messages: [{ role: "user", content: promptText(Number(values.prompt)) }],
      params: { maxTokens: 32, temperature: 0 },
    });
    side.push(["Hearth sidecar, chat role (chat/send)", processMemory(sidecar.pid, "VmRSS"), r.usage.promptTokens]);
  } finally {
    await sidecar.stop();
  }
}
{
  const server = await startLlamaServer(["-m", modelPath, "-c", String(context), "-np", "1", "-t", values.threads!]);
  try {
    const response = await fetch(`${server.url}/completion`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: promptText(Number(values.prompt)), n_predict: 32, temperature: 0 }),
    });
    const body = (await response.json()) as { tokens_evaluated?: number };
    side.push([
      "llama-server (/completion, -np 1)",
      processMemory(server.process.pid, "VmRSS"),
      body.tokens_evaluated ?? 0,
    ]);
  } finally {
    await server.stop();
  }
}
console.log(`\nSide by side, context ${context}, RSS after a 32-token answer:`);
for (const [name, rss, prompt] of side) {
  console.log(
    `  ${name.padEnd(40)} ${mib(rss).padStart(5)} MiB = ${(rss / size).toFixed(2)}x the file (prompt ${prompt} tokens)`,
  );
}
const [hearth, engine] = [side[0]![1], side[1]![1]];
console.log(
  `  Hearth − llama-server: ${mib(hearth - engine)} MiB (${(hearth / engine).toFixed(2)}x); goal ≤ 1.5x the file`,
);
