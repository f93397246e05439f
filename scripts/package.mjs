#!/usr/bin/env node
// `npm run package` — one VSIX for the current platform (vsce --target), holding only that platform's
// node-llama-cpp prebuilt binaries. Usage: node scripts/package.mjs [--cuda] [--out <file.vsix>]
//
// Binaries per target: linux-x64 → CPU + Vulkan; darwin-arm64 → Metal; darwin-x64 → CPU; win32-x64 → CPU +
// Vulkan; linux-arm64 / win32-arm64 → CPU. CUDA is left out by default (the CUDA packages add ~540 MB on Linux
// x64; NVIDIA GPUs are served by the Vulkan build). `--cuda` adds them for a separate, large VSIX.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync, statSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { cuda: { type: "boolean" }, out: { type: "string" } } });
const target = `${process.platform}-${process.arch}`;
const BINARIES = {
  "linux-x64": ["linux-x64", "linux-x64-vulkan", ...(values.cuda ? ["linux-x64-cuda", "linux-x64-cuda-ext"] : [])],
  "linux-arm64": ["linux-arm64"],
  "linux-arm": ["linux-armv7l"],
  "darwin-arm64": ["mac-arm64-metal"],
  "darwin-x64": ["mac-x64"],
  "win32-x64": ["win-x64", "win-x64-vulkan", ...(values.cuda ? ["win-x64-cuda", "win-x64-cuda-ext"] : [])],
  "win32-arm64": ["win-arm64"],
};
const keep = BINARIES[target];
if (!keep) throw new Error(`No VSIX target for ${target}.`);
const vsceTarget = target === "linux-arm" ? "linux-armhf" : target;

const scope = path.join("node_modules", "@node-llama-cpp");
const installed = readdirSync(scope).filter((d) => statSync(path.join(scope, d)).isDirectory());
const missing = keep.filter((k) => !installed.includes(k));
if (missing.length) throw new Error(`node-llama-cpp binaries for ${target} are not installed: ${missing.join(", ")}`);
const drop = new Set(installed.filter((d) => !keep.includes(d)).map((d) => `node_modules/@node-llama-cpp/${d}`));

// The runtime dependency tree: node-llama-cpp and what it requires in production. TypeScript is an optional
// peer dependency of node-llama-cpp's CLI, which the extension never runs.
const prodDirs = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { encoding: "utf8" })
  .split("\n")
  .map((line) => path.relative(process.cwd(), line.trim()).split(path.sep).join("/"))
  .filter((dir) => dir.startsWith("node_modules/") && !drop.has(dir) && !/(^|\/)node_modules\/typescript$/.test(dir));
const allow = prodDirs.flatMap((dir) =>
  dir === "node_modules/node-llama-cpp"
    ? [
        // dist (the library), bins (prebuilt-binary metadata), llama/*.json and grammars; not the 35 MB
        // llama.cpp source bundle, the build toolchains or the project templates.
        `!${dir}/package.json`,
        `!${dir}/dist/**/*.js`,
        `!${dir}/bins/**`,
        `!${dir}/llama/*.json`,
        `!${dir}/llama/grammars/**`,
      ]
    : [`!${dir}/**`],
);

const ignoreFile = path.join(mkdtempSync(path.join(os.tmpdir(), "hearth-vsce-")), ".vscodeignore");
writeFileSync(
  ignoreFile,
  `${readFileSync(".vscodeignore", "utf8")}\n# added by scripts/package.mjs for ${target}\n${allow.join("\n")}\n`,
);

const { version } = JSON.parse(readFileSync("package.json", "utf8"));
const out = values.out ?? `hearth-${vsceTarget}-${version}.vsix`;
const vsce = path.join("node_modules", "@vscode", "vsce", "vsce");
execFileSync(
  process.execPath,
  [
    vsce,
    "package",
    "--target",
    vsceTarget,
    "--ignoreFile",
    ignoreFile,
    "--out",
    out,
    "--allow-missing-repository",
    "--skip-license",
  ],
  { stdio: "inherit" },
);
const mib = (statSync(out).size / 1024 / 1024).toFixed(1);
console.log(`${out}: ${mib} MiB (${target}; node-llama-cpp binaries: ${keep.join(", ")})`);
