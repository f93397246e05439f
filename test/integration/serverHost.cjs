// Runs an extension test suite inside a real VS Code: the VS Code server shipped in the code-server npm package
// (Node extension host) with --enable-smoke-test-driver, opened in headless Chromium. The workbench loads the
// extension under development and the suite from the URL payload, and reports the suite's exit code through
// window.codeAutomationExit. Adapted from the worked recipe in ../shared/e2e-recipe (run-ext-tests.js).
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { requireE2eTools, chromiumArgs } = require("./e2eEnv.cjs");

const tools = requireE2eTools();
const { chromium } = require(tools.playwright);
const devPath = process.env.HEARTH_E2E_DEV || tools.root;
const testsPath = process.env.HEARTH_E2E_TESTS;
const workspace = process.env.HEARTH_E2E_WORKSPACE || path.join(tools.root, "test", "fixtures", "workspace");
const port = Number(process.env.HEARTH_E2E_PORT || 8124);
const timeoutMs = Number(process.env.HEARTH_E2E_TIMEOUT_MS || 240_000);
const run = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-e2e-"));
const t0 = Date.now();
const log = (...a) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

(async () => {
  if (!testsPath) throw new Error("HEARTH_E2E_TESTS (--extensionTestsPath) is required");
  const server = spawn(
    tools.node,
    [
      tools.vscodeServer,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--without-connection-token",
      "--accept-server-license-terms",
      "--enable-smoke-test-driver",
      "--disable-telemetry",
      "--disable-workspace-trust",
      "--user-data-dir",
      path.join(run, "user-data"),
      "--extensions-dir",
      path.join(run, "extensions"),
    ],
    { detached: true, stdio: ["ignore", "pipe", "pipe"], env: process.env },
  );
  let serverLog = "";
  const onData = (d) => {
    serverLog += d;
    if (process.env.HEARTH_E2E_DEBUG) process.stdout.write(`[server] ${d}`);
  };
  server.stdout.on("data", onData);
  server.stderr.on("data", onData);
  let code = 1;
  let browser;
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`VS Code server did not start:\n${serverLog}`)), 60_000);
      const check = () => {
        if (/Extension host agent listening on|HTTP server listening on/.test(serverLog)) {
          clearTimeout(timer);
          resolve();
        }
      };
      server.stdout.on("data", check);
      server.stderr.on("data", check);
      server.on("exit", (c) => reject(new Error(`VS Code server exited with ${c}:\n${serverLog}`)));
    });
    log("VS Code server up");
    browser = await chromium.launch({ executablePath: tools.chromium, args: chromiumArgs });
    const page = await browser.newPage();
    const done = new Promise((resolve) => page.exposeFunction("codeAutomationExit", (c) => resolve(c)));
    // The extension host's console; VS Code's own chatter about accounts and agents is noise here.
    await page.exposeFunction("codeAutomationLog", (type, args) => {
      const line = (args || []).join(" ");
      if (!/^\[AgentHost\]/.test(line)) console.log(line);
    });
    const authority = `127.0.0.1:${port}`;
    const payload = [
      ["extensionDevelopmentPath", `vscode-remote://${authority}${devPath}`],
      ["extensionTestsPath", `vscode-remote://${authority}${testsPath}`],
      ["skipWelcome", "true"],
    ];
    await page.goto(
      `http://${authority}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`,
    );
    code = await Promise.race([done, new Promise((r) => setTimeout(() => r("timeout"), timeoutMs))]);
    log(`extension tests finished: ${code}`);
    if (process.env.HEARTH_E2E_SHOT) await page.screenshot({ path: process.env.HEARTH_E2E_SHOT });
  } catch (error) {
    console.error(error);
  } finally {
    await browser?.close().catch(() => undefined);
    try {
      process.kill(-server.pid, "SIGTERM");
    } catch {
      // already gone
    }
    if (process.env.HEARTH_E2E_KEEP) console.log(`kept ${run}`);
    else fs.rmSync(run, { recursive: true, force: true });
  }
  process.exit(code === 0 ? 0 : 1);
})();
