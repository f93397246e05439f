/**
 * The joint planner: one model per role (chat, FIM completion, embedding, rerank) chosen together so that all of
 * them fit one memory budget with their context windows, GPU first where there is one. Pure: the candidates come
 * with their estimates (`estimate.ts`), the machine with its budget (`machine.ts`).
 *
 * Every combination of the roles' candidates (at most {@link MAX_OPTIONS_PER_ROLE} per role, plus "none") is placed
 * — the FIM model first, because typing must never wait, then chat, embedding, rerank; each model on the GPU when
 * its weights and contexts fit what is left of the VRAM budget, else in RAM — and the one that fills the most roles
 * with the largest models wins. One model may serve chat and FIM (its weights are counted once).
 */
import type { FitVerdict, MachineProfile, ModelRole, PlanModel, PlanRole, SetupPlan } from "../../shared/protocol";
import type { ModelEstimate } from "../models/estimate";

/** A model the planner may choose, with what it can serve and its estimate. */
export interface Candidate {
  model: PlanModel;
  roles: ModelRole[];
  estimate: ModelEstimate;
  /** Parameter count (quality proxy); null when unknown. */
  parameters: number | null;
  /** Parameters active per token, for mixture-of-experts models (speed). */
  activeParameters?: number;
}

export interface PlanInput {
  machine: MachineProfile;
  budget: SetupPlan["budget"];
  candidates: Candidate[];
  contextSizes: Record<ModelRole, number>;
  catalog: SetupPlan["catalog"];
  /** Engines found running here (shown with the plan; they need no memory of this budget). */
  engines?: SetupPlan["engines"];
}

/** Roles in the order they are placed (the FIM model first: typing must never wait for a load). */
const PLACEMENT_ORDER: readonly ModelRole[] = ["completion", "nes", "chat", "embedding", "rerank"];
/** Rows in the order they are shown. */
const ROW_ORDER: readonly ModelRole[] = ["chat", "completion", "embedding", "rerank", "nes"];
/** Roles planned only where some candidate offers them (next-edit models are few; without one the row is left out). */
const OPTIONAL_ROLES: readonly ModelRole[] = ["nes"];
/** How much a larger model in each role counts against the others (filling a role counts far more). */
const ROLE_WEIGHT: Record<ModelRole, number> = { completion: 1, chat: 1, embedding: 0.5, rerank: 0.25, nes: 0.5 };
const FILLED_BONUS = 100;
/** Candidates tried per role (the largest ones); combinations stay under 9⁵. */
export const MAX_OPTIONS_PER_ROLE = 8;
/**
 * Without a GPU, the largest models (active parameters) worth running per role: a FIM model above ~2 B parameters
 * answers too slowly for typing on a laptop CPU (llama.vscode's CPU preset is 1.5 B), a chat model above ~9 B too
 * slowly to read.
 */
export const CPU_MAX_ACTIVE_PARAMETERS: Partial<Record<ModelRole, number>> = {
  completion: 2.1e9,
  nes: 2.1e9,
  chat: 9e9,
};

const GIB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;

/** Bytes a model takes when it serves `roles`: its weights once plus one context per role. */
function modelBytes(c: Candidate, roles: readonly ModelRole[]): number {
  return c.estimate.weightsBytes + roles.reduce((n, r) => n + (c.estimate.contextBytes[r] ?? 0), 0);
}

function quality(c: Candidate): number {
  return (
    Math.log2(Math.max(c.parameters ?? c.estimate.weightsBytes, 1e6) / 1e6) + (c.model.source === "local" ? 0.5 : 0)
  );
}

/** Whether the candidate may serve `role` on this machine (speed limits without a GPU). */
function allowed(c: Candidate, role: ModelRole, hasGpu: boolean): boolean {
  const cap = CPU_MAX_ACTIVE_PARAMETERS[role];
  const active = c.activeParameters ?? c.parameters;
  return hasGpu || cap === undefined || active === null || active <= cap;
}

interface Placed {
  rows: Map<ModelRole, { candidate: Candidate; placement: "gpu" | "cpu" }>;
  score: number;
  totalBytes: number;
}

/** Places one combination; undefined when it does not fit. */
function place(choice: Map<ModelRole, Candidate>, budget: PlanInput["budget"]): Placed | undefined {
  const models = new Map<Candidate, ModelRole[]>();
  for (const role of PLACEMENT_ORDER) {
    const c = choice.get(role);
    if (c) models.set(c, [...(models.get(c) ?? []), role]);
  }
  let vram = budget.vramBytes;
  let ram = budget.ramBytes;
  let score = 0;
  let total = 0;
  const rows: Placed["rows"] = new Map();
  for (const [c, roles] of models) {
    const bytes = modelBytes(c, roles);
    let placement: "gpu" | "cpu";
    if (bytes <= vram) {
      vram -= bytes;
      placement = "gpu";
    } else if (bytes <= ram) {
      ram -= bytes;
      placement = "cpu";
    } else return undefined;
    total += bytes;
    for (const role of roles) {
      rows.set(role, { candidate: c, placement });
      score += FILLED_BONUS + ROLE_WEIGHT[role] * quality(c) + (placement === "gpu" ? 0.01 : 0);
    }
  }
  return { rows, score: score - total / (1024 * GIB), totalBytes: total };
}

/** The verdict for `bytes` alone in the budget. */
function verdict(bytes: number, budget: PlanInput["budget"]): FitVerdict {
  if (bytes <= budget.vramBytes) return "fits";
  if (bytes <= budget.ramBytes) return budget.vramBytes > 0 ? "cpu-only" : "fits";
  return "too-large";
}

/**
 * The plan: one row per role (an optional role only when some candidate offers it), the totals, and a problem line for each role nothing fits (with what the user can
 * do). Never a plan over budget: a role that does not fit is left empty and said so.
 */
export function planRoles(input: PlanInput): SetupPlan {
  const { budget, candidates } = input;
  const hasGpu = budget.vramBytes > 0;
  const options = new Map<ModelRole, Candidate[]>();
  for (const role of ROW_ORDER) {
    const usable = candidates
      .filter((c) => c.roles.includes(role) && allowed(c, role, hasGpu))
      .filter((c) => modelBytes(c, [role]) <= budget.ramBytes + budget.vramBytes)
      .sort((a, b) => quality(b) - quality(a))
      .slice(0, MAX_OPTIONS_PER_ROLE);
    options.set(role, usable);
  }
  let best: Placed | undefined;
  const choice = new Map<ModelRole, Candidate>();
  const walk = (i: number) => {
    if (i === ROW_ORDER.length) {
      const placed = place(choice, budget);
      if (placed && (!best || placed.score > best.score)) best = placed;
      return;
    }
    const role = ROW_ORDER[i]!;
    for (const c of [...options.get(role)!, undefined]) {
      if (c) choice.set(role, c);
      else choice.delete(role);
      walk(i + 1);
    }
  };
  walk(0);
  const chosen = best ?? { rows: new Map(), score: 0, totalBytes: 0 };

  const counted = new Set<Candidate>();
  const problems: string[] = [];
  const shown = ROW_ORDER.filter(
    (role) => !OPTIONAL_ROLES.includes(role) || candidates.some((c) => c.roles.includes(role)),
  );
  const roles: PlanRole[] = shown.map((role) => {
    const row = chosen.rows.get(role);
    const contextSize = input.contextSizes[role];
    const alternatives = candidates
      .filter((c) => c.roles.includes(role) && c !== row?.candidate)
      .sort((a, b) => quality(b) - quality(a))
      .slice(0, 6)
      .map((c) => ({ model: c.model, bytes: modelBytes(c, [role]), verdict: verdict(modelBytes(c, [role]), budget) }));
    if (!row) {
      problems.push(cannotFit(role, candidates, budget, hasGpu));
      return {
        role,
        model: null,
        contextSize,
        estimate: { bytes: 0, weightsBytes: 0, contextBytes: 0, source: "gguf-header" },
        placement: "cpu",
        verdict: "too-large",
        alternatives,
      };
    }
    const c = row.candidate;
    const weightsBytes = counted.has(c) ? 0 : c.estimate.weightsBytes;
    counted.add(c);
    const contextBytes = c.estimate.contextBytes[role] ?? 0;
    const shared = ROW_ORDER.find((r) => r !== role && chosen.rows.get(r)?.candidate === c);
    return {
      role,
      model: c.model,
      contextSize,
      estimate: { bytes: weightsBytes + contextBytes, weightsBytes, contextBytes, source: c.estimate.source },
      placement: row.placement,
      verdict: row.placement === "gpu" || !hasGpu ? "fits" : "cpu-only",
      ...(shared ? { sharedWith: shared } : {}),
      alternatives,
    };
  });
  const downloads = new Set([...chosen.rows.values()].map((r) => r.candidate));
  return {
    machine: input.machine,
    budget,
    roles,
    totalBytes: chosen.totalBytes,
    downloadBytes: [...downloads].reduce((n, c) => n + c.model.downloadBytes, 0),
    problems,
    catalog: input.catalog,
    engines: input.engines ?? [],
  };
}

/** The sentence for a role nothing fits: the smallest candidate's need, the budget, and the options. */
function cannotFit(role: ModelRole, candidates: Candidate[], budget: PlanInput["budget"], hasGpu: boolean): string {
  const own = candidates.filter((c) => c.roles.includes(role));
  const options = `Options: run the ${role} role on an engine you already have (the 'hearth.engines.${role}' setting, or --engine-url), close other programs, or use a machine with more memory.`;
  if (!own.length)
    return `No ${role} model could be planned: the catalog's ${role} models' sizes could not be read (offline?) and none was found on this machine. Import a folder of GGUFs, or point the catalog at a mirror.`;
  const smallest = Math.min(...own.map((c) => modelBytes(c, [role])));
  const slow = !hasGpu && own.every((c) => !allowed(c, role, hasGpu));
  if (slow)
    return `Cannot fit a ${role} model fast enough without a GPU: every candidate is above ${(CPU_MAX_ACTIVE_PARAMETERS[role]! / 1e9).toFixed(1)} B parameters. ${options}`;
  return `Cannot fit a ${role} model: the smallest needs ${gib(smallest)} and the roles' budget is ${gib(budget.ramBytes + budget.vramBytes)} (${gib(budget.reserveBytes)} left for the system and the editor). ${options}`;
}
