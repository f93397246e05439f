// Paths of the tools scripts/setup-e2e.sh installs into .e2e/, and the browser launch options used here.
const path = require("node:path");
const fs = require("node:fs");

const root = path.resolve(__dirname, "..", "..");
const e2e = process.env.HEARTH_E2E_DIR || path.join(root, ".e2e");
// HEARTH_E2E_VSCODE=min: the oldest VS Code the npm registry's code-server releases offer at or above
// package.json's engines.vscode (code-server 4.96.4 = VS Code 1.96.4, on Node 20); otherwise the current one
// (code-server 4.139.1, on Node 24). scripts/setup-e2e.sh installs both.
const min = process.env.HEARTH_E2E_VSCODE === "min";
const cs = min ? "cs-min" : "cs";
const paths = {
  root,
  node: path.join(e2e, min ? "node20" : "node24", "node_modules", "node", "bin", "node"),
  codeServer: path.join(e2e, cs, "node_modules", "code-server", "out", "node", "entry.js"),
  vscodeServer: path.join(e2e, cs, "node_modules", "code-server", "lib", "vscode", "out", "server-main.js"),
  playwright: path.join(e2e, "tools", "node_modules", "playwright-core"),
  chromium: process.env.CHROMIUM || "/usr/bin/chromium",
};

/** Throws with the fix when something the real-VS-Code tests need is missing: they never pass by skipping. */
function requireE2eTools() {
  for (const [name, p] of Object.entries(paths)) {
    if (name !== "root" && !fs.existsSync(p)) {
      throw new Error(`E2E: ${name} not found at ${p}. Run 'bash scripts/setup-e2e.sh' first.`);
    }
  }
  return paths;
}

// Flags for headless Chromium on a machine without network: without the background-networking ones Chromium
// keeps trying to reach Google's hosts.
const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

module.exports = { paths, requireE2eTools, chromiumArgs };
