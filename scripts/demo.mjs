#!/usr/bin/env node
// `npm run demo` — the main job, headless: chat with a real local GGUF model through the Hearth sidecar.
//
// Model choice, first match wins:
//   --model <path|hf:uri>                 a model you name
//   --models-dir <dir> / $HEARTH_MODELS_DIR   a folder of GGUFs (an instruct/chat model is preferred)
//   ../shared/models                      the project's sibling model folder, when it exists
//   the default small chat model          downloaded once into ~/.cache/hearth/models (needs internet)
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "dist", "cli.mjs");
const { values } = parseArgs({ options: { model: { type: "string" }, "models-dir": { type: "string" } } });

function pickFromDir(dir) {
  const ggufs = readdirSync(dir).filter((f) => f.toLowerCase().endsWith(".gguf")).sort();
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

function run(args, input) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: [input === undefined ? "ignore" : "pipe", "inherit", "inherit"] });
    if (input !== undefined) child.stdin.end(input);
    child.on("close", (code) => resolve(code ?? 1));
  });
}

const common = ["chat", ...(model ? ["--model", model] : []), "--temperature", "0", "--max-tokens", "96"];
const shown = model ? ` --model ${path.basename(model)}` : "";
console.log(`Hearth demo — chat model: ${model ?? "default"}  [${source}]\n`);
console.log(`$ hearth chat${shown} -p "Once upon a time"`);
let code = await run([...common, "-p", "Once upon a time"]);
if (code === 0) {
  console.log(`\n$ hearth chat${shown}   (a short REPL session)`);
  code = await run(common, "Tell me about a little dog.\n/stats\n/exit\n");
}
process.exit(code);
