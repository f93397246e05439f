/**
 * `npm run bench` — chat latency and throughput through the sidecar against node-llama-cpp called directly in
 * this process, on the same model, prompt, sampling and thread count. Prints TTFT and tokens/s for both and
 * their ratio, then tokens/s of the direct path at 1 and 2 threads (the evidence for the thread default).
 *
 *   npm run bench [-- --model <path.gguf>] [--runs N] [--max-tokens N] [--threads N]
 *
 * Figures are medians over N runs after one warm-up. Nothing here asserts a speed; it reports.
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { getLlama, LlamaChatSession, LlamaLogLevel } from "node-llama-cpp";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    model: { type: "string", default: path.resolve(here, "..", "..", "shared", "models", "stories260K.gguf") },
    runs: { type: "string", default: "7" },
    "max-tokens": { type: "string", default: "128" },
    threads: { type: "string", default: "1" },
  },
});
const modelPath = path.resolve(values.model!);
const runs = Number(values.runs);
const maxTokens = Number(values["max-tokens"]);
const threads = Number(values.threads);
const prompt = "Once upon a time, there was a little girl named Lily. She";
const contextSize = 2048;

interface Sample {
  ttftMs: number;
  tokensPerSecond: number;
  tokens: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function summarize(samples: Sample[]) {
  return {
    ttftMs: median(samples.map((s) => s.ttftMs)),
    tokensPerSecond: median(samples.map((s) => s.tokensPerSecond)),
    tokens: median(samples.map((s) => s.tokens)),
  };
}

/** node-llama-cpp directly, in this process. Tokens are counted by the model's tokenizer. */
async function direct(threadCount: number): Promise<Sample[]> {
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize, threads: threadCount });
  const session = new LlamaChatSession({ contextSequence: context.getSequence() });
  const samples: Sample[] = [];
  for (let i = 0; i <= runs; i++) {
    session.setChatHistory([]);
    const start = performance.now();
    let first: number | undefined;
    const meter = session.sequence.tokenMeter;
    const before = meter.usedOutputTokens;
    await session.prompt(prompt, { maxTokens, temperature: 0, onTextChunk: () => (first ??= performance.now()) });
    const end = performance.now();
    const tokens = meter.usedOutputTokens - before;
    if (i > 0)
      samples.push({ ttftMs: first! - start, tokensPerSecond: (tokens - 1) / ((end - first!) / 1000), tokens });
  }
  await llama.dispose();
  return samples;
}

/** The same request through the real sidecar process, timed on the client side (deltas over IPC). */
async function viaSidecar(): Promise<{ samples: Sample[]; rssBytes: number }> {
  const sidecar = new SidecarProcess({
    sidecarPath: path.resolve(here, "sidecar.mjs"),
    init: { modelsDir: path.join(os.tmpdir(), "hearth-bench-models"), threads, gpu: "off" },
    restart: false,
  });
  await sidecar.start();
  await sidecar.request("model/load", { role: "chat", model: { uri: modelPath }, contextSize });
  const samples: Sample[] = [];
  let first: number | undefined;
  sidecar.onNotification("chat/delta", () => (first ??= performance.now()));
  for (let i = 0; i <= runs; i++) {
    first = undefined;
    const start = performance.now();
    const result = await sidecar.request("chat/send", {
      streamId: `b${i}`,
      messages: [{ role: "user", content: prompt }],
      params: { maxTokens, temperature: 0 },
    });
    const end = performance.now();
    const tokens = result.usage.completionTokens;
    if (i > 0)
      samples.push({ ttftMs: first! - start, tokensPerSecond: (tokens - 1) / ((end - first!) / 1000), tokens });
  }
  const stats = await sidecar.request("runtime/stats", {});
  await sidecar.stop();
  return { samples, rssBytes: stats.ram.sidecarRssBytes };
}

const fmt = (n: number, d = 1) => n.toFixed(d).padStart(9);
console.log(`model ${path.basename(modelPath)}, prompt "${prompt.slice(0, 30)}…", ${maxTokens} max tokens, greedy`);
console.log(
  `${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ${threads} thread(s), ${runs} runs + 1 warm-up, medians\n`,
);

const base = summarize(await direct(threads));
const side = await viaSidecar();
const sc = summarize(side.samples);
console.log("path                        TTFT ms   tokens/s   tokens");
console.log(`node-llama-cpp direct   ${fmt(base.ttftMs, 2)}  ${fmt(base.tokensPerSecond)}  ${fmt(base.tokens, 0)}`);
console.log(`through the sidecar     ${fmt(sc.ttftMs, 2)}  ${fmt(sc.tokensPerSecond)}  ${fmt(sc.tokens, 0)}`);
console.log(
  `ratio sidecar/direct    ${fmt(sc.ttftMs / base.ttftMs, 2)}x ${fmt(sc.tokensPerSecond / base.tokensPerSecond, 2)}x` +
    "   (TTFT: lower is better; tokens/s: higher is better)",
);
console.log(`sidecar RSS ${(side.rssBytes / 1024 / 1024).toFixed(0)} MiB`);

console.log("\nthread count, node-llama-cpp direct:");
const t1 = summarize(await direct(1));
const t2 = summarize(await direct(2));
console.log(`1 thread  ${fmt(t1.tokensPerSecond)} tokens/s, TTFT ${fmt(t1.ttftMs, 2)} ms`);
console.log(`2 threads ${fmt(t2.tokensPerSecond)} tokens/s, TTFT ${fmt(t2.ttftMs, 2)} ms`);
console.log(`ratio 1/2 threads: ${(t1.tokensPerSecond / t2.tokensPerSecond).toFixed(2)}x tokens/s`);
