/**
 * `npm run bench:fim-loop` — the fixed cost of a FIM request inside node-llama-cpp, measured against llama.cpp's own
 * counters, without Hearth in the way (issue 34). One process, the lab FIM model, one thread, the same 40 cursor
 * positions of semver.js as `bench:engines`, 16 tokens each, greedy. For each way of driving node-llama-cpp it prints
 * the wall time per request (p50/p95) next to what llama.cpp itself counted for the same requests (its
 * `llama_perf_context` prompt-eval and eval times, read through `context.printTimings()`), so what is left is
 * node-llama-cpp's JavaScript, its thread hand-offs and its sampling, not the model's arithmetic:
 *   - `generateInfillCompletion`: LlamaCompletion, as Hearth's CompletionService calls it;
 *   - `sequence.evaluate`: the prompt and each token through LlamaContextSequence.evaluate (greedy sampler), no
 *     text handling — the least node-llama-cpp's public API can do per request.
 * As the control, llama-server built from the same llama.cpp commit answers the same requests on `/infill` in
 * turn, its `timings` being the same counters. This is also the minimal script for an upstream report: it uses
 * nothing of Hearth's but the helper that starts llama-server.
 *
 *   npm run bench:fim-loop [-- --model <fim.gguf>] [--runs 40]
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  getLlama,
  InputLookupTokenPredictor,
  LlamaCompletion,
  LlamaLogLevel,
  type LlamaContext,
  type LlamaContextSequence,
  type Token,
} from "node-llama-cpp";
import { startLlamaServer } from "../test/engines/llamaServer";
import { pct } from "./stats";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    model: { type: "string", default: path.join(root, "lab", "models", "hearth-lab-code-fim.gguf") },
    file: { type: "string", default: path.join(root, "node_modules", "semver", "classes", "semver.js") },
    runs: { type: "string", default: "40" },
  },
});
const runs = Math.max(4, Math.min(400, Number(values.runs)));
const source = readFileSync(values.file!, "utf8");
const ends: number[] = [];
for (let i = source.indexOf("\n"); i !== -1 && ends.length < 2000; i = source.indexOf("\n", i + 1)) ends.push(i);
const positions = Array.from({ length: runs }, (_, k) => ends[Math.floor(((k + 0.5) * ends.length) / runs)]!);

let perfLines: string[] = [];
const llama = await getLlama({
  build: "never",
  gpu: false,
  logLevel: LlamaLogLevel.info,
  logger: (_level, message) => {
    if (/eval time|load time|total time/.test(message)) perfLines.push(message.trim());
  },
});
const model = await llama.loadModel({ modelPath: values.model! });
console.log(`FIM inside node-llama-cpp (${path.basename(values.model!)}, ${runs} positions, 16 tokens, 1 thread)`);

/** llama.cpp's own counters since the last read: prompt-eval and eval ms and token counts. */
async function counters(
  context: LlamaContext,
): Promise<{ promptMs: number; promptN: number; evalMs: number; evalN: number }> {
  perfLines = [];
  await context.printTimings();
  const read = (re: RegExp) => {
    const m = perfLines.map((l) => re.exec(l)).find(Boolean);
    return m ? [Number(m[1]), Number(m[2])] : [0, 0];
  };
  const [promptMs, promptN] = read(/prompt eval time =\s*([\d.]+) ms \/\s*(\d+) tokens/);
  const [evalMs, evalN] = read(/\beval time =\s*([\d.]+) ms \/\s*(\d+) runs/);
  return { promptMs: promptMs!, promptN: promptN!, evalMs: evalMs!, evalN: evalN! };
}

/** One way of driving node-llama-cpp: its own context and sequence, kept for all requests as Hearth keeps them. */
interface Variant {
  name: string;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  /** Runs one request; resolves with when its first token came (performance.now()). */
  request: (sequence: LlamaContextSequence, prefix: Token[], suffix: Token[]) => Promise<number>;
  walls: number[];
  inside: number[];
  tokens: number[];
  /** Per later token: wall ms, and llama.cpp's eval ms. */
  perToken: number[];
  perEval: number[];
  /** Until the first token: wall ms, and llama.cpp's prompt-eval ms. */
  firstWall: number[];
  promptEval: number[];
}

async function variant(
  name: string,
  flashAttention: boolean | "auto",
  request: Variant["request"],
  lookup = false,
  contextSize = 1024,
): Promise<Variant> {
  const context = await model.createContext({
    contextSize,
    threads: 1,
    sequences: 1,
    flashAttention,
    performanceTracking: true,
  });
  return {
    name,
    context,
    // With `lookup`: node-llama-cpp's prompt-lookup drafting (drafts from the input, verified in the same batch).
    sequence: context.getSequence(lookup ? { tokenPredictor: new InputLookupTokenPredictor() } : undefined),
    request,
    walls: [],
    inside: [],
    tokens: [],
    perToken: [],
    perEval: [],
    firstWall: [],
    promptEval: [],
  };
}

const completions = new Map<LlamaContextSequence, LlamaCompletion>();
/** generateInfillCompletion; node-llama-cpp's default repeat penalty (1.1 over the last 64 tokens) unless `false`. */
const viaCompletion =
  (repeatPenalty?: false): Variant["request"] =>
  async (sequence, prefix, suffix) => {
    if (!completions.has(sequence)) completions.set(sequence, new LlamaCompletion({ contextSequence: sequence }));
    let first = 0;
    await completions.get(sequence)!.generateInfillCompletion(prefix, suffix, {
      maxTokens: 16,
      temperature: 0,
      ...(repeatPenalty === false ? { repeatPenalty } : {}),
      onToken: () => (first ||= performance.now()),
    });
    return first;
  };
const variants = [
  await variant("generateInfill (FA auto, penalty 1.1)", "auto", viaCompletion()),
  await variant("generateInfill, no repeat penalty", "auto", viaCompletion(false)),
  await variant("generateInfill, no penalty, lookup drafts", "auto", viaCompletion(false), true),
  await variant("generateInfill, no penalty, context 4096", "auto", viaCompletion(false), false, 4096),
  await variant("sequence.evaluate (FA auto)", "auto", async (sequence, prefix, suffix) => {
    const t = model.tokens.infill;
    const prompt = [t.prefix!, ...prefix, t.suffix!, ...suffix, t.middle!] as Token[];
    await sequence.clearHistory();
    let n = 0;
    let first = 0;
    for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
      first ||= performance.now();
      if (model.isEogToken(token) || ++n >= 16) break;
    }
    return first;
  }),
];
// The control: llama-server from the same llama.cpp commit, its /infill called with the same text; its `timings`
// are the same llama.cpp counters.
const server = await startLlamaServer(["-m", values.model!, "-c", "1024"]);
const direct = {
  walls: [] as number[],
  inside: [] as number[],
  tokens: [] as number[],
  perToken: [] as number[],
  perEval: [] as number[],
  firstWall: [] as number[],
  promptEval: [] as number[],
};
const viaServer = async (at: number) => {
  const t0 = performance.now();
  const res = await fetch(`${server.url}/infill`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      input_prefix: source.slice(Math.max(0, at - 600), at),
      input_suffix: source.slice(at, at + 200),
      n_predict: 16,
      temperature: 0,
      // Nothing reused from the request before, as for the variants (whose previous prompt shares little).
      cache_prompt: false,
    }),
  });
  const body = (await res.json()) as {
    timings: { prompt_ms: number; predicted_ms: number; prompt_n: number; predicted_n: number };
  };
  direct.walls.push(performance.now() - t0);
  direct.inside.push(body.timings.prompt_ms + body.timings.predicted_ms);
  direct.tokens.push(body.timings.prompt_n + body.timings.predicted_n);
  // llama-server's predicted_ms runs from its first token to its last (the wall of those tokens, in the server).
  if (body.timings.predicted_n > 1) direct.perEval.push(body.timings.predicted_ms / body.timings.predicted_n);
  direct.promptEval.push(body.timings.prompt_ms);
};
// The variants and the control take turns per position, the order rotating, so none gets a quieter machine.
for (const [k, at] of positions.entries()) {
  const prefix = model.tokenize(source.slice(Math.max(0, at - 600), at));
  const suffix = model.tokenize(source.slice(at, at + 200));
  for (let j = 0; j <= variants.length; j++) {
    const index = (k + j) % (variants.length + 1);
    if (index === variants.length) {
      await viaServer(at);
      continue;
    }
    const v = variants[index]!;
    await counters(v.context); // printTimings reports since the last call: this starts the request's window
    const t0 = performance.now();
    const first = await v.request(v.sequence, prefix, suffix);
    const end = performance.now();
    v.walls.push(end - t0);
    const c = await counters(v.context);
    v.inside.push(c.promptMs + c.evalMs);
    v.tokens.push(c.promptN + c.evalN);
    v.firstWall.push(first - t0);
    v.promptEval.push(c.promptMs);
    if (c.evalN > 1) {
      v.perToken.push((end - first) / (c.evalN - 1));
      v.perEval.push(c.evalMs / c.evalN);
    }
  }
}
await server.stop();
const f = (n: number) => n.toFixed(2).padStart(8);
for (const v of [...variants, { name: "llama-server /infill (HTTP)", ...direct, context: undefined }]) {
  console.log(
    `  ${v.name.padEnd(36)} wall p50 ${f(pct(v.walls, 50))}  p95 ${f(pct(v.walls, 95))}   llama.cpp's counters ${f(pct(v.inside, 50))} (${pct(v.tokens, 50)} tokens)   the rest ${f(pct(v.walls, 50) - pct(v.inside, 50))}`,
  );
  console.log(
    `  ${"".padEnd(36)} first token: wall ${v.firstWall.length ? f(pct(v.firstWall, 50)) : "       –"}, llama.cpp's prompt eval ${f(pct(v.promptEval, 50))};  a later token: wall ${v.perToken.length ? f(pct(v.perToken, 50)) : "       –"}, llama.cpp's eval ${f(pct(v.perEval, 50))} ms`,
  );
  await v.context?.dispose();
}
await model.dispose();
await llama.dispose();
