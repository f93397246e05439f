// Builds every Hearth bundle. Usage: node esbuild.mjs [--watch] [--production]
//   dist/extension.js  VS Code host side (CommonJS, `vscode` external)
//   dist/sidecar.mjs   sidecar process (ESM; native packages stay external, see NODE_EXTERNALS)
//   dist/cli.mjs       headless CLI (ESM; spawns dist/sidecar.mjs)
//   dist/webview.js    chat view (browser IIFE)
//   dist/lab-*.mjs     the model lab's steps (lab/README.md)
//   dist/bench-*.mjs   `npm run bench`, `bench:completion`, `bench:index`; dist/eval-*.mjs `eval:search`, `eval:completion` (not shipped)
//   dist/test/*        test bundles: extension test suite, test model helper, synthetic GGUF fixtures
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

/**
 * Packages left in node_modules (and shipped there in the VSIX): node-llama-cpp and LanceDB load native
 * binaries; apache-arrow must be the very copy LanceDB uses; the tree-sitter runtime finds its WASM files next
 * to itself.
 */
const NODE_EXTERNALS = ["node-llama-cpp", "@lancedb/lancedb", "apache-arrow", "@vscode/tree-sitter-wasm"];

/** A Node ESM bundle with the {@link NODE_EXTERNALS} left external. */
function nodeEsm(entry, outfile, banner = esmRequireBanner.js, external = []) {
  return {
    ...common,
    entryPoints: [entry],
    outfile,
    platform: "node",
    format: "esm",
    target: "node20",
    external: [...NODE_EXTERNALS, ...external],
    banner: { js: banner },
  };
}

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
  nodeEsm("sidecar/main.ts", "dist/sidecar.mjs"),
  nodeEsm("cli/main.ts", "dist/cli.mjs", `#!/usr/bin/env node\n${esmRequireBanner.js}`),
  nodeEsm("bench/chat.ts", "dist/bench-chat.mjs"),
  nodeEsm("bench/completion.ts", "dist/bench-completion.mjs"),
  nodeEsm("bench/engines.ts", "dist/bench-engines.mjs"),
  nodeEsm("bench/fimLoop.ts", "dist/bench-fim-loop.mjs"),
  nodeEsm("bench/serve.ts", "dist/bench-serve.mjs"),
  nodeEsm("bench/evalAgent.ts", "dist/eval-agent.mjs"),
  nodeEsm("bench/buildRealSize.ts", "dist/models-real-size.mjs"),
  nodeEsm("bench/all.ts", "dist/bench-all.mjs"),
  nodeEsm("bench/searchScale.ts", "dist/bench-search-scale.mjs"),
  nodeEsm("bench/ftsScale.ts", "dist/bench-fts.mjs"),
  nodeEsm("bench/hybridScale.ts", "dist/bench-hybrid.mjs"),
  nodeEsm("bench/kvMemory.ts", "dist/bench-memory.mjs"),
  nodeEsm("bench/vectorIndexes.ts", "dist/bench-vector-index.mjs"),
  nodeEsm("bench/schemaMemory.ts", "dist/bench-schemas.mjs"),
  nodeEsm("bench/planEstimates.ts", "dist/bench-plan.mjs"),
  nodeEsm("bench/memoryBudget.ts", "dist/bench-budget.mjs"),
  nodeEsm("bench/evalNes.ts", "dist/eval-nes.mjs"),
  nodeEsm("bench/nesLatency.ts", "dist/bench-nes.mjs"),
  // TypeScript (comment stripping for the search benchmark) stays in node_modules: it does not bundle as ESM.
  nodeEsm("bench/evalSearch.ts", "dist/eval-search.mjs", undefined, ["typescript"]),
  nodeEsm("bench/index.ts", "dist/bench-index.mjs"),
  nodeEsm("bench/evalCompletion.ts", "dist/eval-completion.mjs", undefined, ["typescript"]),
  // The model lab (lab/README.md; `npm run models:train`, not shipped).
  nodeEsm("lab/prepare.ts", "dist/lab-prepare.mjs", undefined, ["typescript"]),
  nodeEsm("lab/export.ts", "dist/lab-export.mjs"),
  {
    ...common,
    entryPoints: ["webview/main.ts"],
    outfile: "dist/webview.js",
    platform: "browser",
    format: "iife",
    target: "es2022",
  },
  // Test bundles (not shipped): the extension test suite runs inside VS Code's extension host (CommonJS); the
  // test model helper and the synthetic fixtures are shared with the Node scripts of the real-VS-Code runs.
  {
    ...common,
    entryPoints: ["test/integration/suite/index.ts"],
    outfile: "dist/test/suite/index.js",
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["vscode"],
  },
  nodeEsm("test/fixtures/synthetic/syntheticModels.ts", "dist/test/synthetic.mjs"),
  nodeEsm("test/testModels.ts", "dist/test/testModels.mjs"),
  nodeEsm("test/setup/fixtureCatalog.ts", "dist/test/fixtureCatalog.mjs"),
  nodeEsm("bench/nesScenarios.ts", "dist/test/nesScenarios.mjs"),
];

if (watch) {
  const contexts = await Promise.all(targets.map((t) => esbuild.context(t)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log("[esbuild] watching…");
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
}
