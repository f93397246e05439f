import {
  LlamaCompletion,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { HearthError } from "../../../shared/errors";
import { INFILL_DEFAULTS } from "../defaults";
import {
  ErrorCodes,
  type CompleteParams,
  type CompleteResult,
  type InfillParams,
  type InfillResult,
} from "../../../shared/protocol";
import { finishFim, FimStream } from "../../completion/fimStream";

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
  private readonly contextSize: number;

  constructor(
    private readonly model: LlamaModel,
    context: LlamaContext,
  ) {
    this.contextSize = context.contextSize;
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

  /**
   * A plain continuation of `params.prompt` on the FIM context (node-llama-cpp's `generateCompletion`), any model:
   * FIM tokens are not needed. Stop strings end it before them (node-llama-cpp's custom stop triggers, which hold
   * back a partial match). Queued with the FIM requests; the KV cache keeps what the two share.
   * @throws HearthError PromptTooLong (with the counts) when the prompt does not fit the context window.
   */
  complete(params: CompleteParams, onDelta: (text: string) => void, signal: AbortSignal): Promise<CompleteResult> {
    const run = this.queue.then(async (): Promise<CompleteResult> => {
      const started = performance.now();
      const meter = this.sequence.tokenMeter;
      const inputBefore = meter.usedInputTokens;
      const outputBefore = meter.usedOutputTokens;
      let firstAt: number | undefined;
      let text = "";
      let stopReason: CompleteResult["stopReason"] = "cancelled";
      let stoppingWord: string | undefined;
      // A prompt over the window is refused with the counts, as llama-server does. node-llama-cpp keeps a tenth of
      // the window free for shifting (its `contextShiftSize`) and cuts the start of a prompt longer than the rest,
      // continuing a different text without saying so: the same reserve is passed to it and checked here. The prompt
      // is tokenized once, as node-llama-cpp would (no leading space when it puts BOS first), and given as tokens.
      const shiftSize = Math.max(1, Math.floor(this.contextSize / 10));
      const bos = this.model.tokens.shouldPrependBosToken ? this.model.tokens.bos : null;
      const tokens = this.model.tokenize(params.prompt, false, bos != null ? "trimLeadingSpace" : undefined);
      const promptTokens = tokens.length + (bos != null ? 1 : 0);
      if (promptTokens > this.contextSize - shiftSize) {
        throw new HearthError(
          ErrorCodes.PromptTooLong,
          `The prompt (${promptTokens.toLocaleString("en")} tokens) does not fit the ${this.contextSize}-token context window, which keeps ${shiftSize} tokens free to generate into.`,
          "Send a shorter prompt, or load the completion model with a larger context (--context-size).",
          { promptTokens, contextTokens: this.contextSize },
        );
      }
      if (!signal.aborted) {
        const response = await this.completion.generateCompletionWithMeta(tokens, {
          contextShiftSize: shiftSize,
          maxTokens: params.maxTokens ?? INFILL_DEFAULTS.maxTokens,
          // As llama-server's /completion: no repeat penalty unless asked (node-llama-cpp's default is 1.1).
          repeatPenalty: false,
          ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
          ...(params.topP !== undefined ? { topP: params.topP } : {}),
          ...(params.topK !== undefined ? { topK: params.topK } : {}),
          ...(params.seed !== undefined ? { seed: params.seed } : {}),
          ...(params.stop?.length ? { customStopTriggers: params.stop } : {}),
          signal,
          stopOnAbortSignal: true,
          onTextChunk: (chunk) => {
            firstAt ??= performance.now();
            onDelta(chunk);
          },
        });
        text = response.response;
        const meta = response.metadata;
        stopReason = meta.stopReason === "abort" ? "cancelled" : meta.stopReason === "maxTokens" ? "maxTokens" : "stop";
        if (meta.stopReason === "customStopTrigger") {
          stoppingWord = meta.customStopTrigger.filter((t): t is string => typeof t === "string").join("");
        }
      }
      const end = performance.now();
      return {
        text,
        stopReason,
        ...(stoppingWord !== undefined ? { stoppingWord } : {}),
        usage: {
          promptTokens: meter.usedInputTokens - inputBefore,
          completionTokens: meter.usedOutputTokens - outputBefore,
        },
        timings: { totalMs: round(end - started), ttftMs: round((firstAt ?? end) - started) },
      };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async generate(params: InfillParams, signal: AbortSignal): Promise<InfillResult> {
    const started = performance.now();
    const maxTokens = params.maxTokens ?? INFILL_DEFAULTS.maxTokens;
    const suffixTokens = this.model
      .tokenize(params.suffix)
      .slice(0, params.suffixTokens ?? INFILL_DEFAULTS.suffixTokens);
    // Fit the prompt into the context ourselves (leaving node-llama-cpp's context-shift reserve of a tenth, the
    // answer and the FIM tokens), so node-llama-cpp never trims it: its trimming slides with every keystroke.
    // Context from other files goes first: it changes rarely while typing, so it stays in the KV cache.
    const contextTokens = params.context
      ? this.model.tokenize(params.context).slice(-(params.contextTokens ?? INFILL_DEFAULTS.contextTokens))
      : [];
    const room = Math.floor(this.contextSize * 0.9) - suffixTokens.length - contextTokens.length - maxTokens - 4;
    const windowTokens = snapWindow(
      this.model.tokenize(params.prefix),
      Math.max(16, Math.min(room, params.prefixTokens ?? INFILL_DEFAULTS.prefixTokens)),
    );
    const prefixTokens = contextTokens.length ? [...contextTokens, ...windowTokens] : windowTokens;
    const tokenized = performance.now();
    const meter = this.sequence.tokenMeter;
    const outputBefore = meter.usedOutputTokens;
    // What the KV cache already holds decides how much of this prompt needs evaluating: node-llama-cpp keeps the
    // longest common prefix of the cached tokens and the new input (PRE prefix SUF suffix MID, after BOS).
    const { infill, bos } = this.model.tokens;
    const prompt = [infill.prefix, ...prefixTokens, infill.suffix, ...suffixTokens, infill.middle];
    const cached = this.sequence.contextTokens;
    const offset = bos != null && cached[0] === bos ? 1 : 0;
    let reused = offset;
    while (reused - offset < prompt.length && cached[reused] === prompt[reused - offset]) reused++;
    const matched = performance.now();
    // Hearth's stops (newline, repeated line, time budget) watch the text as it streams, as for every engine.
    const fim = new FimStream(params, signal);
    let firstAt: number | undefined;
    let text = "";
    let stopReason: InfillResult["stopReason"] = "cancelled";
    try {
      if (!signal.aborted) {
        const response = await this.completion.generateInfillCompletionWithMeta(
          prefixTokens as Token[],
          suffixTokens as Token[],
          {
            maxTokens,
            temperature: 0,
            // node-llama-cpp's default repeat penalty (1.1 over the last 64 tokens) would push the model away from
            // the identifiers code repeats, and make its suggestions differ from llama-server's /infill (no penalty).
            repeatPenalty: false,
            signal: fim.signal,
            stopOnAbortSignal: true,
            onTextChunk: (chunk) => {
              firstAt ??= performance.now();
              fim.push(chunk);
            },
          },
        );
        text = response.response;
        const reason = response.metadata.stopReason;
        stopReason = fim.reason(reason === "abort" ? "cancelled" : reason === "maxTokens" ? "maxTokens" : "stop");
      }
    } finally {
      fim.close();
    }
    const generated = performance.now();
    const finished = await finishFim(params, text, stopReason);
    text = finished.text;
    stopReason = finished.stopReason;
    const linesCut = finished.linesCut;
    const end = performance.now();
    return {
      text,
      stopReason,
      usage: {
        // PRE + prefix + SUF + suffix + MID (+ BOS when the model adds one).
        promptTokens: prompt.length + offset,
        evaluatedTokens: prompt.length + offset - reused,
        completionTokens: meter.usedOutputTokens - outputBefore,
      },
      timings: {
        totalMs: round(end - started),
        ttftMs: round((firstAt ?? end) - started),
        phases: {
          tokenizeMs: round(tokenized - started),
          matchMs: round(matched - tokenized),
          promptMs: round((firstAt ?? generated) - matched),
          decodeMs: round(generated - (firstAt ?? generated)),
          finishMs: round(end - generated),
        },
      },
      ...(linesCut !== undefined ? { linesCut } : {}),
    };
  }

  dispose(): void {
    this.completion.dispose();
  }
}

/** Tokens the prefix window's start moves by at a time (see {@link snapWindow}). */
export const WINDOW_STEP = 64;

/**
 * The last ≤ `size` tokens of the prefix, with the window's start snapped to a multiple of {@link WINDOW_STEP}.
 * A window that slid by one token per keystroke would change the first token of every prompt and defeat KV-cache
 * reuse; a snapped start stays put for up to 64 keystrokes' worth of tokens, so each request only evaluates what
 * changed at the cursor (plus the suffix, which follows the prefix in the FIM prompt).
 */
export function snapWindow<T>(tokens: T[], size: number): T[] {
  if (tokens.length <= size) return tokens;
  const start = Math.ceil((tokens.length - size) / WINDOW_STEP) * WINDOW_STEP;
  return tokens.slice(start);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
