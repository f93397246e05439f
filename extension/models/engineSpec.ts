import type * as vscode from "vscode";
import type { EngineSpec, ModelRole, ModelSpec } from "../../shared/protocol";
import type { HearthConfig } from "../config";

/** Where a URL's API key lives in VS Code's SecretStorage: one secret per engine origin. */
const secretKey = (url: string): string => `hearth.engineApiKey:${origin(url)}`;

function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/**
 * API keys of remote engines, kept in VS Code's SecretStorage (never in settings, never logged) and cached in
 * memory so that a keystroke's completion request does not wait on the keychain. `init` runs at activation.
 */
export class EngineKeys {
  private static secrets: vscode.SecretStorage | undefined;
  private static readonly cache = new Map<string, string | undefined>();

  static init(secrets: vscode.SecretStorage, config: HearthConfig): vscode.Disposable {
    EngineKeys.secrets = secrets;
    void EngineKeys.refresh(config);
    return secrets.onDidChange(() => void EngineKeys.refresh(config));
  }

  /** Load the keys of the engines `config` names (call after a settings change). */
  static async refresh(config: HearthConfig): Promise<void> {
    const secrets = EngineKeys.secrets;
    if (!secrets) return;
    for (const url of Object.values(config.engines).filter(Boolean)) {
      EngineKeys.cache.set(origin(url), await secrets.get(secretKey(url)));
    }
  }

  /** The key for `url`'s origin, if one was stored. */
  static get(url: string): string | undefined {
    return EngineKeys.cache.get(origin(url));
  }

  /** Store (or with "" delete) the key for `url`'s origin. */
  static async set(url: string, key: string): Promise<void> {
    const secrets = EngineKeys.secrets;
    if (!secrets) throw new Error("Hearth is not activated.");
    if (key) await secrets.store(secretKey(url), key);
    else await secrets.delete(secretKey(url));
    EngineKeys.cache.set(origin(url), key || undefined);
  }
}

/**
 * The model spec of `role` from the settings: on the remote engine `hearth.engines.<role>` names (then `uri` is
 * that engine's model id, "" for its only model, and the stored API key goes with it), else a local GGUF.
 * @returns undefined when the role has neither a model nor an engine.
 */
export function roleModelSpec(role: ModelRole, config: HearthConfig, uri = config.models[role]): ModelSpec | undefined {
  const url = config.engines[role];
  if (url) return { uri, engine: engineSpec(url) };
  return uri ? { uri } : undefined;
}

/** The engine at `url`, with its stored API key. */
export function engineSpec(url: string): EngineSpec {
  const apiKey = EngineKeys.get(url);
  return { url, ...(apiKey ? { apiKey } : {}) };
}
