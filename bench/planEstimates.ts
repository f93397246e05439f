/**
 * `npm run bench:plan` — do the planner's estimates hold? For each role, the SYNTHETIC real-size model of its class
 * (`bench/realSizeModels.ts`: DeepSeek-Coder-1.3B's shape with 6 of its 24 blocks for FIM, Qwen2.5-Coder-1.5B's
 * full shape for chat, bge-small for embedding, a BERT-base cross-encoder for rerank; random weights, real
 * tokenizers) is estimated the way `setup/plan` estimates it (node-llama-cpp's GgufInsights over the GGUF header,
 * `sidecar/setup/estimate.ts`), then loaded in a fresh Hearth sidecar for that role with the role's context window
 * and given one tiny call of the role; the sidecar's RSS after the call less its RSS before the load is the
 * measured figure. Then all four roles in one sidecar against the sum of the estimates. Prints estimated vs
 * measured and the ratio; asserts nothing (goal: within 15 %).
 *
 *   npm run bench:plan [-- --threads 1]
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { getLlama } from "node-llama-cpp";
import type { SidecarProcess } from "../common/sidecar/SidecarProcess";
import type { ModelRole } from "../shared/protocol";
import { estimateFromHeader } from "../sidecar/models/estimate";
import { buildRealSizeModel, llamaVocabDir, startBenchSidecar, type RealSizeModel } from "./realSizeModels";
import { processMemory } from "./stats";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { threads: { type: "string", default: "1" } } });
const MIB = 2 ** 20;

const ROLES: Array<{ role: ModelRole; shape: RealSizeModel; context: number }> = [
  { role: "chat", shape: "qwen2.5-coder-1.5b", context: 4096 },
  { role: "completion", shape: "deepseek-coder-1.3b", context: 2048 },
  { role: "embedding", shape: "bge-small", context: 1024 },
  { role: "rerank", shape: "bge-reranker", context: 1024 },
];

/** One tiny call of the role, so the weights are paged in and the compute buffers allocated. */
async function call(sidecar: SidecarProcess, role: ModelRole): Promise<void> {
  const code = "export function add(a: number, b: number): number {\n  return a + b;\n}\n".repeat(8);
  if (role === "chat")
    await sidecar.request("chat/send", {
      streamId: "b",
      messages: [{ role: "user", content: code }],
      params: { maxTokens: 4 },
    });
  else if (role === "completion")
    await sidecar.request("completion/infill", { prefix: code, suffix: "\n", maxTokens: 4 });
  else if (role === "embedding") await sidecar.request("embedding/embed", { texts: [code] });
  else await sidecar.request("rerank/score", { query: "add two numbers", documents: [code, code] });
}

async function startSidecar(): Promise<SidecarProcess> {
  const sidecar = await startBenchSidecar(root, Number(values.threads));
  await sidecar.request("runtime/stats", {});
  return sidecar;
}

const vocabDir = llamaVocabDir(root, path.join(root, ".cache"));
const outDir = path.join(root, ".cache", "real-size");
const llama = await getLlama({ gpu: false, build: "never" });
const rows: string[][] = [];
let estimatedAll = 0;
const files = new Map<ModelRole, string>();
for (const r of ROLES) {
  const file = await buildRealSizeModel(r.shape, { vocabDir, outDir });
  files.set(r.role, file);
  const estimate = await estimateFromHeader(file, { [r.role]: r.context }, llama);
  const estimated = estimate.weightsBytes + (estimate.contextBytes[r.role] ?? 0);
  estimatedAll += estimated;
  const sidecar = await startSidecar();
  try {
    const before = processMemory(sidecar.pid, "VmRSS");
    await sidecar.request("model/load", { role: r.role, model: { uri: file }, contextSize: r.context });
    await call(sidecar, r.role);
    const measured = processMemory(sidecar.pid, "VmRSS") - before;
    rows.push([
      r.role,
      path.basename(file),
      String(r.context),
      (estimated / MIB).toFixed(0),
      (measured / MIB).toFixed(0),
      (estimated / measured).toFixed(2),
    ]);
  } finally {
    await sidecar.stop();
  }
}
const sidecar = await startSidecar();
try {
  const before = processMemory(sidecar.pid, "VmRSS");
  for (const r of ROLES) {
    await sidecar.request("model/load", { role: r.role, model: { uri: files.get(r.role)! }, contextSize: r.context });
    await call(sidecar, r.role);
  }
  const measured = processMemory(sidecar.pid, "VmRSS") - before;
  rows.push([
    "all four",
    "(one sidecar)",
    "",
    (estimatedAll / MIB).toFixed(0),
    (measured / MIB).toFixed(0),
    (estimatedAll / measured).toFixed(2),
  ]);
} finally {
  await sidecar.stop();
}
await llama.dispose();
const head = ["role", "model (SYNTHETIC real-size)", "context", "estimated MiB", "measured MiB", "est/measured"];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
for (const row of [head, ...rows]) process.stdout.write(row.map((c, i) => c.padEnd(widths[i]!)).join("  ") + "\n");
process.stdout.write(
  `\nCPU only, ${values.threads} thread(s); measured = the sidecar's RSS after one call of the role less its RSS before the load.\n`,
);
