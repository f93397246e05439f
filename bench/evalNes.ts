/**
 * `npm run eval:nes` — next-edit suggestions on a small set of edit scenarios (bench/nesScenarios.ts: a rename
 * propagated to its uses, a parameter added and its call sites, a repeated refactor, and one where no edit is due),
 * through the real sidecar's `nes/predict`. Each prediction is applied to the file and compared with the file the
 * scenario expects: exact, another edit, or no edit.
 *
 *   npm run eval:nes                                   # the SCRIPTED engine (recorded answers): plumbing only
 *   npm run eval:nes -- --model sweep-next-edit-1.5b.q8_0.gguf [--format sweep] [--threads 4]
 *   npm run eval:nes -- --engine-url http://127.0.0.1:8080 [--engine-model <id>]
 *
 * With the scripted engine every scenario must come out exact — anything else is a defect of Hearth's prompt,
 * parsing or edit; with a real next-edit model the figures judge the model (and the format). Nothing here asserts
 * a figure; it reports.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { applyEdit } from "../common/nes/history";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";
import type { NesFormat, NesPredictResult } from "../shared/protocol";
import { NES_NO_EDIT, NES_SCENARIOS, scriptedAnswers, startScriptedNesEngine } from "./nesScenarios";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const { values } = parseArgs({
  options: {
    model: { type: "string" },
    "engine-url": { type: "string" },
    "engine-model": { type: "string", default: "" },
    format: { type: "string" },
    threads: { type: "string", default: "1" },
    "context-size": { type: "string", default: "4096" },
  },
});

async function main(): Promise<void> {
  const scenarios = [...NES_SCENARIOS, NES_NO_EDIT];
  const scripted =
    values.model || values["engine-url"] ? undefined : await startScriptedNesEngine(scriptedAnswers(NES_SCENARIOS));
  const sidecar = new SidecarProcess({
    sidecarPath: path.join(repo, "dist", "sidecar.mjs"),
    init: {
      modelsDir: path.join(repo, ".cache", "models"),
      threads: Number(values.threads),
      gpu: "off",
      allowDownload: false,
    },
  });
  await sidecar.start();
  try {
    const engineUrl = scripted?.url ?? values["engine-url"];
    const info = await sidecar.request("model/load", {
      role: "nes",
      model: engineUrl ? { uri: values["engine-model"]!, engine: { url: engineUrl } } : { uri: values.model! },
      contextSize: Number(values["context-size"]),
    });
    console.log(
      `eval:nes — ${info.name} on ${info.engine ? `${info.engine.kind} at ${info.engine.url}` : "the embedded engine"}` +
        `${scripted ? " (SCRIPTED: recorded answers, plumbing only)" : ""}`,
    );
    let exact = 0;
    const latencies: number[] = [];
    for (const s of scenarios) {
      const started = performance.now();
      const r: NesPredictResult = await sidecar.request("nes/predict", {
        path: s.path,
        text: s.text,
        line: s.line,
        column: s.column,
        history: s.history,
        timeBudgetMs: 120_000,
        ...(values.format ? { format: values.format as NesFormat } : {}),
      });
      latencies.push(performance.now() - started);
      const after = r.edit ? applyEdit(s.text, r.edit) : s.text;
      const ok = after === s.expected;
      if (ok) exact++;
      const outcome = ok ? "exact" : r.edit ? "another edit" : `no edit (${r.reason})`;
      console.log(
        `  ${ok ? "✓" : "✗"} ${s.name}: ${outcome} — ${r.format}, ${r.usage.promptTokens} prompt tokens, ` +
          `${r.usage.completionTokens} generated, ${Math.round(latencies.at(-1)!)} ms`,
      );
    }
    latencies.sort((a, b) => a - b);
    console.log(
      `eval:nes: ${exact}/${scenarios.length} exact; latency p50 ${Math.round(latencies[Math.floor(latencies.length / 2)]!)} ms`,
    );
  } finally {
    await sidecar.stop();
    await scripted?.stop();
  }
}

await main();
