/**
 * *Hearth: Set Up Models* — the first-run flow in VS Code (also the walkthrough's first step and the empty chat's
 * button): plan one model per role for this machine (`setup/plan`), let the user change any role, download each file
 * with a cancellable progress notification (bytes, speed, ETA; resumed when interrupted; sha256 verified), make one
 * tiny call of each role, and write the `hearth.models.*` settings (user settings).
 */
import * as vscode from "vscode";
import type { RoleCheck } from "../../common/models/checkRoles";
import { downloadParams, plannedModels, smokeTestPlan } from "../../common/models/setupFlow";
import { HearthError } from "../../shared/errors";
import type { FitVerdict, PlanModel, PlanRole, SetupPlan } from "../../shared/protocol";
import type { CommandContext } from "../commandContext";
import { readConfig } from "../config";

/** Arguments the command takes (the tests and the walkthrough pass them; the palette passes none). */
export interface SetupModelsOptions {
  /** Skip the review of the plan and set it up as planned. */
  yes?: boolean;
  /** The catalog (URL or file) instead of `hearth.setup.catalog`'s. */
  catalog?: string;
}

/** What the flow did: the plan, each role's check, and the settings written. */
export interface SetupOutcome {
  plan?: SetupPlan;
  checks: RoleCheck[];
  written: Partial<Record<string, string>>;
  cancelled?: boolean;
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const gib = (n: number) => `${(n / GIB).toFixed(2)} GiB`;
const mib = (n: number) => `${Math.ceil(n / MIB).toLocaleString("en")} MiB`;
const VERDICT: Record<FitVerdict, string> = { fits: "fits", "cpu-only": "fits on CPU only", "too-large": "too large" };

/** Runs the flow. Never throws: a failure is shown (with the log one click away) and returned as no settings. */
export async function setupModels(c: CommandContext, options: SetupModelsOptions = {}): Promise<SetupOutcome> {
  try {
    await c.sidecar.start();
    const cfg = readConfig();
    const catalog = options.catalog ?? (cfg.models.catalog || undefined);
    const plan = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Hearth: planning models for this machine…" },
      () =>
        c.sidecar.request("setup/plan", {
          ...(catalog ? { catalog } : {}),
          ...(cfg.models.folder ? { folders: [cfg.models.folder] } : {}),
        }),
    );
    for (const problem of plan.problems) c.log.warn(`Set Up Models: ${problem}`);
    for (const e of plan.engines)
      c.log.info(
        `Set Up Models: ${e.kind} is running at ${e.url} (${e.models.map((m) => m.id).join(", ")}); a role can use it instead of a download: set hearth.engines.<role> to its URL.`,
      );
    const reviewed = options.yes ? plan : await review(plan);
    if (!reviewed) return { plan, checks: [], written: {}, cancelled: true };
    const paths = await downloadAll(c, reviewed);
    if (!paths) return { plan: reviewed, checks: [], written: {}, cancelled: true };
    const { checks, models } = await smokeTestPlan(c.sidecar, c.roles, reviewed, paths);
    const config = vscode.workspace.getConfiguration("hearth");
    const written: Record<string, string> = {};
    for (const [role, file] of Object.entries(models)) {
      await config.update(`models.${role}`, file, vscode.ConfigurationTarget.Global);
      written[`hearth.models.${role}`] = file;
    }
    for (const k of checks) (k.ok ? c.log.info : c.log.error).call(c.log, `Set Up Models: ${k.role} ${k.line}`);
    const broken = checks.filter((k) => !k.ok);
    void (broken.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage)(
      broken.length
        ? `Hearth: set up ${checks.length - broken.length} of ${checks.length} roles; ${broken.map((k) => `${k.role} ${k.line}`).join(" · ")}`
        : `Hearth: ${checks.map((k) => k.role).join(", ")} set up and working.`,
      "Open Chat",
    ).then((choice) => choice && c.provider()?.reveal());
    return { plan: reviewed, checks, written };
  } catch (error) {
    const e = HearthError.from(error);
    c.log.error(`Set Up Models: ${e.message}`);
    void vscode.window.showErrorMessage(`Hearth: ${e.userMessage}`, "Show Log").then((x) => x && c.log.show());
    return { checks: [], written: {} };
  }
}

/** One line of a role's row in the review. */
function describeRole(r: PlanRole): string {
  if (!r.model) return "nothing fits (see the log for options)";
  const download = r.model.source === "local" ? "on this machine" : `download ${mib(r.model.downloadBytes)}`;
  const shared = r.sharedWith ? ` · same model as ${r.sharedWith}` : "";
  return `${download} · memory ${gib(r.estimate.bytes)} · ${r.placement === "gpu" ? "GPU" : "CPU"}, ${VERDICT[r.verdict]}${shared}`;
}

/**
 * Shows the plan as a quick pick: the first item sets it up, each role's item offers its alternatives. Loops until
 * the user sets up or dismisses. @returns the plan as changed, or undefined when dismissed.
 */
async function review(plan: SetupPlan): Promise<SetupPlan | undefined> {
  let current = plan;
  for (let round = 0; round < 50; round++) {
    type Item = vscode.QuickPickItem & { role?: PlanRole; engine?: boolean };
    const go: Item = {
      label: `$(cloud-download) Set up these models (${mib(current.downloadBytes)} to download, ${gib(current.totalBytes)} of memory)`,
    };
    const items: Item[] = [
      go,
      { label: "", kind: vscode.QuickPickItemKind.Separator },
      ...current.roles.map((r) => ({
        label: `${r.role}: ${r.model?.name ?? "none"}`,
        description: describeRole(r),
        detail: r.alternatives.length ? "Pick to choose another model for this role" : undefined,
        role: r,
      })),
      ...(current.engines.length
        ? [
            { label: "Already running on this machine", kind: vscode.QuickPickItemKind.Separator },
            ...current.engines.map((e) => ({
              label: `$(server) ${e.kind} at ${e.url}`,
              description: e.models.map((m) => m.id).join(", "),
              detail: "Pick to point a role at it instead of downloading (the hearth.engines.* settings)",
              engine: true,
            })),
          ]
        : []),
    ];
    const budget = `${gib(current.budget.ramBytes)} RAM${current.budget.vramBytes ? ` + ${gib(current.budget.vramBytes)} VRAM` : ""}`;
    const picked = await vscode.window.showQuickPick(items, {
      title: `Hearth: models for this machine (budget ${budget})`,
      placeHolder: current.problems[0] ?? "Review the plan, change a role, or set it up",
      ignoreFocusOut: true,
    });
    if (!picked) return undefined;
    if (picked === go) return current;
    if (picked.engine) {
      await vscode.commands.executeCommand("workbench.action.openSettings", "hearth.engines");
      return undefined;
    }
    if (!picked.role?.alternatives.length) continue;
    const role = picked.role;
    const alternative = await vscode.window.showQuickPick(
      role.alternatives.map((a) => ({
        label: a.model.name,
        description: `${a.model.source === "local" ? "on this machine" : `download ${mib(a.model.downloadBytes)}`} · memory ${gib(a.bytes)} · ${VERDICT[a.verdict]}`,
        model: a.model,
        bytes: a.bytes,
        verdict: a.verdict,
      })),
      { title: `Hearth: ${role.role} model`, ignoreFocusOut: true },
    );
    if (alternative) current = replaceRole(current, role, alternative.model, alternative.bytes, alternative.verdict);
  }
  return current;
}

/** The plan with `role` served by `model` instead (alone in its estimate; the old model goes to the alternatives). */
function replaceRole(plan: SetupPlan, role: PlanRole, model: PlanModel, bytes: number, verdict: FitVerdict): SetupPlan {
  const roles = plan.roles.map((r) => {
    if (r.role !== role.role) return r.sharedWith === role.role ? { ...r, sharedWith: undefined } : r;
    const { sharedWith: _shared, ...rest } = r;
    return {
      ...rest,
      model,
      estimate: { ...r.estimate, bytes, weightsBytes: bytes, contextBytes: 0 },
      verdict,
      placement: verdict === "fits" && plan.budget.vramBytes > 0 ? ("gpu" as const) : ("cpu" as const),
      alternatives: [
        ...(r.model ? [{ model: r.model, bytes: r.estimate.bytes, verdict: r.verdict }] : []),
        ...r.alternatives.filter((a) => a.model.id !== model.id),
      ],
    };
  });
  const models = new Map(roles.filter((r) => r.model).map((r) => [r.model!.id, r.model!]));
  return {
    ...plan,
    roles,
    totalBytes: roles.reduce((n, r) => n + r.estimate.bytes, 0),
    downloadBytes: [...models.values()].reduce((n, m) => n + m.downloadBytes, 0),
  };
}

/**
 * Downloads each distinct catalog model, one cancellable notification per file. @returns id → local path, or
 * undefined when the user cancelled (a partial file is kept, so the next run resumes it).
 * @throws HearthError from `model/download` (DiskFull, DownloadFailed, ChecksumMismatch).
 */
async function downloadAll(c: CommandContext, plan: SetupPlan): Promise<Map<string, string> | undefined> {
  const paths = new Map<string, string>();
  for (const model of plannedModels(plan)) {
    if (model.source === "local") {
      paths.set(model.id, model.uri);
      continue;
    }
    const progressId = `setup-${model.id}-${Date.now()}`;
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Hearth: downloading ${model.name}`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        const onCancel = token.onCancellationRequested(() => abort.abort());
        const started = Date.now();
        let reported = 0;
        const sub = c.sidecar.onNotification("model/progress", (p) => {
          if (p.progressId !== progressId || !p.totalBytes) return;
          const done = p.downloadedBytes ?? 0;
          const speed = done / Math.max(0.001, (Date.now() - started) / 1000);
          const eta = speed > 0 ? Math.ceil((p.totalBytes - done) / speed) : 0;
          const pct = (done / p.totalBytes) * 100;
          progress.report({
            increment: Math.max(0, pct - reported),
            message: `${mib(done)} / ${mib(p.totalBytes)} · ${(speed / MIB).toFixed(1)} MiB/s · ${eta} s left`,
          });
          reported = Math.max(reported, pct);
        });
        try {
          return await c.sidecar.request("model/download", downloadParams(model, progressId), abort.signal);
        } catch (error) {
          if (abort.signal.aborted) return undefined;
          throw error;
        } finally {
          sub.dispose();
          onCancel.dispose();
        }
      },
    );
    if (!result) return undefined;
    c.log.info(
      `Set Up Models: ${model.name} → ${result.path} (${mib(result.sizeBytes)}, sha256 ${result.sha256}, verified against ${result.verifiedAgainst})`,
    );
    paths.set(model.id, result.path);
  }
  return paths;
}
