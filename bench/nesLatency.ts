/**
 * `npm run bench:nes` — next-edit latency on the embedded engine, in process (the sidecar's own code:
 * `predictNextEdit` on a `NesService`, without the JSON-RPC hop), on a scripted edit trace: `comp` renamed
 * `comparator` in semver's `parseComparator` (node_modules/semver/classes/range.js), one line at a time, a request
 * after each edit at the next line that uses the old name, with the edits so far as history, in Sweep's format.
 *
 *   npm run bench:nes [-- --layers 28] [--threads 1] [--steps 8] [--model <gguf>]
 *
 * The model is the SYNTHETIC Qwen2.5-Coder-1.5B-shaped fixture (real shape and tokenizer, random weights; built once
 * into .cache/real-size), unless --model names another. Three passes over the same trace, each on a fresh context
 * (so the KV reuse between consecutive requests is what typing would see):
 *   plain   — no drafting;
 *   lookup  — prompt-lookup drafting (node-llama-cpp's InputLookupTokenPredictor over the prompt);
 *   bound   — drafting from the model's own greedy answer of the plain pass: every draft is right, so this bounds
 *             what drafting can gain here. The fixture's random weights do not copy the window, so `lookup` finds
 *             little to accept on it; a real next-edit model copies most of the window and lands between the two.
 * An untimed request first maps the weights in (the first pass would pay for it otherwise).
 * Every request generates the same tokens in every pass (greedy; drafts never change the answer), so the passes
 * do the same work. Printed: p50 / p95 latency (request → suggestion), prompt tokens and those evaluated (KV reuse),
 * tokens generated, drafts accepted / refused, and each pass's speed-up over plain. Nothing is asserted.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { getLlama, LlamaLogLevel, type Token } from "node-llama-cpp";
import { NesService } from "../sidecar/engines/llama/NesService";
import { predictNextEdit } from "../sidecar/nes/predict";
import type { NesEditEvent, NesPredictResult } from "../shared/protocol";
import { buildRealSizeModel, llamaVocabDir } from "./realSizeModels";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    model: { type: "string" },
    layers: { type: "string" },
    threads: { type: "string", default: "1" },
    steps: { type: "string", default: "8" },
    "context-size": { type: "string", default: "4096" },
  },
});

/** The trace: each step renames `comp` on one line of parseComparator and asks at the next such line. */
function trace(steps: number): Array<{ text: string; line: number; column: number; history: NesEditEvent[] }> {
  const file = "node_modules/semver/classes/range.js";
  let lines = readFileSync(path.join(root, file), "utf8").split("\n");
  const start = lines.findIndex((l) => l.startsWith("const parseComparator = (comp, options) => {"));
  const uses = lines.map((l, i) => i).filter((i) => i >= start && i < start + 40 && /\bcomp\b/.test(lines[i]!));
  const out: Array<{ text: string; line: number; column: number; history: NesEditEvent[] }> = [];
  const history: NesEditEvent[] = [];
  for (let k = 0; k < Math.min(steps, uses.length - 1); k++) {
    const at = uses[k]!;
    const before = lines[at]!;
    const after = before.replace(/\bcomp\b/g, "comparator");
    lines = [...lines.slice(0, at), after, ...lines.slice(at + 1)];
    history.push({ path: "classes/range.js", original: before, updated: after, line: at });
    const next = uses[k + 1]!;
    out.push({ text: lines.join("\n"), line: next, column: lines[next]!.indexOf("comp"), history: [...history] });
  }
  return out;
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function main(): Promise<void> {
  const file =
    values.model ??
    (await buildRealSizeModel("qwen2.5-coder-1.5b", {
      vocabDir: llamaVocabDir(root, path.join(root, ".cache")),
      outDir: path.join(root, ".cache", "real-size"),
      ...(values.layers ? { layers: Number(values.layers) } : {}),
    }));
  const threads = Number(values.threads);
  const llama = await getLlama({ build: "never", gpu: false, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: file });
  const steps = trace(Number(values.steps));
  console.log(
    `bench:nes — ${path.basename(file)}, ${threads} thread(s), ${steps.length} requests (Sweep format, 21-line window), ${process.arch} ${llama.cpuMathCores ?? ""}`,
  );
  // One untimed request first: the weights are mapped from disk lazily, and the first pass must not pay for that.
  {
    const context = await model.createContext({ contextSize: Number(values["context-size"]), threads, sequences: 1 });
    const s = steps[0]!;
    await predictNextEdit(
      new NesService(model, context),
      ["warm-up"],
      { path: "classes/range.js", text: s.text, line: s.line, column: s.column, format: "sweep", maxTokens: 8 },
      () => undefined,
      AbortSignal.timeout(600_000),
    );
    await context.dispose();
  }
  const plainAnswers: Token[][] = [];
  const rows: Array<{ name: string; p50: number; p95: number }> = [];
  for (const pass of ["plain", "lookup", "bound"] as const) {
    const context = await model.createContext({ contextSize: Number(values["context-size"]), threads, sequences: 1 });
    const service = new NesService(model, context);
    const results: NesPredictResult[] = [];
    const latencies: number[] = [];
    for (const [i, s] of steps.entries()) {
      if (pass === "bound") {
        service.drafts.mode = "script";
        service.drafts.script = plainAnswers[i] ?? [];
      }
      const started = performance.now();
      const r = await predictNextEdit(
        service,
        ["sweep-next-edit (bench)"],
        {
          path: "classes/range.js",
          text: s.text,
          line: s.line,
          column: s.column,
          history: s.history,
          format: "sweep",
          speculate: pass !== "plain",
          timeBudgetMs: 600_000,
        },
        () => undefined,
        AbortSignal.timeout(600_000),
      );
      latencies.push(performance.now() - started);
      results.push(r);
      if (pass === "plain") plainAnswers[i] = service.lastAnswer;
    }
    await context.dispose();
    const sum = (f: (r: NesPredictResult) => number) => results.reduce((n, r) => n + f(r), 0);
    const accepted = sum((r) => r.speculation?.accepted ?? 0);
    const refused = sum((r) => r.speculation?.refused ?? 0);
    const row = { name: pass, p50: percentile(latencies, 50), p95: percentile(latencies, 95) };
    rows.push(row);
    const base = rows[0]!;
    console.log(
      `  ${pass.padEnd(6)} p50 ${row.p50.toFixed(0).padStart(6)} ms  p95 ${row.p95.toFixed(0).padStart(6)} ms  ` +
        `prompt ${(sum((r) => r.usage.promptTokens) / results.length).toFixed(0)} tok, evaluated ${(sum((r) => r.usage.evaluatedTokens ?? 0) / results.length).toFixed(0)} tok/request  ` +
        `generated ${(sum((r) => r.usage.completionTokens) / results.length).toFixed(0)} tok/request  ` +
        `drafts ${accepted} accepted / ${refused} refused  ` +
        `speed-up p50 ${(base.p50 / row.p50).toFixed(2)}x`,
    );
  }
  await model.dispose();
  await llama.dispose();
}

await main();
