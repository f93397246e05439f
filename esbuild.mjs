// Builds every Hearth bundle. Usage: node esbuild.mjs [--watch] [--production]
//   dist/extension.js  VS Code host side (CommonJS, `vscode` external)
//   dist/sidecar.mjs   sidecar process (ESM, `node-llama-cpp` external: it ships native binaries in node_modules)
//   dist/cli.mjs       headless CLI (ESM; spawns dist/sidecar.mjs)
//   dist/webview.js    chat view (browser IIFE)
//   dist/bench-chat.mjs `npm run bench` (not shipped)
import * as esbuild from "esbuild";
import { readFileSync } from "node:fs";

const watch = process.argv.includes("--watch");
const production = process.argv.includes("--production");
const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const llamaPkg = JSON.parse(readFileSync("node_modules/node-llama-cpp/package.json", "utf8"));

const common = {
  bundle: true,
  sourcemap: production ? false : "linked",
  minify: production,
  logLevel: "info",
  define: {
    HEARTH_VERSION: JSON.stringify(pkg.version),
    NODE_LLAMA_CPP_VERSION: JSON.stringify(llamaPkg.version),
  },
};

// CommonJS dependencies bundled into an ESM file still call require() for Node built-ins.
const esmRequireBanner = {
  js: "import { createRequire as __hearthCreateRequire } from 'node:module'; const require = __hearthCreateRequire(import.meta.url);",
};

/** @type {esbuild.BuildOptions[]} */
const targets = [
  {
    ...common,
    entryPoints: ["extension/extension.ts"],
    outfile: "dist/extension.js",
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["vscode"],
  },
  {
    ...common,
    entryPoints: ["sidecar/main.ts"],
    outfile: "dist/sidecar.mjs",
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["node-llama-cpp"],
    banner: esmRequireBanner,
  },
  {
    ...common,
    entryPoints: ["cli/main.ts"],
    outfile: "dist/cli.mjs",
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["node-llama-cpp"],
    banner: { js: "#!/usr/bin/env node\n" + esmRequireBanner.js },
  },
  {
    ...common,
    entryPoints: ["bench/chat.ts"],
    outfile: "dist/bench-chat.mjs",
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["node-llama-cpp"],
    banner: esmRequireBanner,
  },
  {
    ...common,
    entryPoints: ["bench/completion.ts"],
    outfile: "dist/bench-completion.mjs",
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["node-llama-cpp"],
    banner: esmRequireBanner,
  },
  {
    ...common,
    entryPoints: ["webview/main.ts"],
    outfile: "dist/webview.js",
    platform: "browser",
    format: "iife",
    target: "es2022",
  },
];

// Test bundles (not shipped): the extension test suite runs inside VS Code's extension host (CommonJS), and the
// test model helper is shared with the Node scripts that start the real-VS-Code runs.
targets.push(
  {
    ...common,
    entryPoints: ["test/integration/suite/index.ts"],
    outfile: "dist/test/suite/index.js",
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["vscode"],
  },
  {
    ...common,
    entryPoints: ["test/fixtures/synthetic/syntheticModels.ts"],
    outfile: "dist/test/synthetic.mjs",
    platform: "node",
    format: "esm",
    target: "node20",
  },
  {
    ...common,
    entryPoints: ["test/models.ts"],
    outfile: "dist/test/models.mjs",
    platform: "node",
    format: "esm",
    target: "node20",
  },
);

if (watch) {
  const contexts = await Promise.all(targets.map((t) => esbuild.context(t)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log("[esbuild] watching…");
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
}
