import { promises as fs } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import type { EngineKind, ModelRole } from "../../shared/protocol";

/**
 * Import from Continue: its repository is no longer maintained, and its users' models (local Ollama,
 * llama.cpp, vLLM, LM Studio, OpenAI-compatible servers) map onto Hearth's per-role engines. Reads
 * `~/.continue/config.yaml` (schema v1: `models[{name, provider, model, apiBase, apiKey, roles}]`) or, when
 * there is none, the older `config.json` (`models`, `tabAutocompleteModel`, `embeddingsProvider`, `reranker`),
 * as Continue's own reference and YAML migration guide describe them.
 */

/** One model of a Continue config, with the roles Continue gives it. */
export interface ContinueModel {
  name: string;
  provider: string;
  model: string;
  apiBase?: string;
  /** Present when the file holds a key (never printed; a `${{ secrets.X }}` reference is not a key). */
  apiKey?: string;
  roles: string[];
}

/** What one Hearth role becomes. */
export interface ImportedRole {
  kind: EngineKind;
  url: string;
  model: string;
  /** The Continue model it came from (its `name` or `title`). */
  from: string;
  apiKey?: string;
}

export interface ContinueImport {
  /** The file read. */
  source: string;
  roles: Partial<Record<ModelRole, ImportedRole>>;
  /** One sentence per model or role that could not be mapped, saying why. */
  notMapped: string[];
}

/** Continue providers Hearth speaks to, with Continue's default base URL for each (without `/v1`). */
const PROVIDERS: Record<string, { kind: EngineKind; defaultBase?: string }> = {
  ollama: { kind: "ollama", defaultBase: "http://localhost:11434" },
  "llama.cpp": { kind: "llama-server", defaultBase: "http://localhost:8080" },
  llamacpp: { kind: "llama-server", defaultBase: "http://localhost:8080" },
  llamafile: { kind: "llama-server", defaultBase: "http://localhost:8080" },
  vllm: { kind: "vllm" },
  lmstudio: { kind: "lmstudio", defaultBase: "http://localhost:1234" },
  openai: { kind: "openai", defaultBase: "https://api.openai.com" },
};

/** Continue roles → Hearth roles (edit, apply and summarize are chat's in Hearth). */
const ROLE_MAP: Record<string, ModelRole> = {
  chat: "chat",
  autocomplete: "completion",
  embed: "embedding",
  rerank: "rerank",
};

const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() ? v.trim() : undefined);

/** A model entry of either format, or undefined when it lacks provider or model. */
function toModel(raw: unknown, roles: string[]): ContinueModel | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const m = raw as Record<string, unknown>;
  const provider = str(m["provider"]);
  const model = str(m["model"]);
  if (!provider || !model) return undefined;
  const key = str(m["apiKey"]);
  const explicitRoles = Array.isArray(m["roles"])
    ? (m["roles"] as unknown[]).filter((r): r is string => typeof r === "string")
    : undefined;
  return {
    name: str(m["name"]) ?? str(m["title"]) ?? model,
    provider: provider.toLowerCase(),
    model,
    ...(str(m["apiBase"]) ? { apiBase: str(m["apiBase"])! } : {}),
    ...(key && !key.includes("${{") ? { apiKey: key } : {}),
    roles: explicitRoles ?? roles,
  };
}

/**
 * Read a Continue config: `file` when given, else `<home>/.continue/config.yaml`, else `config.json` beside it.
 * @throws Error naming the file when none exists or it does not parse.
 */
export async function readContinueConfig(
  home: string,
  file?: string,
): Promise<{ source: string; models: ContinueModel[] }> {
  const candidates = file
    ? [file]
    : [path.join(home, ".continue", "config.yaml"), path.join(home, ".continue", "config.json")];
  for (const source of candidates) {
    const text = await fs.readFile(source, "utf8").catch(() => undefined);
    if (text === undefined) continue;
    let doc: unknown;
    try {
      doc = source.endsWith(".json") ? JSON.parse(text) : parse(text, { maxAliasCount: 100 });
    } catch (error) {
      throw new Error(`${source} does not parse: ${(error as Error).message.split("\n")[0]}`, { cause: error });
    }
    const d = (doc ?? {}) as Record<string, unknown>;
    const models: ContinueModel[] = [];
    const add = (raw: unknown, roles: string[]) => {
      const m = toModel(raw, roles);
      if (m) models.push(m);
    };
    // YAML: roles on each model (default chat, edit, apply, summarize). JSON: roles from the top-level key.
    const yamlDefault = ["chat", "edit", "apply", "summarize"];
    for (const m of Array.isArray(d["models"]) ? d["models"] : [])
      add(m, source.endsWith(".json") ? ["chat"] : yamlDefault);
    const tab = d["tabAutocompleteModel"];
    for (const m of Array.isArray(tab) ? tab : tab ? [tab] : []) add(m, ["autocomplete"]);
    if (d["embeddingsProvider"]) add(d["embeddingsProvider"], ["embed"]);
    const reranker = d["reranker"] as { name?: string; params?: Record<string, unknown> } | undefined;
    if (reranker) add({ name: reranker.name, provider: reranker.name, ...reranker.params }, ["rerank"]);
    return { source, models };
  }
  throw new Error(`No Continue config found (looked for ${candidates.join(" and ")}).`);
}

/**
 * Map Continue's models onto Hearth's roles: for each role the first model that has it, on a provider Hearth
 * speaks to. Everything else is listed in `notMapped` with the reason.
 */
export function mapContinueModels(source: string, models: ContinueModel[]): ContinueImport {
  const roles: ContinueImport["roles"] = {};
  const notMapped: string[] = [];
  for (const m of models) {
    const provider = PROVIDERS[m.provider];
    const hearthRoles = m.roles.map((r) => ROLE_MAP[r]).filter((r): r is ModelRole => !!r);
    if (!provider) {
      notMapped.push(
        `${m.name}: provider '${m.provider}' is not an engine Hearth speaks to (ollama, llama.cpp, vllm, lmstudio, openai).`,
      );
      continue;
    }
    const base = m.apiBase ?? provider.defaultBase;
    if (!base) {
      notMapped.push(`${m.name}: provider '${m.provider}' needs an apiBase, and the config gives none.`);
      continue;
    }
    for (const role of hearthRoles) {
      if (roles[role]) {
        notMapped.push(`${m.name}: Hearth has one ${role} model; ${roles[role]!.from} was taken for it.`);
        continue;
      }
      roles[role] = {
        kind: provider.kind,
        url: base.replace(/\/+$/, "").replace(/\/v1$/, ""),
        model: m.model === "AUTODETECT" ? "" : m.model,
        from: m.name,
        ...(m.apiKey ? { apiKey: m.apiKey } : {}),
      };
    }
    if (!hearthRoles.length) notMapped.push(`${m.name}: its roles (${m.roles.join(", ")}) have no Hearth counterpart.`);
  }
  return { source, roles, notMapped };
}
