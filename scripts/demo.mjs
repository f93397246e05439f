#!/usr/bin/env node
// `npm run demo` — the main job, headless: index and search a real codebase (an installed npm package), then
// chat with a real local GGUF model through the Hearth sidecar, then inline completions.
//
// Code search: lexical (no model) unless --embedding-model <gguf> (and --rerank-model <gguf>) are given.
//
// Model choice, first match wins:
//   --model <path|hf:uri>                 a model you name
//   --models-dir <dir> / $HEARTH_MODELS_DIR   a folder of GGUFs (an instruct/chat model is preferred)
//   ../shared/models                      the project's sibling model folder, when it exists
//   the default small chat model          downloaded once into ~/.cache/hearth/models (needs internet)
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "dist", "cli.mjs");
const { values } = parseArgs({
  options: {
    model: { type: "string" },
    "models-dir": { type: "string" },
    "completion-model": { type: "string" },
    "embedding-model": { type: "string" },
    "rerank-model": { type: "string" },
  },
});

function pickFromDir(dir) {
  const ggufs = readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith(".gguf"))
    .sort();
  const chat = ggufs.find((f) => /instruct|chat/i.test(f));
  return chat ?? ggufs.find((f) => f === "stories260K.gguf") ?? ggufs[0];
}

let model = values.model;
let source = "--model";
const dirs = [
  [values["models-dir"], "--models-dir"],
  [process.env.HEARTH_MODELS_DIR, "$HEARTH_MODELS_DIR"],
  [path.resolve(root, "..", "shared", "models"), "../shared/models"],
];
for (const [dir, name] of dirs) {
  if (model || !dir || !existsSync(dir)) continue;
  const file = pickFromDir(dir);
  if (file) {
    model = path.join(dir, file);
    source = name;
  }
}
if (!model) source = "the CLI's default model, downloaded once (needs internet)";

function run(args, input, capture = false) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      stdio: [input === undefined ? "ignore" : "pipe", capture ? "pipe" : "inherit", "inherit"],
    });
    let stdout = "";
    child.stdout?.on("data", (d) => (stdout += d));
    if (input !== undefined) child.stdin.end(input);
    child.on("close", (code) => resolve(capture ? { code: code ?? 1, stdout } : (code ?? 1)));
  });
}

/** Inline completion at a few line ends of a real source file from an installed npm package. */
async function completionDemo() {
  let completionModel = values["completion-model"] ?? process.env.HEARTH_COMPLETION_MODEL;
  let label = completionModel;
  if (!completionModel) {
    // No FIM model on this machine: a SYNTHETIC one (random weights) shows the plumbing, not useful suggestions.
    const { writeSyntheticFimModel } = await import(path.join(root, "dist", "test", "synthetic.mjs"));
    completionModel = path.join(mkdtempSync(path.join(os.tmpdir(), "hearth-demo-")), "synthetic-fim.gguf");
    writeSyntheticFimModel(completionModel);
    label = "SYNTHETIC FIM fixture (random weights: the text is noise; set --completion-model for a real one)";
  }
  const file = path.join(root, "node_modules", "semver", "classes", "semver.js");
  const lines = readFileSync(file, "utf8").split("\n");
  const picks = [0.25, 0.5, 0.75].map((f) => {
    let i = Math.floor(lines.length * f);
    while (i < lines.length - 1 && !lines[i].trim()) i++;
    return i + 1;
  });
  console.log(`\n$ hearth complete node_modules/semver/classes/semver.js --line L --column C --json   [${label}]`);
  for (const line of picks) {
    const column = lines[line - 1].length + 1;
    const r = await run(
      [
        "complete",
        file,
        "--line",
        String(line),
        "--column",
        String(column),
        "--model",
        completionModel,
        "--json",
        "--max-tokens",
        "16",
      ],
      undefined,
      true,
    );
    let out;
    try {
      out = JSON.parse(r.stdout);
    } catch {
      console.log(`  line ${line}: no JSON output (exit ${r.code})`);
      continue;
    }
    const shown = out.suggestion === null ? `(none: ${out.reason})` : JSON.stringify(out.suggestion).slice(0, 50);
    console.log(
      `  line ${String(line).padStart(3)} ${JSON.stringify(lines[line - 1].trim().slice(0, 40)).padEnd(44)} → ${shown}  [${out.timings.latencyMs} ms, ${out.promptTokens} prompt tokens]`,
    );
  }
}

/** Index a real package's source and run a few searches, printing hits with their scores. */
async function searchDemo() {
  const pkg = path.join(root, "node_modules", "lodash-es");
  const indexDir = mkdtempSync(path.join(os.tmpdir(), "hearth-demo-index-"));
  const models = [
    ...(values["embedding-model"] ? ["--embedding-model", values["embedding-model"]] : []),
    ...(values["rerank-model"] ? ["--rerank-model", values["rerank-model"]] : []),
  ];
  const how = values["embedding-model"]
    ? "hybrid"
    : "lexical: no embedding model given (--embedding-model <gguf> adds vectors)";
  console.log(`$ hearth index node_modules/lodash-es   [${how}]`);
  let code = await run(["index", pkg, "--index-dir", indexDir, ...models]);
  for (const q of ["split a string into words", "delay calling a function until input stops", "deep clone an object"]) {
    if (code !== 0) break;
    console.log(`\n$ hearth search node_modules/lodash-es "${q}" --top 3`);
    code = await run(["search", pkg, q, "--index-dir", indexDir, "--top", "3", ...models]);
  }
  console.log("");
  return code;
}

const common = ["chat", ...(model ? ["--model", model] : []), "--temperature", "0", "--max-tokens", "96"];
const shown = model ? ` --model ${path.basename(model)}` : "";
console.log(`Hearth demo — chat model: ${model ?? "default"}  [${source}]\n`);
let code = await searchDemo();
if (code === 0) {
  console.log(`$ hearth chat${shown} -p "Once upon a time"`);
  code = await run([...common, "-p", "Once upon a time"]);
}
if (code === 0) {
  console.log(`\n$ hearth chat${shown}   (a short REPL session)`);
  code = await run(common, "Tell me about a little dog.\n/stats\n/exit\n");
}
if (code === 0) await completionDemo();
process.exit(code);
