#!/usr/bin/env node
// A stand-in "VS Code executable" for @vscode/test-electron's runTests({vscodeExecutablePath}). It turns the
// Electron command line (--extensionDevelopmentPath, --extensionTestsPath, folder) into a run of the real VS Code
// server from the code-server npm package, driven by headless Chromium (see serverHost.cjs). Used where a desktop
// VS Code cannot be downloaded.
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const env = { ...process.env };
for (const arg of process.argv.slice(2)) {
  let m;
  if ((m = /^--extensionTestsPath=(.*)$/.exec(arg))) env.HEARTH_E2E_TESTS = path.resolve(m[1]);
  else if ((m = /^--extensionDevelopmentPath=(.*)$/.exec(arg))) env.HEARTH_E2E_DEV = path.resolve(m[1]);
  else if (!arg.startsWith("-")) env.HEARTH_E2E_WORKSPACE = path.resolve(arg);
}
const r = spawnSync(process.execPath, [path.join(__dirname, "serverHost.cjs")], { env, stdio: "inherit" });
process.exit(r.status ?? 1);
