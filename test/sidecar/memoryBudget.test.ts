/**
 * The run-time memory budget (issue 30): when the configured roles do not fit together, the sidecar keeps the FIM
 * model loaded, unloads the least recently used other role and loads it again on its next request. Real sidecar,
 * real models (the lab FIM, embedding and reranker models, stories260K for chat), a budget given at init.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { ErrorCodes, type ModelLoadParams, type ModelRole, type RuntimeStatsResult } from "../../shared/protocol";
import { errorOf, spawnSidecar } from "./helpers";
import { labModel, testModel } from "../testModels";

const loads = async (): Promise<ModelLoadParams[]> => [
  { role: "completion", model: { uri: labModel("code") }, contextSize: 512 },
  { role: "chat", model: { uri: await testModel("stories260K") }, contextSize: 512 },
  { role: "embedding", model: { uri: labModel("embedding") }, contextSize: 512 },
  { role: "rerank", model: { uri: labModel("reranker") }, contextSize: 512 },
];

let sidecar: SidecarProcess | undefined;

const chat = (s: SidecarProcess) =>
  s.request("chat/send", {
    streamId: "b",
    messages: [{ role: "user", content: "Once upon a time" }],
    params: { maxTokens: 4 },
  });
afterEach(async () => {
  await sidecar?.stop();
  sidecar = undefined;
});

/** Each role's estimated bytes (weights + context), as the sidecar reports them. */
async function estimates(): Promise<Record<ModelRole, number>> {
  ({ sidecar } = await spawnSidecar({}, { memoryBudgetBytes: 64 * 1024 ** 3 }));
  for (const params of await loads()) await sidecar.request("model/load", params);
  const stats = await sidecar.request("runtime/stats", {});
  expect(stats.memory.evictions).toBe(0);
  await sidecar.stop();
  sidecar = undefined;
  return Object.fromEntries(
    stats.models.map((m) => [m.role, m.memory!.weightsBytes + m.memory!.contextBytes]),
  ) as Record<ModelRole, number>;
}

describe("memory budget at run time", () => {
  it("keeps the FIM model, unloads the least recently used role and loads it again on its next request", async () => {
    const bytes = await estimates();
    // Room for the FIM model and the largest other role, not for two others.
    const others = [bytes.chat, bytes.embedding, bytes.rerank];
    const budget = bytes.completion + Math.max(...others) + Math.min(...others) / 2;
    let logs: Array<{ type: number; message: string }>;
    ({ sidecar, logs } = await spawnSidecar({}, { memoryBudgetBytes: budget }));
    const statuses: string[] = [];
    sidecar.onNotification("sidecar/status", (s) => statuses.push(s.message ?? ""));
    // A request for a role with no model holds nothing: chat can still be unloaded to fit once it is loaded.
    expect((await errorOf(chat(sidecar))).code).toBe(ErrorCodes.NoModelLoaded);
    for (const params of await loads()) await sidecar.request("model/load", params);
    let stats: RuntimeStatsResult = await sidecar.request("runtime/stats", {});
    expect(stats.memory.budgetBytes).toBe(budget);
    expect(stats.memory.usedBytes).toBeLessThanOrEqual(budget);
    // Loading embedding unloaded chat (the least recently used other role); loading rerank then unloaded embedding.
    expect(stats.memory.evicted.sort()).toEqual(["chat", "embedding"]);
    expect(stats.models.map((m) => m.role).sort()).toEqual(["completion", "rerank"]);
    expect(logs.filter((l) => /do not all fit this machine's memory budget/.test(l.message))).toHaveLength(1);
    // The status (the status bar's tooltip) lists each role's memory and placement, and what was unloaded.
    expect(statuses.at(-1)).toMatch(/completion: hearth-lab-code-fim\.gguf \(~\d+ MiB, CPU\)/);
    expect(statuses.at(-1)).toMatch(/unloaded to fit memory, loaded when asked for: chat, embedding/);

    // A request for an unloaded role loads it again and answers; the FIM model is never the one unloaded.
    const answer = await chat(sidecar);
    expect(answer.usage.completionTokens).toBeGreaterThan(0);
    const embed = await sidecar.request("embedding/embed", { texts: ["parse the config"] });
    expect(embed.vectors[0]!.length).toBeGreaterThan(0);
    const fim = await sidecar.request("completion/infill", { prefix: "def add(a, b):\n    return ", suffix: "\n" });
    expect(fim.usage.promptTokens).toBeGreaterThan(0);
    stats = await sidecar.request("runtime/stats", {});
    expect(stats.memory.reloads).toBe(2);
    expect(stats.models.some((m) => m.role === "completion")).toBe(true);
    expect(stats.memory.evicted).not.toContain("completion");
    expect(stats.memory.usedBytes).toBeLessThanOrEqual(budget);

    // Unloading a role by request forgets it: it does not come back.
    await sidecar.request("model/unload", { role: "rerank" });
    const evictedRole = (await sidecar.request("runtime/stats", {})).memory.evicted[0]!;
    await sidecar.request("model/unload", { role: evictedRole });
    expect((await sidecar.request("runtime/stats", {})).memory.evicted).not.toContain(evictedRole);
  }, 120_000);
});
