/**
 * `npm run bench:completion` — inline-completion latency through the extension's path (CompletionEngine →
 * sidecar over IPC) against a raw node-llama-cpp infill call in this process, on the same model, positions,
 * token windows, thread count and stops (both run Hearth's shared FIM stops and post-processing, so they decode
 * the same tokens: the table prints tokens per request for each); plus cache-hit latency, cancel latency, and prompt tokens evaluated per
 * keystroke with and without KV-prefix reuse while replaying typing on a real source file.
 *
 *   npm run bench:completion [-- --model <fim.gguf>] [--file <source>] [--positions N] [--threads N]
 *
 * Without --model it writes the SYNTHETIC FIM fixture (random weights): the figures then measure plumbing
 * overhead, not a real model's speed. Nothing here asserts a speed; it reports.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { getLlama, LlamaCompletion, LlamaLogLevel } from "node-llama-cpp";
import { CompletionEngine } from "../common/completion/CompletionEngine";
import { wantsMultiline } from "../common/completion/postprocess";
import { finishFim, FimStream } from "../sidecar/completion/fimStream";
import { snapWindow } from "../sidecar/engines/llama/CompletionService";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";
import { writeSyntheticFimModel } from "../test/fixtures/synthetic/syntheticModels";
import { pct } from "./stats";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const { values } = parseArgs({
  options: {
    model: { type: "string" },
    file: { type: "string", default: path.join(root, "node_modules", "semver", "classes", "semver.js") },
    positions: { type: "string", default: "20" },
    threads: { type: "string", default: "1" },
  },
});
const threads = Number(values.threads);
const PREFIX_TOKENS = 512;
const SUFFIX_TOKENS = 128;
const MAX_TOKENS = 16;
let modelPath = values.model;
if (!modelPath) {
  modelPath = path.join(mkdtempSync(path.join(os.tmpdir(), "hearth-bench-")), "synthetic-fim.gguf");
  writeSyntheticFimModel(modelPath);
}
const source = readFileSync(values.file!, "utf8");

// Cursor positions: ends of non-blank lines spread over the file (where people pause and wait for a suggestion).
const lineEnds: number[] = [];
for (let i = source.indexOf("\n"); i !== -1; i = source.indexOf("\n", i + 1)) {
  if (source.slice(source.lastIndexOf("\n", i - 1) + 1, i).trim()) lineEnds.push(i);
}
const count = Math.min(Number(values.positions), lineEnds.length);
const positions = Array.from({ length: count }, (_, k) => lineEnds[Math.floor(((k + 0.5) * lineEnds.length) / count)]);

const f = (n: number) => n.toFixed(2).padStart(8);

// 1. Raw node-llama-cpp infill, in process, and 2. the extension's path, taking turns (below).
// The extension's path: engine → sidecar (IPC) → node-llama-cpp.
const sidecar = new SidecarProcess({
  sidecarPath: path.join(here, "sidecar.mjs"),
  init: { modelsDir: os.tmpdir(), threads, gpu: "off" },
  restart: false,
});
await sidecar.start();
const loaded = await sidecar.request("model/load", {
  role: "completion",
  model: { uri: modelPath },
  contextSize: 2048,
});
// The context the sidecar really allocated (2048 asked, capped at the model's trained length), and the prefix
// window its CompletionService fits into it (a tenth kept free, the suffix, the answer and the FIM tokens):
// the raw path uses the same, so both evaluate the same prompt.
const contextSize = loaded.contextSize;
const prefixWindow = Math.max(
  16,
  Math.min(PREFIX_TOKENS, Math.floor(contextSize * 0.9) - SUFFIX_TOKENS - MAX_TOKENS - 4),
);

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({ contextSize, threads });
const rawSequence = context.getSequence();
const completion = new LlamaCompletion({ contextSequence: rawSequence });
const raw: number[] = [];
const rawTokens: number[] = [];
const rawEvaluated: number[] = [];
/** One raw request at `pos`: ms and tokens decoded. */
async function rawRequest(pos: number): Promise<{ ms: number; tokens: number; evaluated: number }> {
  // Timed from the text, like the editor path: tokenizing the windows is part of every request.
  const t = performance.now();
  const prefixText = source.slice(0, pos);
  const prefix = snapWindow(model.tokenize(prefixText), prefixWindow);
  const suffix = model.tokenize(source.slice(pos)).slice(0, SUFFIX_TOKENS);
  // The same work as the editor path: its stop rule (one line unless the cursor opens a block) and Hearth's
  // stops and post-processing, which every engine shares (FimStream: newline, repeated line; finishFim).
  const singleLine = !wantsMultiline(prefixText, source.slice(pos));
  const fim = new FimStream({ prefix: prefixText, singleLine }, new AbortController().signal);
  let tokens = 0;
  const inputBefore = rawSequence.tokenMeter.usedInputTokens;
  const text = await completion.generateInfillCompletion(prefix, suffix, {
    maxTokens: MAX_TOKENS,
    temperature: 0,
    signal: fim.signal,
    stopOnAbortSignal: true,
    onToken: (t) => (tokens += t.length),
    onTextChunk: (chunk) => fim.push(chunk),
  });
  fim.close();
  await finishFim({ prefix: prefixText, suffix: source.slice(pos), singleLine }, text, fim.reason("stop"));
  return { ms: performance.now() - t, tokens, evaluated: rawSequence.tokenMeter.usedInputTokens - inputBefore };
}

const engine = new CompletionEngine(sidecar, {
  debounceMs: 0,
  maxTokens: MAX_TOKENS,
  prefixTokens: PREFIX_TOKENS,
  suffixTokens: SUFFIX_TOKENS,
  timeBudgetMs: 60_000,
});
const viaEngine: number[] = [];
const engineTokens: number[] = [];
const engineEvaluated: number[] = [];
/** One editor-path request at `pos` (`fresh`: a new engine, so it is not a cache hit). */
async function engineRequest(pos: number, fresh: boolean): Promise<{ ms: number; tokens: number; evaluated: number }> {
  const t = performance.now();
  const outcome = await (fresh ? new CompletionEngine(sidecar, engine.options) : engine).complete(
    source.slice(0, pos),
    source.slice(pos),
  );
  const usage = outcome.result?.usage;
  return { ms: performance.now() - t, tokens: usage?.completionTokens ?? 0, evaluated: usage?.evaluatedTokens ?? 0 };
}
// The two paths take turns at each position (which goes first alternates), so drift in the machine's speed
// falls on both alike; the first position is a warm-up for each.
for (const [i, pos] of [positions[0]!, ...(positions as number[])].entries()) {
  const order = i % 2 ? ["engine", "raw"] : ["raw", "engine"];
  for (const which of order) {
    if (which === "raw") {
      const r = await rawRequest(pos);
      if (i > 0) {
        raw.push(r.ms);
        rawTokens.push(r.tokens);
        rawEvaluated.push(r.evaluated);
      }
    } else {
      const r = await engineRequest(pos, i === 0);
      if (i > 0) {
        viaEngine.push(r.ms);
        engineTokens.push(r.tokens);
        engineEvaluated.push(r.evaluated);
      }
    }
  }
}
await llama.dispose();

// 3. Cache hits: the same positions again.
const hits: number[] = [];
for (const pos of positions) {
  const t = performance.now();
  const outcome = await engine.complete(source.slice(0, pos), source.slice(pos));
  if (outcome.reason === "cacheHit") hits.push(performance.now() - t);
}

// 4. Cancel latency: keystroke (abort) → the request settles with decoding stopped. A fast model may finish
// before the keystroke: those requests are counted apart, not timed.
const cancels: number[] = [];
let finishedFirst = 0;
const longEngine = new CompletionEngine(sidecar, { debounceMs: 0, maxTokens: 4000, timeBudgetMs: 60_000 });
for (const pos of positions.slice(0, 10)) {
  const abort = new AbortController();
  let settled = false;
  const pending = longEngine.complete(`${source.slice(0, pos)}\n`, "", { signal: abort.signal }).finally(() => {
    settled = true;
  });
  await new Promise((r) => setTimeout(r, 3));
  if (settled) {
    finishedFirst++;
    continue;
  }
  const t = performance.now();
  abort.abort();
  const outcome = await pending;
  if (outcome.reason === "cancelled") cancels.push(performance.now() - t);
}

// 5. Typing trace: replay the keystrokes of a stretch of the file, one request per keystroke.
const start = positions[Math.floor(positions.length / 2)]! + 1;
const typed = source.slice(start, start + 80);
let prompt = 0;
let evaluated = 0;
for (let k = 1; k <= typed.length; k++) {
  const cursor = start + k;
  const result = await sidecar.request("completion/infill", {
    prefix: source.slice(0, cursor),
    suffix: source.slice(start + typed.length),
    prefixTokens: PREFIX_TOKENS,
    suffixTokens: SUFFIX_TOKENS,
    maxTokens: 4,
  });
  prompt += result.usage.promptTokens;
  evaluated += result.usage.evaluatedTokens;
}
await sidecar.stop();

console.log(
  `model ${path.basename(modelPath)}${values.model ? "" : " (SYNTHETIC: plumbing figures, not model speed)"}, ${threads} thread(s)`,
);
console.log(
  `source ${path.relative(root, values.file!)}, ${count} positions, windows ${prefixWindow}/${SUFFIX_TOKENS} tokens in a ${contextSize}-token context, ${MAX_TOKENS} max tokens\n`,
);
const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)).toFixed(1);
console.log("request → suggestion           p50 ms   p95 ms   decoded/request   prompt evaluated/request");
console.log(
  `node-llama-cpp infill (raw)  ${f(pct(raw, 50))} ${f(pct(raw, 95))}   ${mean(rawTokens).padStart(15)}   ${mean(rawEvaluated).padStart(24)}`,
);
console.log(
  `engine → sidecar (editor)    ${f(pct(viaEngine, 50))} ${f(pct(viaEngine, 95))}   ${mean(engineTokens).padStart(15)}   ${mean(engineEvaluated).padStart(24)}`,
);
console.log(
  `overhead                     ${f((pct(viaEngine, 50) / pct(raw, 50) - 1) * 100)} % ${f((pct(viaEngine, 95) / pct(raw, 95) - 1) * 100)} %`,
);
console.log(`cache hit                    ${f(pct(hits, 50))} ${f(pct(hits, 95))}   (${hits.length} hits)`);
console.log(
  `cancel → decoding stopped    ${f(pct(cancels, 50))} ${f(pct(cancels, 95))}   (${cancels.length} cancels, ${finishedFirst} finished before the keystroke)`,
);
console.log(
  `\ntyping trace (${typed.length} keystrokes): prompt tokens per request ${(prompt / typed.length).toFixed(0)} without KV-prefix reuse, ` +
    `${(evaluated / typed.length).toFixed(1)} evaluated with it (${((1 - evaluated / prompt) * 100).toFixed(1)} % saved)`,
);
