/**
 * `npm run bench:all` — every benchmark on the SYNTHETIC real-size models (bench/realSizeModels.ts), one after
 * another in one process tree, on the same thread count, each printing its own table with ratios:
 *   1. cold start: sidecar spawn → FIM model loaded → first suggestion, and the sidecar's RSS against the GGUF's
 *      size (goal ≤ 1.5×), here;
 *   2. chat: Hearth's sidecar against raw node-llama-cpp (`bench`);
 *   3. FIM: the editor path against raw node-llama-cpp on a typing trace (`bench:completion`);
 *   4. every role embedded, through Hearth on llama-server, and llama-server called directly (`bench:engines`);
 *   5. indexing and search on real packages with the bge-small-shaped embedding model (`bench:index`).
 * The models' text is noise (random weights); their cost per token is the real shapes' cost.
 *
 *   npm run bench:all [-- --layers 6] [--threads 1] [--type q8_0|q4_k_m] [--quantize <llama-quantize>]
 *                     [--coder deepseek-coder-1.3b|qwen2.5-coder-1.5b] [--only cold,chat,completion,engines,index]
 *
 * `--coder` picks the FIM/chat model's shape: DeepSeek-Coder-1.3B (6 of its 24 blocks; `--layers`), or
 * Qwen2.5-Coder-1.5B (all 28 blocks, grouped-query attention: the shape of llama.vscode's default FIM models).
 *
 * Absolute times are for the record only; compare the ratios. Nothing here asserts a speed.
 */
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { settingDefault } from "../shared/settings";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";
import { buildRealSizeModel, llamaVocabDir, type RealSizeModel, type RealSizeType } from "./realSizeModels";
import { processMemory } from "./stats";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    layers: { type: "string", default: "6" },
    threads: { type: "string", default: "1" },
    type: { type: "string", default: "q8_0" },
    quantize: { type: "string" },
    only: { type: "string" },
    coder: { type: "string", default: "deepseek-coder-1.3b" },
  },
});
const threads = values.threads!;
const vocabDir = llamaVocabDir(root, path.join(root, ".cache"));
const outDir = path.join(root, ".cache", "real-size");
const type = values.type as RealSizeType;
const common = { vocabDir, outDir, type, ...(values.quantize ? { quantizeWith: values.quantize } : {}) };
const coderShape = values.coder as RealSizeModel;
const coder = await buildRealSizeModel(coderShape, {
  ...common,
  ...(coderShape === "deepseek-coder-1.3b" ? { layers: Number(values.layers) } : {}),
});
const embedder = await buildRealSizeModel("bge-small", common);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
console.log(
  `SYNTHETIC real-size models (random weights: speed and memory only), ${threads} thread(s), ${os.cpus().length} cores:`,
);
for (const f of [coder, embedder]) console.log(`  ${path.basename(f)}  ${mib(statSync(f).size)} MiB`);
const want = (name: string) => !values.only || values.only.split(",").includes(name);

if (want("cold")) {
  console.log("\n== 1. cold start → first suggestion, and memory");
  const started = performance.now();
  const sidecar = new SidecarProcess({
    sidecarPath: path.join(root, "dist", "sidecar.mjs"),
    init: { modelsDir: os.tmpdir(), threads: Number(threads), gpu: "off" },
  });
  await sidecar.start();
  const spawned = performance.now();
  // The context sizes the extension asks for (hearth.completion.contextSize, hearth.contextSize).
  await sidecar.request("model/load", {
    role: "completion",
    model: { uri: coder },
    contextSize: settingDefault("completion.contextSize"),
  });
  const loaded = performance.now();
  const r = await sidecar.request("completion/infill", {
    prefix: "function add(a: number, b: number): number {\n  return ",
    suffix: "\n}\n",
    maxTokens: 16,
  });
  const first = performance.now();
  await sidecar.request("model/load", {
    role: "chat",
    model: { uri: coder },
    contextSize: settingDefault("contextSize"),
  });
  await sidecar.request("chat/send", {
    streamId: "rss",
    messages: [{ role: "user", content: "Write a function that adds two numbers." }],
    params: { maxTokens: 32, temperature: 0 },
  });
  const resident = processMemory(sidecar.pid, "VmRSS");
  await sidecar.stop();
  const size = statSync(coder).size;
  console.log(
    `  spawn ${(spawned - started).toFixed(0)} ms, model load ${(loaded - spawned).toFixed(0)} ms, first suggestion ${(first - loaded).toFixed(0)} ms (${r.usage.completionTokens} tokens): cold start → first suggestion ${(first - started).toFixed(0)} ms`,
  );
  console.log(
    `  sidecar RSS with the FIM (context ${settingDefault("completion.contextSize")}) and chat (context ${settingDefault("contextSize")}) roles on the model: ${mib(resident)} MiB for a ${mib(size)} MiB GGUF = ${(resident / size).toFixed(2)}x (goal ≤ 1.5x)`,
  );
}

/** Run one of the built benchmarks with its flags, its output shown as it comes. */
function run(title: string, script: string, args: string[]): void {
  console.log(`\n== ${title}: node dist/${script} ${args.map((a) => path.relative(root, a) || a).join(" ")}`);
  const r = spawnSync(process.execPath, [path.join(root, "dist", script), ...args], { stdio: "inherit", cwd: root });
  if (r.status !== 0) console.log(`  (${script} exited with ${r.status ?? r.signal})`);
}

if (want("chat"))
  run("2. chat", "bench-chat.mjs", ["--model", coder, "--runs", "5", "--max-tokens", "64", "--threads", threads]);
if (want("completion"))
  run("3. FIM", "bench-completion.mjs", ["--model", coder, "--positions", "20", "--threads", threads]);
if (want("engines"))
  run("4. engines side by side", "bench-engines.mjs", [
    "--chat-model",
    coder,
    "--fim-model",
    coder,
    "--embedding-model",
    embedder,
    "--runs",
    "10",
  ]);
if (want("index"))
  run("5. indexing and search", "bench-index.mjs", ["--embedding-model", embedder, "--threads", threads]);
