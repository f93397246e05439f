import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CompletionEngine, explainReason } from "../../common/completion/CompletionEngine";
import type { SidecarProcess } from "../../common/sidecar/SidecarProcess";
import { ErrorCodes } from "../../shared/protocol";
import { writeSyntheticFimModel } from "../fixtures/synthetic/syntheticModels";
import { testModel } from "../testModels";
import { errorOf, spawnSidecar } from "./helpers";

/*
 * Inline-completion plumbing through the real sidecar. The FIM model is a SYNTHETIC fixture (random weights, real
 * llama architecture with FIM tokens): its suggestions are noise, which is fine — these tests check requests,
 * cancellation, caching, type-ahead, KV reuse and error reasons, not quality.
 */
let sidecar: SidecarProcess;
let fimModel: string;
const source =
  "export function add(a: number, b: number): number {\n  return a + b;\n}\n\nexport function sub(a: number, b: number) {\n  return ";
const suffix = ";\n}\n";

beforeAll(async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-fim-"));
  fimModel = path.join(dir, "synthetic-fim.gguf");
  writeSyntheticFimModel(fimModel);
  ({ sidecar } = await spawnSidecar());
});
afterAll(async () => {
  await sidecar?.stop();
});

describe("completion/infill and the completion engine", () => {
  it("without a completion model: a clear noModel reason, no crash", async () => {
    const engine = new CompletionEngine(sidecar, { debounceMs: 0 });
    const outcome = await engine.complete("const x = ", ";");
    expect(outcome.reason).toBe("noModel");
    expect(explainReason(outcome)).toMatch(/No completion model is loaded/);
    // Nor an embedding or rerank model: the direct methods say so, with the setting to use.
    const embed = await errorOf(sidecar.request("embedding/embed", { texts: ["x"] }));
    expect(embed.code).toBe(ErrorCodes.NoModelLoaded);
    expect(embed.message).toMatch(/No embedding model is loaded/);
    const rerank = await errorOf(sidecar.request("rerank/score", { query: "q", documents: ["d"] }));
    expect(rerank.code).toBe(ErrorCodes.NoModelLoaded);
  });

  it("a model without FIM tokens gives the clear reason instead of garbage", async () => {
    await sidecar.request("model/load", { role: "completion", model: { uri: await testModel("stories260K") } });
    const error = await errorOf(sidecar.request("completion/infill", { prefix: "a", suffix: "b" }));
    expect(error.code).toBe(ErrorCodes.Unsupported);
    const outcome = await new CompletionEngine(sidecar, { debounceMs: 0 }).complete("const x = ", ";");
    expect(outcome.reason).toBe("noFim");
    expect(explainReason(outcome)).toMatch(/no fill-in-the-middle \(FIM\) tokens.*Qwen2.5-Coder/);
  });

  it("returns a suggestion from a FIM-capable model, with token counts and timings", async () => {
    const info = await sidecar.request("model/load", {
      role: "completion",
      model: { uri: fimModel },
      contextSize: 1024,
    });
    expect(info.infillSupported).toBe(true);
    const engine = new CompletionEngine(sidecar, { debounceMs: 0, maxTokens: 8 });
    const outcome = await engine.complete(source, suffix);
    expect(outcome.result?.usage.completionTokens).toBeGreaterThan(0);
    expect(outcome.result?.usage.promptTokens).toBeGreaterThan(20);
    expect(outcome.result?.timings.totalMs).toBeGreaterThan(0);
    expect(["shown", "filtered"]).toContain(outcome.reason);
    expect(engine.stats.modelCalls).toBe(1);
  });

  it("completion/complete refuses a prompt that does not fit the window, also one within a tenth of it (node-llama-cpp would cut its start); one that fits is evaluated whole", async () => {
    await sidecar.request("model/load", { role: "completion", model: { uri: fimModel }, contextSize: 1024 });
    const line = "export const value = 1;\n";
    const { tokens } = await sidecar.request("model/tokenize", { role: "completion", text: line.repeat(10) });
    const perLine = tokens.length / 10;
    // About 95 % of the window: inside it, but over what node-llama-cpp leaves for the prompt.
    const near = line.repeat(Math.floor((1024 * 0.95) / perLine));
    const refused = await sidecar
      .request("completion/complete", { prompt: near, maxTokens: 4 })
      .catch((e: unknown) => e);
    expect((refused as { code?: number }).code).toBe(ErrorCodes.PromptTooLong);
    expect((refused as { data?: { contextTokens?: number } }).data?.contextTokens).toBe(1024);
    const half = line.repeat(Math.floor((1024 * 0.5) / perLine));
    const { tokens: halfTokens } = await sidecar.request("model/tokenize", { role: "completion", text: half });
    const ok = await sidecar.request("completion/complete", { prompt: half, maxTokens: 4 });
    // Every prompt token evaluated: nothing cut (the count may differ by the leading space node-llama-cpp trims when
    // it puts BOS first, and by BOS itself when the KV cache already holds it).
    expect(ok.usage.promptTokens).toBeGreaterThanOrEqual(halfTokens.length - 2);
  });

  it("with the file's language, a multi-line request reports the syntax cut; bad language params are refused", async () => {
    // Plumbing only: the synthetic model's noise holds no newline, so there is nothing to cut (the cut itself is
    // tested with real tree-sitter in test/unit/syntaxTrim.test.ts and with the lab code model in
    // labModels.test.ts). What is checked: `linesCut` comes back for a multi-line request with a language, and
    // only then; the text is the raw one; a language that is not a string is refused.
    const prefix = "export function sub(a: number, b: number) {\n  ";
    const tail = "\n}\n";
    const raw = await sidecar.request("completion/infill", { prefix, suffix: tail, maxTokens: 32 });
    expect(raw.linesCut).toBeUndefined();
    const r = await sidecar.request("completion/infill", {
      prefix,
      suffix: tail,
      maxTokens: 32,
      language: "typescript",
    });
    expect(r).toMatchObject({ text: raw.text, linesCut: 0 });
    const single = await sidecar.request("completion/infill", {
      prefix,
      suffix: tail,
      maxTokens: 32,
      language: "typescript",
      singleLine: true,
    });
    expect(single.linesCut).toBeUndefined();
    const e = await errorOf(
      sidecar.request("completion/infill", { prefix, suffix: tail, language: 7 as unknown as string }),
    );
    expect(e.code).toBe(ErrorCodes.InvalidParams);
    expect(e.message).toMatch(/language/);
  });

  it("reuses the KV cache for the shared prefix of consecutive requests", async () => {
    const first = await sidecar.request("completion/infill", { prefix: source, suffix, maxTokens: 2 });
    const next = await sidecar.request("completion/infill", { prefix: `${source}a`, suffix, maxTokens: 2 });
    expect(first.usage.promptTokens).toBeGreaterThan(20);
    expect(next.usage.evaluatedTokens).toBeLessThan(next.usage.promptTokens / 2);
  });

  it("puts context from other files before the prefix, within its token budget, and keeps KV reuse", async () => {
    const context = "// Path: src/math.ts\n// export function mul(a: number, b: number) { return a * b; }\n";
    const without = await sidecar.request("completion/infill", { prefix: source, suffix, maxTokens: 2 });
    const withContext = await sidecar.request("completion/infill", { prefix: source, suffix, maxTokens: 2, context });
    expect(withContext.usage.promptTokens).toBeGreaterThan(without.usage.promptTokens + 40);
    const capped = await sidecar.request("completion/infill", {
      prefix: source,
      suffix,
      maxTokens: 2,
      context,
      contextTokens: 10,
    });
    expect(capped.usage.promptTokens).toBe(without.usage.promptTokens + 10);
    const typed = await sidecar.request("completion/infill", {
      prefix: `${source}b`,
      suffix,
      maxTokens: 2,
      context,
      contextTokens: 10,
    });
    expect(typed.usage.evaluatedTokens).toBeLessThan(typed.usage.promptTokens / 2);
  });

  it("cache hits and type-ahead hits do not reach the model", async () => {
    const engine = new CompletionEngine(sidecar, { debounceMs: 0, maxTokens: 12 });
    // Find a position where the (noise) suggestion survives post-processing and is long enough to type into.
    let prefix = source;
    let first = await engine.complete(prefix, suffix);
    for (let i = 0; (!first.text || first.text.length < 2) && i < 10; i++) {
      prefix = `${source}${"xyzwvutsrq"[i]}`;
      first = await engine.complete(prefix, suffix);
    }
    expect(first.text && first.text.length >= 2).toBe(true);
    const calls = engine.stats.modelCalls;
    const again = await engine.complete(prefix, suffix);
    expect(again).toMatchObject({ reason: "cacheHit", text: first.text });
    const typed = await engine.complete(prefix + first.text![0], suffix);
    expect(typed).toMatchObject({ reason: "typeAhead", text: first.text!.slice(1) });
    expect(engine.stats.modelCalls).toBe(calls);
    expect(engine.stats).toMatchObject({ cacheHits: 1, typeAheadHits: 1 });
  });

  it("a keystroke during the debounce cancels before the model is called", async () => {
    const engine = new CompletionEngine(sidecar, { debounceMs: 200 });
    const abort = new AbortController();
    const pending = engine.complete(`${source}q`, suffix, { signal: abort.signal });
    setTimeout(() => abort.abort(), 20);
    expect((await pending).reason).toBe("cancelled");
    expect(engine.stats.modelCalls).toBe(0);
  });

  it("a keystroke during generation stops decoding promptly", async () => {
    const engine = new CompletionEngine(sidecar, { debounceMs: 0, maxTokens: 2000, timeBudgetMs: 60_000 });
    const abort = new AbortController();
    const started = performance.now();
    const pending = engine.complete(`${source}\n`, "", { signal: abort.signal });
    setTimeout(() => abort.abort(), 30);
    const outcome = await pending;
    expect(outcome.reason).toBe("cancelled");
    expect(outcome.result?.usage.completionTokens ?? 0).toBeLessThan(2000);
    // Bounded, not timed: stopped long before 2000 tokens would have taken.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("the time budget returns what there is with stopReason 'timeBudget'", async () => {
    const result = await sidecar.request("completion/infill", {
      prefix: `${source}\n`,
      suffix: "",
      maxTokens: 2000,
      timeBudgetMs: 30,
    });
    expect(result.stopReason).toBe("timeBudget");
    expect(result.usage.completionTokens).toBeLessThan(2000);
  });

  it("a multi-line generation that loops stops at the first repeated line, which it leaves out", async () => {
    // SYNTHETIC looping model (designed weights, syntheticModels.ts): it writes "x\n" until stopped.
    const looping = path.join(path.dirname(fimModel), "synthetic-fim-loop.gguf");
    writeSyntheticFimModel(looping, 1, "loop");
    await sidecar.request("model/load", { role: "completion", model: { uri: looping }, contextSize: 1024 });
    try {
      const atLineStart = await sidecar.request("completion/infill", {
        prefix: "function f() {\n",
        suffix: "\n}\n",
        maxTokens: 64,
      });
      expect(atLineStart).toMatchObject({ text: "x", stopReason: "repeatedLine" });
      expect(atLineStart.usage.completionTokens).toBeLessThan(8);
      // The first line is compared as the line it completes ("  x"), so only the third line repeats.
      const indented = await sidecar.request("completion/infill", {
        prefix: "function f() {\n  ",
        suffix: "\n}\n",
        maxTokens: 64,
      });
      expect(indented).toMatchObject({ text: "x\nx", stopReason: "repeatedLine" });
      // A single-line request stops at the newline, as before.
      const single = await sidecar.request("completion/infill", {
        prefix: "function f() {\n",
        suffix: "\n}\n",
        maxTokens: 64,
        singleLine: true,
      });
      expect(single).toMatchObject({ text: "x", stopReason: "newline" });
    } finally {
      // Back to the random-weight FIM model the file loads for its tests, whatever failed above.
      await sidecar.request("model/load", { role: "completion", model: { uri: fimModel }, contextSize: 1024 });
    }
  });
});
