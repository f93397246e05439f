import { HearthError } from "../../../shared/errors";
import {
  ErrorCodes,
  type ChatSendParams,
  type ChatSendResult,
  type EngineKind,
  type StopReason,
} from "../../../shared/protocol";
import { DEFAULT_GENERATION } from "../defaults";
import type { ChatEngine } from "../types";
import { ContextOverflow, type EngineHttp } from "./http";
import { ENGINE_KINDS_TABLE } from "./kinds";
import { round } from "./units";

interface ChatChunk {
  choices?: Array<{
    delta?: {
      content?: string | null;
      reasoning_content?: string | null;
      reasoning?: string | null;
      /** Streamed calls: the first piece of each has its id and name, later ones more of its arguments. */
      tool_calls?: Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }>;
    };
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/**
 * Chat over `POST /v1/chat/completions` with SSE (every kind speaks it). Reasoning text (`reasoning_content`,
 * `reasoning`, inline `<think>…</think>`) is kept out of the answer and passed on apart. Cancel aborts the HTTP
 * request at once.
 */
export class RemoteChat implements ChatEngine {
  /** Characters per token assumed when fitting a conversation (English and code: 3 to 4); learnt on overflow. */
  private charsPerToken = 3;

  constructor(
    private readonly http: EngineHttp,
    private readonly kind: EngineKind,
    private readonly model: string,
    /** The context window the engine allocated, tokens. */
    private contextSize: number,
  ) {}

  /**
   * The newest messages that fit the engine's window with the answer's budget (oldest whole turns dropped, as the
   * embedded engine does), by an estimate of {@link charsPerToken}: a server that would cut the prompt silently
   * (Ollama) gets one that fits, and the user is told how many messages were left out.
   * @throws HearthError PromptTooLong when the system prompt and the last message alone do not fit.
   */
  private fit(params: ChatSendParams, maxTokens: number): { messages: ChatSendParams["messages"]; dropped: number } {
    const budget = this.contextSize - Math.min(maxTokens, Math.floor(this.contextSize * 0.75));
    const cost = (text: string) => Math.ceil(text.length / this.charsPerToken) + 4;
    const all = params.messages;
    const last = all.length - 1;
    let used = cost(params.system ?? "") + cost(all[last]!.content);
    if (used > budget) {
      throw new HearthError(
        ErrorCodes.PromptTooLong,
        `The message${params.system ? " and the system prompt" : ""} (about ${used} tokens) ${params.system ? "do" : "does"} not fit the ${this.contextSize}-token context of the engine at ${this.http.url}, which leaves ${budget} for the prompt.`,
        "Shorten the message or the system prompt, attach less, or serve the model with a larger context.",
      );
    }
    let first = last;
    while (first > 0 && used + cost(all[first - 1]!.content) <= budget) used += cost(all[--first]!.content);
    // Start at a user message, so the history still alternates.
    while (first < last && all[first]!.role !== "user") first++;
    return { messages: all.slice(first), dropped: first };
  }

  async send(
    params: ChatSendParams,
    onDelta: (text: string) => void,
    signal: AbortSignal,
    onReasoning?: (text: string) => void,
  ): Promise<ChatSendResult> {
    try {
      return await this.attempt(params, onDelta, signal, onReasoning);
    } catch (error) {
      // llama-server says by how much: learn its characters per token and window, and fit once more (strict: the
      // engine's refusal, with its counts, is the answer).
      if (!(error instanceof ContextOverflow) || !error.promptTokens || params.contextPolicy === "strict") throw error;
      const chars = [params.system ?? "", ...params.messages.map((m) => m.content)].join("").length;
      if (error.contextTokens) this.contextSize = error.contextTokens;
      this.charsPerToken = Math.max(0.5, Math.min(this.charsPerToken, (chars / error.promptTokens) * 0.9));
      return this.attempt(params, onDelta, signal, onReasoning);
    }
  }

  private async attempt(
    params: ChatSendParams,
    onDelta: (text: string) => void,
    signal: AbortSignal,
    onReasoning?: (text: string) => void,
  ): Promise<ChatSendResult> {
    const started = performance.now();
    const gen = {
      ...DEFAULT_GENERATION,
      ...Object.fromEntries(Object.entries(params.params ?? {}).filter(([, v]) => v !== undefined)),
    };
    // Strict: every turn is sent as it is; the engine says when they do not fit.
    const { messages, dropped } =
      params.contextPolicy === "strict" ? { messages: params.messages, dropped: 0 } : this.fit(params, gen.maxTokens);
    const body = {
      model: this.model,
      messages: [
        ...(params.system ? [{ role: "system", content: params.system }] : []),
        ...messages.map((m) => ({ role: m.role, content: m.content })),
      ],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: gen.maxTokens,
      temperature: gen.temperature,
      top_p: gen.topP,
      ...(ENGINE_KINDS_TABLE[this.kind].topK ? { top_k: gen.topK } : {}),
      ...(params.params?.seed !== undefined ? { seed: params.params.seed } : {}),
      ...(params.tools?.length
        ? {
            tools: params.tools.map((t) => ({
              type: "function",
              function: { name: t.name, description: t.description ?? "", parameters: t.parameters },
            })),
            tool_choice:
              typeof params.toolChoice === "object"
                ? { type: "function", function: { name: params.toolChoice.name } }
                : (params.toolChoice ?? "auto"),
          }
        : params.responseSchema
          ? { response_format: { type: "json_schema", json_schema: { name: "answer", schema: params.responseSchema } } }
          : {}),
    };
    /** Calls by their stream index, pieces joined (OpenAI, vLLM, llama-server and Ollama stream them so). */
    const calls = new Map<number, { id?: string; name: string; arguments: string }>();
    const think = new ThinkFilter();
    let text = "";
    let reasoning = "";
    const thought = (piece: string) => {
      if (!piece) return;
      reasoning += piece;
      onReasoning?.(piece);
    };
    let firstAt: number | undefined;
    let finish: string | undefined;
    let usage: ChatChunk["usage"];
    let stopReason: StopReason;
    try {
      for await (const data of this.http.events("/v1/chat/completions", body, signal, "chat", {
        maxTokens: gen.maxTokens,
      })) {
        let chunk: ChatChunk;
        try {
          chunk = JSON.parse(data) as ChatChunk;
        } catch {
          continue; // a malformed event is skipped; the stream goes on
        }
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        if (choice?.finish_reason) finish = choice.finish_reason;
        const delta = choice?.delta;
        thought(delta?.reasoning_content ?? delta?.reasoning ?? "");
        for (const [i, piece] of (delta?.tool_calls ?? []).entries()) {
          const index = typeof piece.index === "number" ? piece.index : i;
          const call = calls.get(index) ?? { name: "", arguments: "" };
          if (piece.id) call.id = piece.id;
          if (piece.function?.name) call.name += piece.function.name;
          if (piece.function?.arguments) call.arguments += piece.function.arguments;
          calls.set(index, call);
          firstAt ??= performance.now();
        }
        const content = delta?.content;
        if (content) {
          const { answer, reasoning: inline } = think.push(content);
          thought(inline);
          if (answer) {
            firstAt ??= performance.now();
            text += answer;
            onDelta(answer);
          }
        }
      }
      stopReason = finish === "length" ? "maxTokens" : "stop";
    } catch (error) {
      if ((error as HearthError).code !== ErrorCodes.Cancelled) throw error;
      stopReason = "cancelled";
    }
    let json: unknown;
    if (params.responseSchema && stopReason === "stop") {
      // An engine that ignores response_format answers in text: `json` stays absent and the text is the answer
      // (the agent's repair step lifts a call out of it), rather than failing a whole request.
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    const toolCalls = [...calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({ ...(c.id ? { id: c.id } : {}), name: c.name, arguments: c.arguments || "{}" }))
      .filter((c) => c.name);
    const end = performance.now();
    const completionTokens =
      usage?.completion_tokens ?? Math.ceil((text.length + toolCalls.reduce((n, c) => n + c.arguments.length, 0)) / 4);
    const decodeSeconds = (end - (firstAt ?? end)) / 1000;
    return {
      text,
      stopReason,
      usage: { promptTokens: usage?.prompt_tokens ?? 0, completionTokens },
      timings: {
        ttftMs: round((firstAt ?? end) - started),
        totalMs: round(end - started),
        tokensPerSecond: decodeSeconds > 0 && completionTokens > 1 ? round((completionTokens - 1) / decodeSeconds) : 0,
      },
      droppedMessages: dropped,
      ...(json !== undefined ? { json } : {}),
      ...(toolCalls.length ? { toolCalls } : {}),
      ...(reasoning ? { reasoning } : {}),
    };
  }

  dispose(): void {}
}

/**
 * Splits streamed text into the answer and the `<think>…</think>` blocks in it, across chunk boundaries: what a
 * reasoning model thinks is not the answer, is shown apart (folded in the chat view) and never reaches code.
 */
export class ThinkFilter {
  private inside = false;
  private pending = "";

  /**
   * The answer text and the reasoning text in `chunk`; either may be "" (inside a block, or while a tag may be
   * starting: a possible partial tag is held for the next chunk).
   */
  push(chunk: string): { answer: string; reasoning: string } {
    let s = this.pending + chunk;
    this.pending = "";
    let answer = "";
    let reasoning = "";
    for (;;) {
      const tag = this.inside ? "</think>" : "<think>";
      const at = s.indexOf(tag);
      if (at >= 0) {
        if (this.inside) reasoning += s.slice(0, at);
        else answer += s.slice(0, at);
        s = s.slice(at + tag.length);
        this.inside = !this.inside;
        continue;
      }
      // Keep a possible partial tag at the end for the next chunk.
      let keep = 0;
      for (let k = Math.min(tag.length - 1, s.length); k > 0; k--) {
        if (tag.startsWith(s.slice(-k))) {
          keep = k;
          break;
        }
      }
      if (this.inside) reasoning += s.slice(0, s.length - keep);
      else answer += s.slice(0, s.length - keep);
      this.pending = s.slice(s.length - keep);
      return { answer, reasoning };
    }
  }
}
