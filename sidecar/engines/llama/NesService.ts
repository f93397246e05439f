import {
  LlamaCompletion,
  LlamaText,
  SpecialTokensText,
  resolveChatWrapper,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { HearthError } from "../../../shared/errors";
import { ErrorCodes } from "../../../shared/protocol";
import type { NesAnswer, NesEngine } from "../types";
import { DraftPredictor } from "./draftPredictor";

/**
 * Next-edit suggestions on the embedded engine: one context and sequence for the `nes` role's model, asked by
 * raw continuation (the formats NES models were trained on) or by chat under a JSON grammar (the generic format).
 *
 * Speculation by prompt lookup: the rewritten window is mostly a copy of the window in the prompt, so the sequence
 * drafts tokens with node-llama-cpp's `InputLookupTokenPredictor` (an n-gram match against the input tokens, the
 * idea of llama.cpp's `--lookup` / prompt-lookup decoding, Saxena 2023) and the model validates them in one batch;
 * `speculation` reports the drafts accepted and refused. Consecutive requests reuse the KV cache for the prompt
 * tokens they share with the previous one (node-llama-cpp aligns the sequence state), as FIM does.
 */
export class NesService implements NesEngine {
  private readonly sequence: LlamaContextSequence;
  /** The tokens of the last answer (`bench:nes` drafts a later pass from them). */
  lastAnswer: Token[] = [];
  /** The sequence's drafting, set per request (see {@link DraftPredictor}). */
  readonly drafts = new DraftPredictor();
  private queue: Promise<unknown> = Promise.resolve();
  private grammar: Promise<LlamaGrammar> | undefined;
  private grammarSchema: string | undefined;

  constructor(
    private readonly model: LlamaModel,
    context: LlamaContext,
  ) {
    this.sequence = context.getSequence({ tokenPredictor: this.drafts });
  }

  raw(
    parts: ReadonlyArray<string | { special: string }>,
    options: { maxTokens: number; stop: string[]; speculate: boolean },
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<NesAnswer> {
    // A control token is one token only where the model has it; anything else (the user's code) is plain text,
    // so code that contains `<|file_sep|>` cannot end a block of the prompt.
    const text = LlamaText(parts.map((p) => (typeof p === "string" ? p : new SpecialTokensText(p.special))));
    const tokens = text.tokenize(this.model.tokenizer);
    return this.run(tokens, options.speculate, { maxTokens: options.maxTokens, stop: options.stop }, onDelta, signal);
  }

  async chat(
    system: string,
    user: string,
    options: { maxTokens: number; schema: object },
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<NesAnswer> {
    const wrapper = resolveChatWrapper(this.model);
    const { contextText } = wrapper.generateContextState({
      chatHistory: [
        { type: "system", text: system },
        { type: "user", text: user },
        { type: "model", response: [] },
      ],
    });
    const schema = JSON.stringify(options.schema);
    if (!this.grammar || this.grammarSchema !== schema) {
      this.grammarSchema = schema;
      this.grammar = this.model.llama.createGrammarForJsonSchema(options.schema as never);
    }
    const grammar = await this.grammar;
    return this.run(
      contextText.tokenize(this.model.tokenizer),
      false,
      { maxTokens: options.maxTokens, stop: [], grammar },
      onDelta,
      signal,
    );
  }

  private run(
    tokens: Token[],
    speculate: boolean,
    options: { maxTokens: number; stop: string[]; grammar?: LlamaGrammar },
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<NesAnswer> {
    const run = this.queue.then(async (): Promise<NesAnswer> => {
      const started = performance.now();
      const sequence = this.sequence;
      // A script set by a benchmark is kept; otherwise the request says whether to draft — and drafting pauses
      // while it does not pay (see `draftingPays`).
      if (this.drafts.mode !== "script") this.drafts.mode = speculate && this.draftingPays() ? "lookup" : "off";
      const promptTokens = tokens.length;
      if (promptTokens + options.maxTokens > sequence.context.contextSize) {
        throw new HearthError(
          ErrorCodes.PromptTooLong,
          `The next-edit prompt is ${promptTokens} tokens and its answer up to ${options.maxTokens}, over the model's context of ${sequence.context.contextSize}.`,
          "Raise 'hearth.nes.contextSize', or keep fewer recent edits.",
          { promptTokens, contextTokens: sequence.context.contextSize },
        );
      }
      const reused = sequence.compareContextTokens(tokens).firstDifferentIndex;
      const before = sequence.tokenPredictions;
      let generated = 0;
      const answer: Token[] = [];
      const completion = new LlamaCompletion({ contextSequence: sequence });
      let firstAt: number | undefined;
      let text = "";
      let stopReason: NesAnswer["stopReason"] = "cancelled";
      try {
        if (!signal.aborted) {
          const response = await completion.generateCompletionWithMeta(tokens, {
            maxTokens: options.maxTokens,
            temperature: 0,
            ...(options.stop.length ? { customStopTriggers: options.stop } : {}),
            ...(options.grammar ? { grammar: options.grammar } : {}),
            signal,
            stopOnAbortSignal: true,
            // Tokens the answer has (the token meter would also count drafts the model refused).
            onToken: (t) => {
              generated += t.length;
              answer.push(...t);
            },
            onTextChunk: (chunk) => {
              firstAt ??= performance.now();
              onDelta(chunk);
            },
          });
          text = response.response;
          const reason = response.metadata.stopReason;
          stopReason = reason === "abort" ? "cancelled" : reason === "maxTokens" ? "maxTokens" : "stop";
        }
      } finally {
        // The completion object only; the sequence (and its KV cache) stays for the next request.
        completion.dispose({ disposeSequence: false });
      }
      this.lastAnswer = answer;
      const after = sequence.tokenPredictions;
      if (this.drafts.mode === "lookup")
        this.recordDrafts(after.validated - before.validated, after.refuted - before.refuted);
      const end = performance.now();
      return {
        text,
        stopReason,
        usage: {
          promptTokens,
          evaluatedTokens: Math.max(0, promptTokens - reused),
          completionTokens: generated,
        },
        timings: { totalMs: round(end - started), ttftMs: round((firstAt ?? end) - started) },
        ...(this.drafts.mode !== "off"
          ? {
              speculation: {
                accepted: after.validated - before.validated,
                refused: after.refuted - before.refuted,
              },
            }
          : {}),
      };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Drafts accepted and refused lately (decayed), and requests left before drafting is tried again. */
  private draftStats = { accepted: 0, refused: 0 };
  private pausedFor = 0;

  /**
   * Whether prompt-lookup drafting is worth it now. Every refused draft costs a batch position, so a model that does
   * not copy its input (bench:nes measured 0.55x with 1 % accepted on the lab model) would be slowed down: after
   * 64 drafts with under 40 % accepted, drafting pauses for 16 requests, then is tried again.
   */
  private draftingPays(): boolean {
    if (this.pausedFor > 0) {
      this.pausedFor--;
      return false;
    }
    return true;
  }

  private recordDrafts(accepted: number, refused: number): void {
    const s = this.draftStats;
    s.accepted = s.accepted * 0.9 + accepted;
    s.refused = s.refused * 0.9 + refused;
    if (s.accepted + s.refused >= 64 && s.accepted / (s.accepted + s.refused) < 0.4) {
      this.pausedFor = 16;
      this.draftStats = { accepted: 0, refused: 0 };
    }
  }

  async dispose(): Promise<void> {
    await this.sequence.dispose();
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
