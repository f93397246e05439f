import { LlamaCompletion, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from "node-llama-cpp";
import { HearthError } from "../errors";
import { ErrorCodes, type InfillParams, type InfillResult } from "../protocol";

export const INFILL_DEFAULTS = { prefixTokens: 1024, suffixTokens: 256, maxTokens: 64 } as const;

/**
 * Fill-in-the-middle completions with one model, context and sequence. The FIM prompt comes from the model's own
 * FIM tokens (node-llama-cpp's `generateInfillCompletion`: PRE prefix SUF suffix MID). Consecutive requests reuse
 * the KV cache for the tokens they share with the previous prompt (node-llama-cpp adapts the sequence state to
 * the new tokens), which while typing is most of the prefix. Requests run one at a time; a newer request does
 * not wait behind an older one for long because clients cancel the older one first.
 */
export class CompletionService {
  private readonly completion: LlamaCompletion;
  private readonly sequence: LlamaContextSequence;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly model: LlamaModel,
    context: LlamaContext,
  ) {
    this.sequence = context.getSequence();
    this.completion = new LlamaCompletion({ contextSequence: this.sequence, autoDisposeSequence: true });
  }

  /**
   * @throws HearthError Unsupported when the model declares no FIM tokens (the message names the model).
   */
  infill(params: InfillParams, signal: AbortSignal): Promise<InfillResult> {
    if (!this.completion.infillSupported) {
      throw new HearthError(
        ErrorCodes.Unsupported,
        `The completion model has no fill-in-the-middle (FIM) tokens, so it cannot complete code at the cursor.`,
        "Pick a code model with FIM support (e.g. Qwen2.5-Coder, DeepSeek-Coder, StarCoder2, CodeLlama) for 'hearth.models.completion'.",
      );
    }
    const run = this.queue.then(() => this.generate(params, signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async generate(params: InfillParams, signal: AbortSignal): Promise<InfillResult> {
    const started = performance.now();
    const prefixTokens = this.model.tokenize(params.prefix).slice(-(params.prefixTokens ?? INFILL_DEFAULTS.prefixTokens));
    const suffixTokens = this.model.tokenize(params.suffix).slice(0, params.suffixTokens ?? INFILL_DEFAULTS.suffixTokens);
    const meter = this.sequence.tokenMeter;
    const inputBefore = meter.usedInputTokens;
    const outputBefore = meter.usedOutputTokens;
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    let budgetHit = false;
    let newlineHit = false;
    const budget = params.timeBudgetMs
      ? setTimeout(() => {
          budgetHit = true;
          abort.abort();
        }, params.timeBudgetMs)
      : undefined;
    let firstAt: number | undefined;
    let text = "";
    let stopReason: InfillResult["stopReason"] = "cancelled";
    try {
      if (!signal.aborted) {
        const response = await this.completion.generateInfillCompletionWithMeta(prefixTokens as Token[], suffixTokens as Token[], {
          maxTokens: params.maxTokens ?? INFILL_DEFAULTS.maxTokens,
          temperature: 0,
          signal: abort.signal,
          stopOnAbortSignal: true,
          onTextChunk: (chunk) => {
            firstAt ??= performance.now();
            text += chunk;
            if (params.singleLine && text.includes("\n")) {
              newlineHit = true;
              abort.abort();
            }
          },
        });
        text = response.response;
        const reason = response.metadata.stopReason;
        stopReason =
          reason === "abort"
            ? newlineHit
              ? "newline"
              : budgetHit
                ? "timeBudget"
                : "cancelled"
            : reason === "maxTokens"
              ? "maxTokens"
              : "stop";
      }
    } finally {
      clearTimeout(budget);
      signal.removeEventListener("abort", onAbort);
    }
    if (params.singleLine && text.includes("\n")) text = text.slice(0, text.indexOf("\n"));
    const end = performance.now();
    return {
      text,
      stopReason,
      usage: {
        // PRE + prefix + SUF + suffix + MID (+ BOS when the model adds one).
        promptTokens: prefixTokens.length + suffixTokens.length + 3,
        evaluatedTokens: meter.usedInputTokens - inputBefore,
        completionTokens: meter.usedOutputTokens - outputBefore,
      },
      timings: { totalMs: round(end - started), ttftMs: round((firstAt ?? end) - started) },
    };
  }

  dispose(): void {
    this.completion.dispose();
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
