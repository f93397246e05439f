#!/usr/bin/env node
// `npm run test:llama-suites` — llama.cpp's own server tests (tools/server/tests in the llama.cpp source that
// node-llama-cpp ships) against `hearth serve`, and against the real llama-server as the control, both through
// adapter.mjs with the project's local models. Prints each target's counts, the tests llama-server passes and
// Hearth does not, and writes test-results/llama-suites.json. Exits 1 when Hearth passes fewer than the floor
// (HEARTH_SUITES_MIN_PASS, default the figure in this file) or a run cannot start — a regression guard, not a
// claim of conformance. Needs Debian's python3-pytest, -requests, -aiohttp, -filelock, -wget (the Python `openai`
// package is not installable here: files that import it are counted as not run).
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
/**
 * Hearth passed 66 of 204 when the guard was set and 81 after the second round of issue 32; below 72 the run fails
 * (room for the few timing-sensitive tests).
 */
const MIN_PASS = Number(process.env.HEARTH_SUITES_MIN_PASS ?? 72);
const SUITES = [
  "basic",
  "completion",
  "chat_completion",
  "infill",
  "tokenize",
  "embedding",
  "rerank",
  "metrics",
  "security",
  "stream",
  "tool_call",
  "ctx_shift",
  "ignore_eos",
].map((s) => `unit/test_${s}.py`);
const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const missing = spawnSync(python, ["-c", "import pytest, requests, aiohttp, filelock, wget"], { encoding: "utf8" });
if (missing.status !== 0) {
  console.error(
    `llama suites: ${python} lacks a module (${missing.stderr.trim().split("\n").pop()}); apt-get install python3-pytest python3-requests python3-aiohttp python3-filelock python3-wget`,
  );
  process.exit(1);
}

// The suite, from the same llama.cpp release as node-llama-cpp binds, copied once into .cache.
const bundle = path.join(root, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
const commit = execFileSync("git", ["bundle", "list-heads", bundle], { encoding: "utf8" }).slice(0, 12);
const cache = path.join(root, ".cache", `llama-suites-${commit}`);
const tests = path.join(cache, "tests");
if (!existsSync(path.join(tests, "utils.py"))) {
  const clone = path.join(cache, "llama.cpp");
  if (!existsSync(clone)) execFileSync("git", ["clone", "-q", "--no-checkout", bundle, clone]);
  execFileSync("git", ["-C", clone, "checkout", "-q", "HEAD", "--", "tools/server/tests"], { stdio: "ignore" });
  cpSync(path.join(clone, "tools", "server", "tests"), tests, { recursive: true });
}
// The adapter's plugin: models are local, so the suite's download step (ServerPreset.load_all) does nothing.
// And once the report is written, the interpreter exits at once: a thread the suite leaves behind (a server's log
// reader) otherwise keeps pytest alive after the last test, until the run's timeout.
writeFileSync(
  path.join(tests, "hearth_plugin.py"),
  [
    "import os, sys",
    "import pytest",
    "import utils",
    "utils.ServerPreset.load_all = staticmethod(lambda: None)",
    "",
    "@pytest.hookimpl(trylast=True)",
    "def pytest_unconfigure(config):",
    "    sys.stdout.flush()",
    "    sys.stderr.flush()",
    "    os._exit(0)",
    "",
  ].join("\n"),
);
// The Python `openai` package is not installable here: a stand-in whose client skips the test that makes one, so
// the other tests of those files still run (and the skipped ones are counted).
writeFileSync(
  path.join(tests, "openai.py"),
  'import pytest\n\n\nclass OpenAI:\n    def __init__(self, *args, **kwargs):\n        pytest.skip("the Python openai package is not installable here")\n',
);
const llamaServer = execFileSync("bash", [path.join(root, "scripts", "build-llama-server.sh")], {
  encoding: "utf8",
}).trim();

/** One pytest run against `target`: per-test outcome by id. */
function run(target) {
  const xml = path.join(cache, `${target}.xml`);
  // A report from an earlier run must not pass for this one's.
  rmSync(xml, { force: true });
  const started = Date.now();
  const r = spawnSync(
    python,
    // The tests marked slow need real models of several GB (the tool-call matrix); they do not run here.
    [
      "-m",
      "pytest",
      "-p",
      "hearth_plugin",
      "-p",
      "no:cacheprovider",
      "-m",
      "not slow",
      "-q",
      `--junitxml=${xml}`,
      ...SUITES,
    ],
    {
      cwd: tests,
      encoding: "utf8",
      timeout: 15 * 60_000,
      env: {
        ...process.env,
        LLAMA_SERVER_BIN_PATH: path.join(here, "adapter.mjs"),
        HEARTH_SUITE_TARGET: target,
        HEARTH_LLAMA_SERVER: llamaServer,
        PORT: target === "hearth" ? "8180" : "8080",
      },
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  // A server a failed test never stopped outlives pytest (its fixture did not run): stopped here, found by the
  // binary the adapter starts and the run's port.
  for (const bin of [llamaServer, path.join(root, "dist", "cli.mjs"), path.join(here, "adapter.mjs")]) {
    spawnSync("pkill", ["-f", `${bin}.*--port ${target === "hearth" ? "8180" : "8080"}`]);
  }
  if (!existsSync(xml))
    throw new Error(`pytest against ${target} wrote no report: ${(r.stderr || r.stdout).slice(-2000)}`);
  const outcomes = new Map();
  for (const m of readFileSync(xml, "utf8").matchAll(
    /<testcase classname="([^"]*)" name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g,
  )) {
    const body = m[4] ?? "";
    const outcome = /<skipped/.test(body) ? "skipped" : /<(failure|error)/.test(body) ? "failed" : "passed";
    outcomes.set(`${m[1]}::${m[2]}`, outcome);
  }
  const collectionErrors = [...readFileSync(xml, "utf8").matchAll(/<testcase classname="" name="([^"]*)"/g)].length;
  return { outcomes, seconds: Math.round((Date.now() - started) / 1000), collectionErrors };
}

mkdirSync(cache, { recursive: true });
const control = run("llama-server");
const hearth = run("hearth");
const count = (r, o) => [...r.outcomes.values()].filter((x) => x === o).length;
const summary = (name, r) =>
  `${name.padEnd(13)} ${String(count(r, "passed")).padStart(3)} passed, ${String(count(r, "failed")).padStart(3)} failed, ${count(r, "skipped")} skipped of ${r.outcomes.size} (${r.seconds} s)`;
const regressions = [...control.outcomes]
  .filter(([id, o]) => o === "passed" && hearth.outcomes.get(id) !== "passed")
  .map(([id]) => id);
const extra = [...hearth.outcomes]
  .filter(([id, o]) => o === "passed" && control.outcomes.get(id) !== "passed")
  .map(([id]) => id);
console.log(`llama.cpp server suites (${SUITES.length} files, commit ${commit}), local models:`);
console.log(summary("llama-server", control));
console.log(summary("hearth serve", hearth));
console.log(`passed by llama-server, not by hearth serve: ${regressions.length}`);
for (const id of regressions) console.log(`  ${id}`);
if (extra.length) console.log(`passed by hearth serve only: ${extra.length}`);
mkdirSync(path.join(root, "test-results"), { recursive: true });
writeFileSync(
  path.join(root, "test-results", "llama-suites.json"),
  JSON.stringify(
    {
      commit,
      counts: Object.fromEntries(
        [
          ["llamaServer", control],
          ["hearth", hearth],
        ].map(([name, r]) => [
          name,
          { passed: count(r, "passed"), failed: count(r, "failed"), skipped: count(r, "skipped"), seconds: r.seconds },
        ]),
      ),
      llamaServer: Object.fromEntries(control.outcomes),
      hearth: Object.fromEntries(hearth.outcomes),
      regressions,
    },
    null,
    2,
  ),
);
const passed = count(hearth, "passed");
if (passed < MIN_PASS) {
  console.error(`hearth serve passed ${passed}, fewer than the floor ${MIN_PASS}`);
  process.exit(1);
}
