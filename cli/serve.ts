import type { ModelRoles, ModelRoleSpec } from "../common/models/ModelRoles";
import { HearthServer } from "../common/serve/HearthServer";
import { HearthError } from "../shared/errors";
import type { SidecarProcess } from "../common/sidecar/SidecarProcess";
import type { ModelInfo, ModelRole } from "../shared/protocol";
import { terminalSafe } from "./terminal";

/** What `hearth serve` was asked for. */
export interface ServeCliOptions {
  host: string;
  port: number;
  apiKey?: string;
  cors?: string;
  /** The name the chat model is listed and answered under (llama-server's `--alias`). */
  alias?: string;
  /** Leave old turns out of a chat over the window instead of answering 400. */
  trimHistory?: boolean;
  /** Tokens a request generates at most when it sets no limit (llama-server's `--n-predict`). */
  defaultMaxTokens?: number;
  maxQueue: number;
  logJson: boolean;
  /** The spec of each role to load, in load order. */
  roles: Array<[ModelRole, ModelRoleSpec]>;
  /** How long SIGINT/SIGTERM waits for requests in flight before the models are unloaded, ms. */
  drainMs?: number;
}

/**
 * `hearth serve`: start the HTTP server at once (`/health` answers 503 while the models load), load each role's
 * model, then serve until SIGINT or SIGTERM, which stop new connections, let the requests in flight finish
 * (at most `drainMs`), unload the models and end.
 * @returns the exit code: 0 after a signal, 1 when a model does not load or the address cannot be bound.
 */
export async function runServe(sidecar: SidecarProcess, roles: ModelRoles, options: ServeCliOptions): Promise<number> {
  const say = (line: string) => process.stderr.write(`hearth serve: ${terminalSafe(line)}\n`);
  let loading = true;
  const models = (): Partial<Record<ModelRole, ModelInfo>> => {
    const out: Partial<Record<ModelRole, ModelInfo>> = {};
    for (const [role] of options.roles) {
      const info = roles.info(role);
      if (info) out[role] = info;
    }
    return out;
  };
  let server: HearthServer;
  try {
    server = new HearthServer({
      api: sidecar,
      models,
      // Starting up, or a role not (yet) back after a sidecar crash (ModelRoles reloads it): /health says 503 with
      // Retry-After, and requests to the role wait for it, instead of a 200 and "no such model" (404).
      loading: () => loading || options.roles.some(([role]) => roles.info(role) === undefined),
      host: options.host,
      port: options.port,
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      ...(options.cors ? { cors: options.cors } : {}),
      ...(options.alias ? { alias: options.alias } : {}),
      ...(options.trimHistory ? { trimHistory: true } : {}),
      ...(options.defaultMaxTokens ? { defaultMaxTokens: options.defaultMaxTokens } : {}),
      maxQueue: options.maxQueue,
      logJson: options.logJson,
      onError: (line) => say(line),
    });
  } catch (error) {
    say((error as Error).message);
    return 1;
  }
  let url: string;
  try {
    url = await server.listen();
  } catch (error) {
    say(`cannot listen on ${options.host}:${options.port} (${(error as Error).message}).`);
    return 1;
  }
  say(`listening on ${url}; loading ${options.roles.map(([r]) => r).join(", ")}…`);

  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = (signal: string) => {
    say(`${signal}: draining the requests in flight, then unloading.`);
    stop();
  };
  process.once("SIGINT", () => onSignal("SIGINT"));
  process.once("SIGTERM", () => onSignal("SIGTERM"));

  try {
    for (const [role, spec] of options.roles) {
      const info = await roles.ensure(role, spec, { retryCrashed: true });
      say(
        `${role}: ${info.name} (context ${info.contextSize}${info.engine ? `, on ${info.engine.kind} at ${info.engine.url}` : ""})`,
      );
    }
  } catch (error) {
    say(`a model did not load: ${HearthError.from(error).userMessage}`);
    await server.close();
    return 1;
  }
  loading = false;
  say(`ready at ${url} (OpenAI: ${url}/v1, llama.cpp: ${url}/infill, Ollama: ${url}/api; metrics: ${url}/metrics)`);
  await stopped;
  const drained = await Promise.race([
    server.close().then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), options.drainMs ?? 30_000).unref()),
  ]);
  if (!drained) say("requests were still running after the drain time; closing anyway.");
  return 0;
}
