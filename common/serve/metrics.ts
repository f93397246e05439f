import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ModelInfo, ModelRole } from "../../shared/protocol";

/**
 * The server's Prometheus metrics (prom-client), served as text at `GET /metrics`: requests by route and
 * status, queue depth per role, prompt and completion tokens, TTFT and decode tokens/s histograms, loaded models,
 * and the process's own metrics (memory, CPU, event-loop lag: prom-client's defaults, prefixed `hearth_`).
 */
export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "hearth_http_requests_total",
    help: "HTTP requests answered, by route and status.",
    labelNames: ["route", "status"] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "hearth_queue_depth",
    help: "Requests waiting or running, per model role.",
    labelNames: ["role"] as const,
    registers: [this.registry],
  });
  readonly promptTokens = new Counter({
    name: "hearth_prompt_tokens_total",
    help: "Prompt tokens evaluated, per model role.",
    labelNames: ["role"] as const,
    registers: [this.registry],
  });
  readonly completionTokens = new Counter({
    name: "hearth_completion_tokens_total",
    help: "Tokens generated, per model role.",
    labelNames: ["role"] as const,
    registers: [this.registry],
  });
  readonly ttft = new Histogram({
    name: "hearth_time_to_first_token_seconds",
    help: "Time to first token (TTFT), seconds, per model role.",
    labelNames: ["role"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly tokensPerSecond = new Histogram({
    name: "hearth_decode_tokens_per_second",
    help: "Decode speed of each answer, tokens/s (after the first token), per model role.",
    labelNames: ["role"] as const,
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
    registers: [this.registry],
  });
  readonly loaded = new Gauge({
    name: "hearth_model_loaded",
    help: "1 for each loaded model, by role, model name and engine ('embedded' or the engine's kind).",
    labelNames: ["role", "model", "engine"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "hearth_" });
  }

  /** Set the loaded-model gauge from what each role has now. */
  setModels(models: Partial<Record<ModelRole, ModelInfo>>): void {
    this.loaded.reset();
    for (const [role, info] of Object.entries(models)) {
      if (info) this.loaded.set({ role, model: info.name, engine: info.engine?.kind ?? "embedded" }, 1);
    }
  }

  /** Record one answer's figures. */
  answer(role: ModelRole, usage: { promptTokens: number; completionTokens: number }, ttftMs?: number, tps?: number) {
    this.promptTokens.inc({ role }, usage.promptTokens);
    this.completionTokens.inc({ role }, usage.completionTokens);
    if (ttftMs !== undefined) this.ttft.observe({ role }, ttftMs / 1000);
    if (tps) this.tokensPerSecond.observe({ role }, tps);
  }
}
