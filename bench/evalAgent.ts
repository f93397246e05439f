/**
 * `npm run eval:agent` — the agent on a few tasks in a fixture repository, each checked by a script:
 *   - find: where `parseConfig` is defined, explained (the answer names its file);
 *   - fix: a failing unit test (`node test/math.test.js` passes after the accepted edit);
 *   - rename: a function across files (no `shout` left, `yell` defined and used, `node src/app.js` runs).
 * Prints, per task, success, steps, tool calls, tokens and time; then the success rate. Edits are accepted
 * (as `hearth agent --yes`); `run_command` runs only commands starting with `node` (the allowlist).
 *
 *   npm run eval:agent [-- --model <chat.gguf> | --engine-url <url>] [--max-steps 12] [--threads 1] [--runs 1]
 *
 * Default: stories260K, which cannot do any of it (expect 0 %): the run shows the plumbing works. On a real
 * instruction model (e.g. `--model qwen2.5-coder-7b-instruct-q4_k_m.gguf`, or `--engine-url` of a llama-server,
 * Ollama or vLLM serving one) the figures mean something.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runAgent } from "../common/agent/AgentLoop";
import { EDIT_TOOLS, READ_TOOLS } from "../common/agent/agentTools";
import { RUN_COMMAND_TOOL } from "../common/agent/runCommand";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";
import type { ModelSpec } from "../shared/protocol";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const { values } = parseArgs({
  options: {
    model: { type: "string", default: path.join(root, "..", "shared", "models", "stories260K.gguf") },
    "engine-url": { type: "string" },
    "max-steps": { type: "string", default: "12" },
    threads: { type: "string", default: "1" },
    runs: { type: "string", default: "1" },
    "max-tokens": { type: "string", default: "512" },
  },
});

/** The fixture repository: small CommonJS files that run with plain `node`, no dependencies. */
const FIXTURE: Record<string, string> = {
  "package.json": '{ "name": "agent-eval-fixture", "private": true }\n',
  "src/config.js": [
    "// Reads the app's settings from a JSON text, filling in defaults.",
    "function parseConfig(text) {",
    "  const raw = JSON.parse(text);",
    "  return { port: raw.port ?? 8080, host: raw.host ?? '127.0.0.1', debug: raw.debug === true };",
    "}",
    "module.exports = { parseConfig };",
    "",
  ].join("\n"),
  "src/math.js": [
    "// Sum of a list of numbers.",
    "function sum(values) {",
    "  let total = 0;",
    "  for (const v of values) total -= v;",
    "  return total;",
    "}",
    "module.exports = { sum };",
    "",
  ].join("\n"),
  "test/math.test.js": [
    "const assert = require('node:assert/strict');",
    "const { sum } = require('../src/math');",
    "assert.equal(sum([1, 2, 3]), 6);",
    "assert.equal(sum([]), 0);",
    "console.log('math: ok');",
    "",
  ].join("\n"),
  "src/strings.js": [
    "function shout(text) {",
    "  return text.toUpperCase() + '!';",
    "}",
    "module.exports = { shout };",
    "",
  ].join("\n"),
  "src/app.js": ["const { shout } = require('./strings');", "console.log(shout('hello'));", ""].join("\n"),
  "src/banner.js": ["const { shout } = require('./strings');", "module.exports = () => shout('welcome');", ""].join(
    "\n",
  ),
};

/** Runs `node <args>` in `dir`: true when it exits 0 (10 s at most). */
function nodeRuns(dir: string, ...args: string[]): boolean {
  try {
    execFileSync(process.execPath, args, { cwd: dir, stdio: "ignore", timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

interface EvalTask {
  name: string;
  prompt: string;
  /** Did the agent do it? Reads the answer and the folder after the run. */
  check(answer: string | undefined, dir: string): boolean;
}

const TASKS: EvalTask[] = [
  {
    name: "find",
    prompt: "Where is parseConfig defined? Name the file and explain in one sentence what it does.",
    check: (answer) => !!answer && /src\/config\.js/.test(answer),
  },
  {
    name: "fix",
    prompt: "The unit test `node test/math.test.js` fails. Find the bug in the code it tests and fix it.",
    check: (_answer, dir) => nodeRuns(dir, "test/math.test.js"),
  },
  {
    name: "rename",
    prompt: "Rename the function shout to yell in every file that defines or uses it.",
    check: (_answer, dir) => {
      const text = ["src/strings.js", "src/app.js", "src/banner.js"].map((f) =>
        readFileSync(path.join(dir, f), "utf8"),
      );
      return text.every((t) => !/\bshout\b/.test(t)) && /function yell\(/.test(text[0]!) && nodeRuns(dir, "src/app.js");
    },
  },
];

const sidecar = new SidecarProcess({
  sidecarPath: path.join(root, "dist", "sidecar.mjs"),
  init: { modelsDir: path.join(root, ".cache", "models"), threads: Number(values.threads), gpu: "auto" },
});
await sidecar.start();
const work = mkdtempSync(path.join(os.tmpdir(), "hearth-eval-agent-"));
try {
  const model: ModelSpec = values["engine-url"]
    ? { uri: "", engine: { url: values["engine-url"] } }
    : { uri: path.resolve(values.model!) };
  const info = await sidecar.request("model/load", { role: "chat", model });
  console.log(`eval:agent — chat model ${info.name}${values["engine-url"] ? ` on ${values["engine-url"]}` : ""}`);
  console.log(
    "task      run  success  steps  calls  prompt tok  completion tok  seconds  stopped   (prompt tok: evaluated, after KV-cache reuse)",
  );
  let passed = 0;
  let total = 0;
  for (const task of TASKS) {
    for (let run = 1; run <= Number(values.runs); run++) {
      const dir = path.join(work, `${task.name}-${run}`);
      for (const [file, text] of Object.entries(FIXTURE)) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), text);
      }
      const t0 = performance.now();
      const result = await runAgent({
        api: sidecar,
        target: { root: dir, storageDir: path.join(work, `index-${task.name}-${run}`) },
        task: task.prompt,
        tools: [...READ_TOOLS, ...EDIT_TOOLS, RUN_COMMAND_TOOL],
        maxSteps: Number(values["max-steps"]),
        contextTokens: info.contextSize,
        params: { temperature: 0, maxTokens: Number(values["max-tokens"]) },
        review: async () => "accepted",
        commands: { trusted: true, allowlist: ["node"], confirm: async () => false, timeoutMs: 20_000 },
      }).catch((error: Error) => ({ error }));
      const seconds = (performance.now() - t0) / 1000;
      total++;
      if ("error" in result) {
        console.log(`${task.name.padEnd(9)} ${String(run).padStart(3)}  failed: ${result.error.message}`);
        continue;
      }
      const ok = task.check(result.answer, dir);
      if (ok) passed++;
      console.log(
        [
          task.name.padEnd(9),
          String(run).padStart(3),
          (ok ? "yes" : "no").padStart(8),
          String(result.steps).padStart(6),
          String(result.calls).padStart(6),
          String(result.tokens.prompt).padStart(11),
          String(result.tokens.completion).padStart(15),
          seconds.toFixed(1).padStart(8),
          ` ${result.stopped ?? "answered"}`,
        ].join(" "),
      );
    }
  }
  console.log(`success rate: ${passed}/${total} (${Math.round((100 * passed) / total)} %)`);
} finally {
  await sidecar.stop();
  rmSync(work, { recursive: true, force: true });
}
