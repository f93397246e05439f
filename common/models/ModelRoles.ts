import { ErrorCodes, type ModelInfo, type ModelLoadParams, type ModelRole } from "../../shared/protocol";
import { HearthError } from "../../shared/errors";
import type { Disposable, SidecarApi } from "../sidecar/SidecarApi";

/** What a role should run: `model/load`'s params without the role and the progress tag. */
export type ModelRoleSpec = Omit<ModelLoadParams, "role" | "progressId">;

/** Per-call options of {@link ModelRoles.ensure}. */
export interface EnsureOptions {
  /** Tag for the sidecar's `model/progress` notifications of this load. */
  progressId?: string;
  /** Aborts the load (`$/cancelRequest`); the role is then left as it was before. */
  signal?: AbortSignal;
  /**
   * Load even a model file that crashed the sidecar before: for a load the user asked for (Select Chat Model,
   * `/model`), not for the automatic ones (a message, a keystroke, a search), which would crash it again.
   */
  retryCrashed?: boolean;
}

interface RoleState {
  key: string;
  spec: ModelRoleSpec;
  info?: ModelInfo;
  pending?: Promise<ModelInfo>;
}

/**
 * The one owner of model roles (chat, completion, embedding, rerank) on a client: it knows which model each
 * role should run, loads it once per spec (concurrent callers share one load; another spec replaces it), and
 * after a sidecar restart — whose new process holds no model — loads again what the old one had. The extension
 * and the CLI each make one; features ask it for their role instead of sending `model/load` themselves.
 */
export class ModelRoles {
  private readonly roles = new Map<ModelRole, RoleState>();
  /** Specs that had loaded in a sidecar that has since stopped. */
  private readonly lost = new Map<ModelRole, ModelRoleSpec>();
  /** Model URIs whose load killed the sidecar (a llama.cpp abort), with the error to give for them. */
  private readonly crashed = new Map<string, HearthError>();

  private readonly listeners = new Set<(role: ModelRole) => void>();

  constructor(private readonly api: SidecarApi) {}

  /** Calls `listener` whenever a role's model changes (loaded, unloaded, or lost with the sidecar). */
  onChange(listener: (role: ModelRole) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private changed(role: ModelRole): void {
    for (const listener of this.listeners) listener(role);
  }

  /** The model `role` runs now, if it has finished loading. */
  info(role: ModelRole): ModelInfo | undefined {
    return this.roles.get(role)?.info;
  }

  /** The spec `role` was last asked to run (loaded or not), e.g. to name it in a message. */
  spec(role: ModelRole): ModelRoleSpec | undefined {
    return this.roles.get(role)?.spec;
  }

  /**
   * Make `role` run `spec`: resolves at once when that spec is loaded, joins a load of it under way, else loads
   * it (replacing the role's model in the sidecar).
   * @throws HearthError from `model/load` (ModelNotFound, ModelNotGguf, ModelCorrupt, ModelTooLarge, Cancelled…);
   *   the role then keeps no model, and the next call tries again.
   */
  ensure(role: ModelRole, spec: ModelRoleSpec, options: EnsureOptions = {}): Promise<ModelInfo> {
    const key = JSON.stringify(spec);
    const state = this.roles.get(role);
    if (state?.key === key) {
      if (state.info) return Promise.resolve(state.info);
      if (state.pending) return state.pending;
    }
    const crash = this.crashed.get(spec.model.uri);
    if (crash && !options.retryCrashed) return Promise.reject(crash);
    this.crashed.delete(spec.model.uri);
    const next: RoleState = { key, spec };
    const pending = this.api
      .request(
        "model/load",
        { role, ...spec, ...(options.progressId ? { progressId: options.progressId } : {}) },
        options.signal,
      )
      .then(
        (info) => {
          if (this.roles.get(role) === next) {
            next.info = info;
            this.changed(role);
          }
          return info;
        },
        (error: unknown) => {
          if (this.roles.get(role) === next) next.pending = undefined;
          const e = HearthError.from(error);
          // Only a GGUF loaded into the sidecar's llama.cpp can crash it; a remote engine's load cannot.
          if (e.code !== ErrorCodes.SidecarExited || spec.model.engine) throw error;
          // The process died while loading this file: llama.cpp aborted on it. Say so, and never load it again
          // on our own — the next message or keystroke would crash the sidecar again, until the restarts run out.
          // (A sidecar killed for another reason mid-load, OOM or a restart, marks the file too: SidecarExited
          // cannot tell them apart. The cost is one explicit selection to retry it.)
          const name = spec.model.uri.split(/[\\/]/).pop() ?? spec.model.uri;
          const crashed = new HearthError(
            ErrorCodes.ModelCorrupt,
            `${name} crashed llama.cpp while loading (the sidecar was restarted); Hearth will not load it again on its own.`,
            "Pick another model file, or select this one again to retry.",
          );
          this.crashed.set(spec.model.uri, crashed);
          throw crashed;
        },
      );
    next.pending = pending;
    this.roles.set(role, next);
    return pending;
  }

  /** Unload `role` in the sidecar (a no-op there when it has none) and forget its spec. */
  async unload(role: ModelRole): Promise<void> {
    this.roles.delete(role);
    this.lost.delete(role);
    await this.api.request("model/unload", { role });
    this.changed(role);
  }

  /**
   * The sidecar stopped, or said it has no model for `role`: it holds none (for that role, or at all). The
   * specs are kept for {@link restarted}, and the next {@link ensure} of a role loads it again.
   */
  forget(role?: ModelRole): void {
    const roles = role ? [role] : [...this.roles.keys()];
    for (const r of roles) {
      const state = this.roles.get(r);
      // A load in flight is left alone: it was sent to the sidecar that is there now (a status "idle" from its
      // start-up can arrive after the load began), and if that sidecar dies the load fails by itself.
      if (!state || (state.pending && !state.info)) continue;
      if (state.info) this.lost.set(r, state.spec);
      this.roles.delete(r);
      this.changed(r);
    }
  }

  /**
   * A new sidecar process is up and holds no model: load again, one at a time, every spec that had loaded
   * (before {@link forget} too). Resolves when all are done; a role that fails is left empty and reported
   * through `onError`.
   */
  async restarted(onError: (role: ModelRole, error: unknown) => void): Promise<void> {
    this.forget();
    const had = [...this.lost];
    this.lost.clear();
    for (const [role, spec] of had) await this.ensure(role, spec).catch((e: unknown) => onError(role, e));
  }
}
