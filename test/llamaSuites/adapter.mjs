#!/usr/bin/env node
// llama.cpp's server test suite (tools/server/tests) starts `$LLAMA_SERVER_BIN_PATH <llama-server flags>`. This
// adapter is that binary: it maps the suite's models (Hugging Face repos it would download) to the local models the
// project has, and starts either the real llama-server (HEARTH_SUITE_TARGET=llama-server, the control) or
// `hearth serve` with the flags translated (HEARTH_SUITE_TARGET=hearth). A model the project does not have gets
// stories260K as a stand-in (the suite's own model checks then fail, for both targets alike), and says so.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const stories = [
  path.join(root, "..", "shared", "models", "stories260K.gguf"),
  path.join(root, ".cache", "models", "stories260K.gguf"),
].find(existsSync);
const lab = (f) => path.join(root, "lab", "models", f);
/** The suite's models (`--hf-repo[/--hf-file]`) → local files. */
const MODELS = {
  "ggml-org/models/tinyllamas/stories260K.gguf": stories,
  "ggml-org/test-model-stories260K": stories,
  "ggml-org/test-model-stories260K-infill": lab("hearth-lab-code-fim.gguf"),
  "ggml-org/models/bert-bge-small/ggml-model-f16.gguf": lab("hearth-lab-embedding.gguf"),
  "ggml-org/models/jina-reranker-v1-tiny-en/ggml-model-f16.gguf": lab("hearth-lab-reranker.gguf"),
};

const args = process.argv.slice(2);
const out = [];
let repo;
let file;
let model;
const flags = new Map();
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const next = () => args[++i];
  if (a === "--hf-repo" || a === "-hf") repo = next();
  else if (a === "--hf-file" || a === "-hff") file = next();
  else if (a === "--model" || a === "-m") model = next();
  else if (a === "--offline") continue;
  else if (a.startsWith("-") && i + 1 < args.length && !args[i + 1].startsWith("--")) flags.set(a, next());
  else flags.set(a, true);
}
const key = repo ? (file ? `${repo}/${file}` : repo) : undefined;
let local = model ?? (key ? MODELS[key] : undefined);
if (!local) {
  process.stderr.write(`adapter: no local model for ${key ?? "(none)"}: stories260K stands in\n`);
  local = stories;
}
const target = process.env.HEARTH_SUITE_TARGET ?? "llama-server";
let command;
if (target === "llama-server") {
  for (const [k, v] of flags) out.push(k, ...(v === true ? [] : [String(v)]));
  command = [process.env.HEARTH_LLAMA_SERVER, "-m", local, ...out];
} else {
  // hearth serve: one model serves every route, as llama-server's does (chat and FIM; embedding or rerank when
  // the suite starts an embedding server).
  const rank = flags.get("--reranking") || flags.get("--pooling") === "rank";
  const embed = flags.get("--embedding") && !rank;
  const roles = rank
    ? ["--rerank-model", local]
    : embed
      ? ["--embedding-model", local]
      : ["--model", local, "--completion-model", local];
  const pass = [];
  if (flags.has("--host")) pass.push("--host", flags.get("--host"));
  if (flags.has("--port")) pass.push("--port", flags.get("--port"));
  if (flags.has("--ctx-size") || flags.has("-c"))
    pass.push("--context-size", flags.get("--ctx-size") ?? flags.get("-c"));
  if (flags.has("--alias")) pass.push("--alias", flags.get("--alias"));
  if (flags.has("--threads")) pass.push("--threads", flags.get("--threads"));
  // `=`: a value of -1 (no limit) would otherwise read as an option.
  if (flags.has("--n-predict") || flags.has("-n"))
    pass.push(`--n-predict=${flags.get("--n-predict") ?? flags.get("-n")}`);
  const env = {};
  if (flags.has("--api-key")) {
    env.HEARTH_SUITE_KEY = String(flags.get("--api-key"));
    pass.push("--api-key-env", "HEARTH_SUITE_KEY");
  }
  Object.assign(process.env, env);
  command = [process.execPath, path.join(root, "dist", "cli.mjs"), "serve", ...roles, ...pass];
}
process.stderr.write(`adapter (${target}): ${command.join(" ")}\n`);
const child = spawn(command[0], command.slice(1), { stdio: "inherit", env: process.env });
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
