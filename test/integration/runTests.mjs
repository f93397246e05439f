// Runs the extension test suite (dist/test/suite/index.js) inside a real VS Code with @vscode/test-electron.
// On a normal machine, runTests downloads desktop VS Code as usual. Here (no download possible), set
// VSCODE_EXECUTABLE to a VS Code executable, or let it use vscode-shim.cjs, which runs the VS Code server from
// $HEARTH_E2E_DIR or .e2e (scripts/setup-e2e.sh) in headless Chromium. HEARTH_E2E_DOWNLOAD=1 forces the download path.
import { runTests } from "@vscode/test-electron";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const shim = path.join(here, "vscode-shim.cjs");
const e2eDir = process.env.HEARTH_E2E_DIR || path.join(root, ".e2e");
const localServer = path.join(e2eDir, "cs", "node_modules", "code-server", "lib", "vscode", "out", "server-main.js");
const vscodeExecutablePath =
  process.env.VSCODE_EXECUTABLE ||
  (process.env.HEARTH_E2E_DOWNLOAD ? undefined : existsSync(localServer) ? shim : undefined);

const { testModel } = await import(path.join(root, "dist", "test", "testModels.mjs"));
const model = await testModel("stories260K");
const started = Date.now();
try {
  await runTests({
    vscodeExecutablePath,
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, "dist", "test", "suite", "index.js"),
    launchArgs: [path.join(root, "test", "fixtures", "workspace"), "--disable-extensions"],
    extensionTestsEnv: { HEARTH_TEST_MODEL: model, HEARTH_TEST_RESULTS_DIR: path.join(root, "test-results") },
  });
  console.log(`extension tests passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  console.error(`extension tests failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
