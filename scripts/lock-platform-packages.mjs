#!/usr/bin/env node
// Keeps package-lock.json installable with `npm ci` when the registry in use lacks some of node-llama-cpp's
// prebuilt-binary packages for *other* platforms (seen with the registry mirror of our CI machines: the macOS,
// Windows and riscv64 packages are missing, so `npm install` leaves them out of the lock and `npm ci` then
// refuses the lock as "not in sync").
//
// It adds a lock entry, with the package's os/cpu, for each optional dependency of node-llama-cpp that the lock
// lacks. npm skips such entries on machines of another platform; on a matching platform npm resolves the version
// from the registry as usual. Run it after any `npm install` that rewrites the lock:
//   node scripts/lock-platform-packages.mjs
import { readFileSync, writeFileSync } from "node:fs";

const PLATFORMS = {
  "linux-arm64": [["linux"], ["arm64", "x64"]],
  "linux-armv7l": [["linux"], ["arm", "x64"]],
  "linux-riscv64": [["linux"], ["riscv64"]],
  "linux-x64": [["linux"], ["x64"]],
  "linux-x64-cuda": [["linux"], ["x64"]],
  "linux-x64-cuda-ext": [["linux"], ["x64"]],
  "linux-x64-vulkan": [["linux"], ["x64"]],
  "mac-arm64-metal": [["darwin"], ["arm64", "x64"]],
  "mac-x64": [["darwin"], ["x64"]],
  "win-arm64": [["win32"], ["arm64", "x64"]],
  "win-x64": [["win32"], ["x64"]],
  "win-x64-cuda": [["win32"], ["x64"]],
  "win-x64-cuda-ext": [["win32"], ["x64"]],
  "win-x64-vulkan": [["win32"], ["x64"]],
};

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const llama = lock.packages["node_modules/node-llama-cpp"];
let added = 0;
for (const [name, version] of Object.entries(llama.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const platform = PLATFORMS[name.replace("@node-llama-cpp/", "")];
  if (!platform) throw new Error(`No os/cpu known for ${name}; add it to PLATFORMS in this script.`);
  lock.packages[key] = {
    version,
    license: "MIT",
    optional: true,
    os: platform[0],
    cpu: platform[1],
    engines: { node: ">=20.0.0" },
  };
  added++;
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} platform package entr${added === 1 ? "y" : "ies"}.`);
