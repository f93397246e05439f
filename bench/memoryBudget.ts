/**
 * `npm run bench:budget` — what the run-time memory budget costs: the four roles on the SYNTHETIC real-size models
 * (FIM: DeepSeek-Coder-1.3B shape, 6 blocks; chat: Qwen2.5-Coder-1.5B shape; bge-small embedding; BERT-base
 * reranker) with a budget that holds the FIM model and chat but not also embedding and rerank, then a scripted
 * session of three rounds — type (10 FIM requests), ask (one chat answer of 8 tokens), search (one query embedding
 * and a rerank of 5 chunks) — counting the reloads it causes and the time they take, against the same session with
 * a budget that holds everything. Prints figures; asserts nothing.
 *
 *   npm run bench:budget [-- --threads 1 --rounds 3]
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { ModelLoadParams } from "../shared/protocol";
import { buildRealSizeModel, llamaVocabDir, startBenchSidecar } from "./realSizeModels";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: { threads: { type: "string", default: "1" }, rounds: { type: "string", default: "3" } },
});
const MIB = 2 ** 20;
const vocabDir = llamaVocabDir(root, path.join(root, ".cache"));
const outDir = path.join(root, ".cache", "real-size");
const file = (m: Parameters<typeof buildRealSizeModel>[0]) => buildRealSizeModel(m, { vocabDir, outDir });
const loads: ModelLoadParams[] = [
  { role: "completion", model: { uri: await file("deepseek-coder-1.3b") }, contextSize: 2048 },
  { role: "chat", model: { uri: await file("qwen2.5-coder-1.5b") }, contextSize: 4096 },
  { role: "embedding", model: { uri: await file("bge-small") }, contextSize: 1024 },
  { role: "rerank", model: { uri: await file("bge-reranker") }, contextSize: 1024 },
];
const CODE = "export function add(a: number, b: number): number {\n  return a + b;\n}\n";

async function session(budget: number): Promise<{ ms: number; reloads: number; evictions: number; used: number }> {
  const sidecar = await startBenchSidecar(root, Number(values.threads), { memoryBudgetBytes: budget });
  try {
    for (const params of loads) await sidecar.request("model/load", params);
    const started = performance.now();
    for (let round = 0; round < Number(values.rounds); round++) {
      for (let i = 0; i < 10; i++)
        await sidecar.request("completion/infill", {
          prefix: CODE.repeat(4) + `const x${i} = `,
          suffix: ";\n",
          maxTokens: 4,
        });
      await sidecar.request("chat/send", {
        streamId: `ask-${round}`,
        messages: [{ role: "user", content: "What does add do?" }],
        params: { maxTokens: 8 },
      });
      await sidecar.request("embedding/embed", { texts: ["where are numbers added"], kind: "query" });
      await sidecar.request("rerank/score", { query: "where are numbers added", documents: Array(5).fill(CODE) });
    }
    const ms = performance.now() - started;
    const { memory } = await sidecar.request("runtime/stats", {});
    return { ms, reloads: memory.reloads, evictions: memory.evictions, used: memory.usedBytes };
  } finally {
    await sidecar.stop();
  }
}

// The roles' estimates, from a sidecar whose budget holds them all.
const probe = await startBenchSidecar(root, 1);
const bytes: Record<string, number> = {};
for (const params of loads) {
  const info = await probe.request("model/load", params);
  bytes[params.role] = info.memory!.weightsBytes + info.memory!.contextBytes;
}
await probe.stop();
const all = Object.values(bytes).reduce((n, b) => n + b, 0);
const tight = bytes["completion"]! + bytes["chat"]! + 32 * MIB;
const roomy = await session(all * 2);
const budgeted = await session(tight);
const row = (name: string, budget: number, r: typeof roomy) =>
  `${name.padEnd(32)} budget ${(budget / MIB).toFixed(0).padStart(5)} MiB  reloads ${String(r.reloads).padStart(2)}  ` +
  `unloads ${String(r.evictions).padStart(2)}  session ${(r.ms / 1000).toFixed(1).padStart(6)} s`;
process.stdout.write(
  `Roles' estimates: ${Object.entries(bytes)
    .map(([r, b]) => `${r} ${(b / MIB).toFixed(0)} MiB`)
    .join(", ")}\n` +
    `${row("all roles fit", all * 2, roomy)}\n${row("FIM + chat fit, not the rest", tight, budgeted)}\n` +
    `Reload cost: ${((budgeted.ms - roomy.ms) / Math.max(1, budgeted.reloads)).toFixed(0)} ms a reload on average ` +
    `(${values.rounds} rounds of type ×10, ask, search; CPU, ${values.threads} thread(s)).\n`,
);
