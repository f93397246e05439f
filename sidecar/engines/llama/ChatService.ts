import {
  LlamaChatSession,
  type ChatHistoryItem,
  type LlamaGrammar,
  type LlamaContext,
  type LlamaModel,
} from "node-llama-cpp";
import { LRUCache } from "lru-cache";
import { DraftPredictor } from "./draftPredictor";
import { HearthError } from "../../../shared/errors";
import { DEFAULT_GENERATION } from "../defaults";
import {
  ErrorCodes,
  type ChatMessage,
  type ChatSendParams,
  type ChatSendResult,
  type StopReason,
} from "../../../shared/protocol";

/**
 * More characters per token than any tokenizer gives over real text (BPE vocabularies merge at most a few dozen
 * characters): text longer than `tokens × this` cannot fit `tokens`, so it is refused or dropped untokenised.
 */
export const MAX_CHARS_PER_TOKEN = 32;

/** Compiled response grammars a chat model keeps at most (the least recently used goes first). */
export const GRAMMAR_CACHE_ENTRIES = 32;
/** Characters of schema text the kept grammars may add up to. */
export const GRAMMAR_CACHE_CHARS = 1024 * 1024;

/** node-llama-cpp's `LlamaJsonSchemaGrammar`, seen through what we use of it. */
type SchemaGrammar = LlamaGrammar & { parse(json: string): unknown };

/**
 * Generates chat answers with one model, one context and one context sequence.
 *
 * The conversation state lives in the client; every request carries the whole conversation. The session's
 * history is replaced only when it differs from what the sequence already evaluated, so a follow-up question
 * re-uses the KV cache of the earlier turns. Requests are served one at a time (a second request waits).
 *
 * When the rendered conversation (through the model's own chat template) plus the answer budget does not fit
 * the context window, the oldest turns are dropped before generation and the count is returned as
 * `droppedMessages` so the user can see it.
 */
export class ChatService {
  private readonly session: LlamaChatSession;
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * Compiled grammars by schema text, bounded (a client that sends a new schema with every request — an agent
   * framework whose tool set changes per call, or a hostile one — must not grow the sidecar without end).
   */
  private readonly grammars = new LRUCache<string, Promise<SchemaGrammar>>({
    max: GRAMMAR_CACHE_ENTRIES,
    maxSize: GRAMMAR_CACHE_CHARS,
    sizeCalculation: (_grammar, key) => Math.max(1, key.length),
  });

  /** Prompt-lookup drafting, on only for requests with `draftFromPrompt` (the editing actions). */
  private readonly drafts = new DraftPredictor();

  constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
  ) {
    this.session = new LlamaChatSession({
      contextSequence: context.getSequence({ tokenPredictor: this.drafts }),
      autoDisposeSequence: true,
    });
  }

  /** node-llama-cpp's name for the chat template in use (e.g. "Llama2Chat", "ChatML", "JinjaTemplate"). */
  get chatWrapperName(): string {
    return this.session.chatWrapper.wrapperName;
  }

  /**
   * Answer the last user message of `params.messages`, calling `onDelta` with each piece of text.
   * Cancelling `signal` stops decoding promptly and resolves with `stopReason: "cancelled"` and the partial text.
   */
  send(
    params: ChatSendParams,
    onDelta: (text: string) => void,
    signal: AbortSignal,
    onReasoning?: (text: string) => void,
  ): Promise<ChatSendResult> {
    const run = this.queue.then(() => this.generate(params, onDelta, signal, onReasoning));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async generate(
    params: ChatSendParams,
    onDelta: (text: string) => void,
    signal: AbortSignal,
    onReasoning?: (text: string) => void,
  ): Promise<ChatSendResult> {
    const start = performance.now();
    const gen = { ...DEFAULT_GENERATION, ...stripUndefined(params.params ?? {}) };
    const prompt = params.messages[params.messages.length - 1]!.content;
    const { history, droppedMessages, answerRoom } =
      params.contextPolicy === "strict"
        ? this.fitStrict(params.system, params.messages)
        : {
            ...(await this.fitToContext(params.system, params.messages, gen.maxTokens, signal)),
            answerRoom: undefined,
          };
    // Strict: the answer gets what the window has left after the whole prompt (llama-server's way).
    if (answerRoom !== undefined) gen.maxTokens = Math.max(1, Math.min(gen.maxTokens, answerRoom));

    if (!sameHistory(this.session.getChatHistory(), history)) this.session.setChatHistory(history);

    const grammar = params.responseSchema ? await this.grammarFor(params.responseSchema) : undefined;
    const meter = this.session.sequence.tokenMeter;
    this.drafts.mode = params.draftFromPrompt ? "lookup" : "off";
    const draftsBefore = this.session.sequence.tokenPredictions;
    const inputBefore = meter.usedInputTokens;
    const outputBefore = meter.usedOutputTokens;
    let firstTokenAt: number | undefined;
    let text = "";
    let reasoning = "";
    let stopReason: StopReason;
    if (!signal.aborted) {
      const response = await this.session.promptWithMeta(prompt, {
        maxTokens: gen.maxTokens,
        temperature: gen.temperature,
        topP: gen.topP,
        topK: gen.topK,
        seed: params.params?.seed,
        grammar,
        signal,
        stopOnAbortSignal: true,
        onTextChunk: (chunk) => {
          firstTokenAt ??= performance.now();
          onDelta(chunk);
        },
        // A reasoning model's thought segments (the chat wrapper knows its tags); onTextChunk never sees them.
        onResponseChunk: (chunk) => {
          if (chunk.type !== "segment" || chunk.segmentType !== "thought" || !chunk.text) return;
          firstTokenAt ??= performance.now();
          reasoning += chunk.text;
          onReasoning?.(chunk.text);
        },
      });
      text = response.responseText;
      stopReason =
        response.stopReason === "abort" ? "cancelled" : response.stopReason === "maxTokens" ? "maxTokens" : "stop";
    } else {
      stopReason = "cancelled";
    }
    let json: unknown;
    if (grammar && stopReason === "stop") {
      // node-llama-cpp's parser can refuse what its own grammar let through (its integers admit an exponent, so
      // "3e-1" passes the grammar and fails the type check): the text is still JSON, so it is parsed as such and
      // the caller validates the values (the agent does, with ajv).
      try {
        json = grammar.parse(text);
      } catch {
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
      }
    }
    const end = performance.now();
    const completionTokens = meter.usedOutputTokens - outputBefore;
    const ttft = (firstTokenAt ?? end) - start;
    const decodeSeconds = (end - (firstTokenAt ?? end)) / 1000;
    return {
      text,
      stopReason,
      usage: { promptTokens: meter.usedInputTokens - inputBefore, completionTokens },
      timings: {
        ttftMs: round(ttft),
        totalMs: round(end - start),
        // The first token's time is in TTFT; the rate covers the tokens decoded after it.
        tokensPerSecond: decodeSeconds > 0 && completionTokens > 1 ? round((completionTokens - 1) / decodeSeconds) : 0,
      },
      droppedMessages,
      ...(params.draftFromPrompt
        ? {
            speculation: {
              accepted: this.session.sequence.tokenPredictions.validated - draftsBefore.validated,
              refused: this.session.sequence.tokenPredictions.refuted - draftsBefore.refuted,
            },
          }
        : {}),
      ...(grammar ? { json } : {}),
      ...(reasoning ? { reasoning } : {}),
    };
  }

  /** How many compiled grammars are kept, and the most there may be. */
  grammarCacheStats(): { entries: number; maxEntries: number } {
    return { entries: this.grammars.size, maxEntries: GRAMMAR_CACHE_ENTRIES };
  }

  /**
   * A grammar that makes the model's answer valid JSON of `schema` (node-llama-cpp's JSON-schema grammar),
   * cached per schema in a bounded LRU ({@link GRAMMAR_CACHE_ENTRIES} schemas, {@link GRAMMAR_CACHE_CHARS}
   * characters of schema text).
   * @throws HearthError InvalidParams when the schema uses features the grammar does not support.
   */
  private grammarFor(schema: object): Promise<SchemaGrammar> {
    const key = JSON.stringify(schema);
    let grammar = this.grammars.get(key);
    if (!grammar) {
      // The schema arrives as JSON: its static type is unknown here, validation is the grammar's.
      grammar = (this.model.llama.createGrammarForJsonSchema(schema as never) as Promise<SchemaGrammar>).catch(
        (error: unknown) => {
          this.grammars.delete(key);
          throw new HearthError(
            ErrorCodes.InvalidParams,
            `Invalid params: 'responseSchema' is not a JSON schema the grammar supports (${String(error)}).`,
          );
        },
      );
      this.grammars.set(key, grammar);
    }
    return grammar;
  }

  /**
   * Build the node-llama-cpp chat history (without the final user prompt), dropping the oldest messages until
   * the rendered prompt plus `answerBudget` tokens fits the context window. The system prompt and the final user
   * message are always kept. Turns are dropped from the front; an assistant message left at the front is dropped
   * with its user message so the history still alternates.
   *
   * Cost: messages that cannot fit by their length alone ({@link MAX_CHARS_PER_TOKEN}) are dropped without
   * tokenising; among the rest, the first kept message is found by binary search over the turn starts, about
   * log2(turns) renders of at most the context's worth of text, with a yield between renders so a cancel or a
   * disconnect is seen.
   * @throws HearthError PromptTooLong when the system prompt and the last message alone do not fit.
   * @throws HearthError Cancelled when `signal` aborts meanwhile.
   */
  /**
   * The whole conversation, or PromptTooLong with the counts when it does not fit the window (llama-server's
   * policy: no turn is left out; the answer gets the rest of the window).
   * @throws HearthError PromptTooLong with `promptTokens` and `contextTokens`.
   */
  fitStrict(
    system: string | undefined,
    messages: ChatMessage[],
  ): { history: ChatHistoryItem[]; droppedMessages: number; answerRoom: number } {
    const contextSize = this.context.contextSize;
    const last = messages.length - 1;
    const history = toHistory(system, messages.slice(0, last));
    const tokens = this.countTokens(history, messages[last]!.content);
    if (tokens >= contextSize) {
      throw new HearthError(
        ErrorCodes.PromptTooLong,
        `The request (${tokens.toLocaleString("en")} prompt tokens) exceeds the ${contextSize}-token context window.`,
        "Send fewer or shorter messages, or serve the model with a larger context (--context-size).",
        { promptTokens: tokens, contextTokens: contextSize },
      );
    }
    return { history, droppedMessages: 0, answerRoom: contextSize - tokens };
  }

  async fitToContext(
    system: string | undefined,
    messages: ChatMessage[],
    answerBudget: number,
    signal?: AbortSignal,
  ): Promise<{ history: ChatHistoryItem[]; droppedMessages: number }> {
    const contextSize = this.context.contextSize;
    // Keep at least a quarter of the window for the prompt, however large the requested answer.
    const budget = contextSize - Math.min(answerBudget, Math.floor(contextSize * 0.75));
    const last = messages.length - 1;
    const lastText = messages[last]!.content;
    const maxChars = budget * MAX_CHARS_PER_TOKEN;
    const keptChars = (system?.length ?? 0) + lastText.length;
    const tooLong = (tokens?: number) =>
      new HearthError(
        ErrorCodes.PromptTooLong,
        `The message${system ? " and the system prompt" : ""} ${tokens === undefined ? `(${keptChars.toLocaleString("en")} characters)` : `(${tokens.toLocaleString("en")} tokens)`} ${system ? "do" : "does"} not fit the ${contextSize}-token context window, which leaves ${budget} tokens for the prompt after the answer's ${contextSize - budget}.`,
        "Shorten the message or the system prompt, attach less, or raise 'hearth.contextSize' (CLI: --context-size).",
      );
    if (keptChars > maxChars) throw tooLong();
    const alone = this.countTokens(toHistory(system, []), lastText);
    if (alone > budget) throw tooLong(alone);

    // Turn starts, oldest first: 0, then every user message before the last; `last` itself (nothing kept
    // before it) always fits, as checked above.
    const starts = [0, ...messages.flatMap((m, i) => (i > 0 && i < last && m.role === "user" ? [i] : [])), last];
    // Skip starts whose text alone is longer than the budget could hold at any tokenisation.
    let lo = 0;
    let chars = keptChars + messages.slice(0, last).reduce((n, m) => n + m.content.length, 0);
    for (let i = 0; chars > maxChars && i < starts.length - 1; i++) {
      for (let k = starts[i]!; k < starts[i + 1]!; k++) chars -= messages[k]!.content.length;
      lo = i + 1;
    }
    let hi = starts.length - 1; // fits
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw new HearthError(ErrorCodes.Cancelled, "Cancelled.");
      const tokens = this.countTokens(toHistory(system, messages.slice(starts[mid]!, last)), lastText);
      if (tokens <= budget) hi = mid;
      else lo = mid + 1;
    }
    const first = starts[lo]!;
    return { history: toHistory(system, messages.slice(first, last)), droppedMessages: first };
  }

  private countTokens(history: ChatHistoryItem[], prompt: string): number {
    const { contextText } = this.session.chatWrapper.generateContextState({
      chatHistory: [...history, { type: "user", text: prompt }, { type: "model", response: [] }],
    });
    return contextText.tokenize(this.model.tokenizer).length;
  }

  dispose(): void {
    this.session.dispose();
  }
}

function toHistory(system: string | undefined, messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  if (system) history.push({ type: "system", text: system });
  for (const m of messages) {
    history.push(m.role === "user" ? { type: "user", text: m.content } : { type: "model", response: [m.content] });
  }
  return history;
}

function sameHistory(a: ChatHistoryItem[], b: ChatHistoryItem[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
