/**
 * The joint planner on fixed machine profiles. The candidates are the shipped catalog's entries with estimates made
 * the planner's fallback way (parameters × bits per weight, contexts at 10 %), so the figures are the catalog's own
 * shapes — what a user of each machine would be offered before a header is read.
 */
import { describe, expect, it } from "vitest";
import { shippedCatalog } from "../../sidecar/setup/catalog";
import { estimateFromParameters } from "../../sidecar/models/estimate";
import { memoryBudget } from "../../sidecar/engines/machine";
import { planRoles, type Candidate } from "../../sidecar/setup/planner";
import type { MachineProfile, ModelRole, SetupPlan } from "../../shared/protocol";

const GIB = 1024 ** 3;
const CONTEXTS: Record<ModelRole, number> = { chat: 4096, completion: 2048, embedding: 1024, rerank: 1024, nes: 4096 };

/** The shipped catalog as candidates; entries without a parameter count get the sizes of their real files' class. */
function catalogCandidates(): Candidate[] {
  return shippedCatalog().models.map((m) => {
    // bge-small (33 M) and jina-reranker tiny (33 M) have no parameter count in the catalog (not in their names).
    const parameters = m.parameters ?? 33e6;
    const estimate = estimateFromParameters(parameters, m.quantization, m.roles)!;
    return {
      model: { id: m.id, name: m.name, uri: m.uri, source: "catalog", downloadBytes: estimate.weightsBytes },
      roles: m.roles,
      estimate,
      parameters,
      ...(m.activeParameters ? { activeParameters: m.activeParameters } : {}),
    };
  });
}

function machine(ramGib: number, vramGib = 0): MachineProfile {
  return {
    ramTotalBytes: ramGib * GIB,
    ramFreeBytes: ramGib * GIB,
    gpu: vramGib ? { type: "cuda", vramTotalBytes: vramGib * GIB, vramFreeBytes: vramGib * GIB } : null,
    cpuCores: 8,
    overridden: true,
  };
}

function plan(ramGib: number, vramGib = 0): SetupPlan {
  const m = machine(ramGib, vramGib);
  return planRoles({
    machine: m,
    budget: memoryBudget(m),
    candidates: catalogCandidates(),
    contextSizes: CONTEXTS,
    catalog: { source: "test", entries: 15, unknownFacts: [] },
  });
}

/** Sums per placement never exceed the budget's pool. */
function expectWithinBudget(p: SetupPlan): void {
  const gpu = p.roles.filter((r) => r.placement === "gpu").reduce((n, r) => n + r.estimate.bytes, 0);
  const cpu = p.roles.filter((r) => r.model && r.placement === "cpu").reduce((n, r) => n + r.estimate.bytes, 0);
  expect(gpu).toBeLessThanOrEqual(p.budget.vramBytes);
  expect(cpu).toBeLessThanOrEqual(p.budget.ramBytes);
  expect(p.totalBytes).toBe(gpu + cpu);
}

const chosen = (p: SetupPlan) => Object.fromEntries(p.roles.map((r) => [r.role, r.model?.id ?? null]));

describe("joint planner", () => {
  it("8 GiB, no GPU: every role filled on the CPU, a FIM model small enough for typing", () => {
    const p = plan(8);
    expectWithinBudget(p);
    expect(p.problems).toEqual([]);
    expect(p.roles.every((r) => r.model && r.placement === "cpu" && r.verdict === "fits")).toBe(true);
    expect(["qwen2.5-coder-0.5b-q8_0", "qwen2.5-coder-1.5b-q8_0"]).toContain(chosen(p)["completion"]);
    console.info(`planner: 8 GiB: ${JSON.stringify(chosen(p))}, ${(p.totalBytes / GIB).toFixed(2)} GiB`);
  });

  it("16 GiB + 6 GiB VRAM: the FIM model goes to the GPU first, the rest where it fits", () => {
    const p = plan(16, 6);
    expectWithinBudget(p);
    expect(p.problems).toEqual([]);
    expect(p.roles.find((r) => r.role === "completion")!.placement).toBe("gpu");
    console.info(`planner: 16+6 GiB: ${JSON.stringify(chosen(p))}, ${(p.totalBytes / GIB).toFixed(2)} GiB`);
  });

  it("32 GiB + 24 GiB VRAM: larger models than on 8 GiB, all within the budget", () => {
    const big = plan(32, 24);
    const small = plan(8);
    expectWithinBudget(big);
    const params = (p: SetupPlan, role: ModelRole) =>
      shippedCatalog().models.find((m) => m.id === p.roles.find((r) => r.role === role)!.model!.id)!.parameters!;
    expect(params(big, "chat")).toBeGreaterThan(params(small, "chat"));
    expect(params(big, "completion")).toBeGreaterThan(params(small, "completion"));
    console.info(`planner: 32+24 GiB: ${JSON.stringify(chosen(big))}, ${(big.totalBytes / GIB).toFixed(2)} GiB`);
  });

  it("4 GiB: the smallest models, still every role but next-edit (the extra one, left out first)", () => {
    const p = plan(4);
    expectWithinBudget(p);
    expect(p.roles.filter((r) => !r.model).map((r) => r.role)).toEqual(["nes"]);
    console.info(`planner: 4 GiB: ${JSON.stringify(chosen(p))}, ${(p.totalBytes / GIB).toFixed(2)} GiB`);
  });

  it("a machine too small says what cannot fit and the options, instead of a plan that would crash", () => {
    const p = plan(2.6);
    expectWithinBudget(p);
    expect(p.roles.some((r) => !r.model)).toBe(true);
    expect(p.problems.length).toBeGreaterThan(0);
    expect(p.problems[0]).toMatch(
      /Cannot fit a (chat|completion) model: the smallest needs [\d.]+ GiB and the roles' budget is [\d.]+ GiB/,
    );
    expect(p.problems[0]).toMatch(/Options: run the \w+ role on an engine you already have/);
  });

  it("one model serves chat and FIM when that fits better, with its weights counted once", () => {
    const only = catalogCandidates().filter(
      (c) => c.model.id === "qwen3-coder-30b-a3b-instruct-q8_0" || !c.roles.includes("chat"),
    );
    const m = machine(64, 48);
    const p = planRoles({
      machine: m,
      budget: memoryBudget(m),
      candidates: only,
      contextSizes: CONTEXTS,
      catalog: { source: "t", entries: 1, unknownFacts: [] },
    });
    const chat = p.roles.find((r) => r.role === "chat")!;
    const fim = p.roles.find((r) => r.role === "completion")!;
    expect(chat.model!.id).toBe("qwen3-coder-30b-a3b-instruct-q8_0");
    expect(fim.model!.id).toBe(chat.model!.id);
    expect(chat.sharedWith).toBe("completion");
    expect(chat.estimate.weightsBytes > 0 !== fim.estimate.weightsBytes > 0).toBe(true);
    expectWithinBudget(p);
  });
});
