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
import yauzl from "yauzl";

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
// What of a dependency the extension never runs: TypeScript sources and declarations, source maps, docs, and the
// top-level test/doc/example folders. vsce lets a negated (include) line win over any exclusion, so the include
// lines themselves leave these out, with extglob: one for a package's top-level files, one for its folders.
const DEV_FILES = "*.ts|*.mts|*.cts|*.map|*.md|*.markdown|*.tsbuildinfo|tsconfig*.json|.eslintrc*|.npmignore";
const DEV_DIRS = "test|tests|__tests__|docs|doc|example|examples|benchmark|benchmarks|.github";
const packageFiles = (dir) => [
  `!${dir}/!(${DEV_FILES})`,
  `!${dir}/!(${DEV_DIRS})/**/!(${DEV_FILES})`,
  `!${dir}/**/LICEN[CS]E*`,
];
const allow = prodDirs
  // Type declarations only: nothing in them runs.
  .filter((dir) => !dir.startsWith("node_modules/@types/"))
  .flatMap((dir) =>
    dir === "node_modules/node-llama-cpp"
      ? [
          // dist (the library), bins (prebuilt-binary metadata), llama/*.json and grammars; not the 35 MB
          // llama.cpp source bundle, the build toolchains or the project templates.
          `!${dir}/package.json`,
          `!${dir}/dist/**/*.js`,
          `!${dir}/bins/**`,
          `!${dir}/llama/*.json`,
          `!${dir}/llama/grammars/*.gbnf`,
        ]
      : packageFiles(dir),
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
    // The README and CHANGELOG link to docs/ and each other by relative paths; without a repository URL vsce would
    // refuse them. The manual (docs/) is in the VSIX beside the README, so its links resolve there.
    "--no-rewrite-relative-links",
  ],
  { stdio: "inherit" },
);
const mib = (statSync(out).size / 1024 / 1024).toFixed(1);
console.log(`${out}: ${mib} MiB (${target}; node-llama-cpp binaries: ${keep.join(", ")})`);

// What went in, by component (uncompressed sizes, largest first), read back from the VSIX itself.
const files = await new Promise((resolve, reject) =>
  yauzl.open(out, { lazyEntries: true }, (error, zip) => {
    if (error) return reject(error);
    const entries = [];
    zip.on("entry", (entry) => {
      entries.push({ name: entry.fileName.replace(/^extension\//, ""), size: entry.uncompressedSize });
      zip.readEntry();
    });
    zip.on("end", () => resolve(entries));
    zip.on("error", reject);
    zip.readEntry();
  }),
);
const component = (file) => {
  const parts = file.split("/");
  if (parts[0] !== "node_modules") return parts.length > 1 ? `${parts[0]}/` : "(top-level files)";
  return parts[1]?.startsWith("@") ? `${parts[1]}/${parts[2]}` : (parts[1] ?? file);
};
const sizes = new Map();
for (const { name, size } of files) sizes.set(component(name), (sizes.get(component(name)) ?? 0) + size);
const total = [...sizes.values()].reduce((a, b) => a + b, 0);
console.log(`${files.length} files, ${(total / 1024 / 1024).toFixed(1)} MiB uncompressed; largest components:`);
for (const [name, bytes] of [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 12))
  console.log(`  ${(bytes / 1024 / 1024).toFixed(1).padStart(7)} MiB  ${name}`);
// Sources, maps and docs of dependencies must stay out (README.md and CHANGELOG.md at the top are ours).
const devFiles = files
  .map((f) => f.name)
  .filter((f) => f.startsWith("node_modules/") && /\.(ts|mts|cts|map|md|markdown)$/.test(f) && !/LICEN[CS]E/.test(f));
if (devFiles.length) throw new Error(`The VSIX holds ${devFiles.length} development files, e.g. ${devFiles[0]}`);
