/**
 * The CLI's user config file: what `hearth setup` chose, read by every `hearth` command for its defaults (a flag
 * still wins). `$HEARTH_CONFIG`, else `$XDG_CONFIG_HOME/hearth/config.json`, else `~/.config/hearth/config.json`.
 *
 * ```json
 * { "models": { "chat": "/path/a.gguf", "completion": "...", "embedding": "...", "rerank": "..." },
 *   "writtenBy": "hearth setup", "writtenAt": "2026-12-06T23:59:00.000Z" }
 * ```
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { MODEL_ROLES, type ModelRole } from "../shared/protocol";
import { UsageError } from "./options";

export interface UserConfig {
  /** A model (path, hf: URI or URL) per role. */
  models: Partial<Record<ModelRole, string>>;
  writtenBy?: string;
  writtenAt?: string;
}

/** Largest config file read (bytes). */
const MAX_CONFIG_BYTES = 64 * 1024;

/** Where the config file is (it need not exist). */
export function userConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env["HEARTH_CONFIG"]) return path.resolve(env["HEARTH_CONFIG"]);
  const base = env["XDG_CONFIG_HOME"] || path.join(os.homedir(), ".config");
  return path.join(base, "hearth", "config.json");
}

/**
 * The config file's contents; an empty config when there is none.
 * @throws UsageError when it exists but is not a config (too large, not JSON, a model that is not a string), naming
 *   the file, so the user can fix or delete it.
 */
export function readUserConfig(file = userConfigPath()): UserConfig {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return { models: {} };
  }
  const bad = (why: string) =>
    new UsageError(`the config file ${file} ${why}; fix it, delete it, or run 'hearth setup' again`);
  if (size > MAX_CONFIG_BYTES) throw bad(`is larger than ${MAX_CONFIG_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw bad("is not JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw bad("is not a JSON object");
  const models = (json as { models?: unknown }).models ?? {};
  if (typeof models !== "object" || models === null || Array.isArray(models))
    throw bad("has a 'models' that is not an object");
  const out: UserConfig = { models: {} };
  for (const [role, value] of Object.entries(models)) {
    if (!MODEL_ROLES.includes(role as ModelRole))
      throw bad(`names an unknown role '${role}' (roles: ${MODEL_ROLES.join(", ")})`);
    if (typeof value !== "string" || !value) throw bad(`has a models.${role} that is not a model path or URI`);
    out.models[role as ModelRole] = value;
  }
  const { writtenBy, writtenAt } = json as Record<string, unknown>;
  if (typeof writtenBy === "string") out.writtenBy = writtenBy;
  if (typeof writtenAt === "string") out.writtenAt = writtenAt;
  return out;
}

/** Writes the config file atomically (a temp file renamed over it), creating its folder. */
export function writeUserConfig(config: UserConfig, file = userConfigPath()): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  renameSync(temp, file);
}

/** The flag that names each role's model, and the flag that puts the role on an engine instead. */
const ROLE_FLAGS: Record<ModelRole, { model: string; engineUrl: string }> = {
  chat: { model: "model", engineUrl: "engine-url" },
  completion: { model: "model", engineUrl: "engine-url" },
  embedding: { model: "embedding-model", engineUrl: "embedding-engine-url" },
  rerank: { model: "rerank-model", engineUrl: "rerank-engine-url" },
  nes: { model: "model", engineUrl: "engine-url" },
};

/**
 * Fills the model flags a command takes but was not given from the config file: `--model` with the role the
 * command's `--model` means (`modelRole`), `--embedding-model` and `--rerank-model` with theirs. A role put on an
 * engine by its URL flag is left alone.
 * @returns the flags filled, by name (for `--verbose` and `hearth config`).
 */
export function applyUserConfig(
  values: Record<string, unknown>,
  optionNames: readonly string[],
  modelRole: ModelRole | undefined,
  config: UserConfig,
): string[] {
  const filled: string[] = [];
  const roles: ModelRole[] = [...(modelRole ? [modelRole] : []), "embedding", "rerank"];
  for (const role of roles) {
    const flags = ROLE_FLAGS[role];
    const model = config.models[role];
    if (!model || !optionNames.includes(flags.model)) continue;
    if (values[flags.model] !== undefined || values[flags.engineUrl] !== undefined) continue;
    values[flags.model] = model;
    filled.push(flags.model);
  }
  // `hearth serve` names its FIM model apart from its chat model.
  const fim = config.models.completion;
  if (fim && optionNames.includes("completion-model") && values["completion-model"] === undefined) {
    values["completion-model"] = fim;
    filled.push("completion-model");
  }
  return filled;
}
