import { HearthError } from "../../../shared/errors";
import {
  ErrorCodes,
  type CompleteParams,
  type CompleteResult,
  type EngineKind,
  type InfillParams,
  type InfillResult,
} from "../../../shared/protocol";
import { finishFim, FimStream } from "../../completion/fimStream";
import { INFILL_DEFAULTS } from "../defaults";
import type { FimEngine } from "../types";
import { ContextOverflow, type EngineHttp } from "./http";
import { ThinkFilter } from "./chat";
import { ENGINE_KINDS_TABLE, type FimRoute } from "./kinds";
import { CHARS_PER_TOKEN, round } from "./units";

export type { FimRoute };

interface InfillAnswer {
  content?: string;
  stop_type?: string;
  tokens_predicted?: number;
  tokens_evaluated?: number;
  tokens_cached?: number;
  timings?: { prompt_n?: number; predicted_n?: number; prompt_ms?: number };
}

/** A streamed event's JSON, or undefined for a malformed one (skipped; the stream goes on). */
function parseEvent<T>(data: string): T | undefined {
  try {
    return JSON.parse(data) as T;
  } catch {
    return undefined;
  }
}

interface FimAnswer {
  content: string;
  hitLimit: boolean;
  promptTokens?: number | undefined;
  evaluatedTokens?: number | undefined;
  completionTokens?: number | undefined;
  promptMs?: number | undefined;
  /** ms from the request to its first piece of text. */
  firstMs?: number | undefined;
}

/**
 * The best FIM call an engine has for a model, by ENGINE-PROTOCOLS.md's rule: llama-server's `/infill`; Ollama's
 * native suffix API when the model has the `insert` capability (`POST /api/show`), else a raw prompt from the
 * family's FIM tokens through `/api/generate`; vLLM, LM Studio and generic servers: a raw prompt through
 * `/v1/completions` (their `suffix` is unsupported).
 * @throws HearthError Unsupported when no call fits (no insert capability and no known FIM template).
 */
export async function chooseFimRoute(
  http: EngineHttp,
  kind: EngineKind,
  model: string,
  signal: AbortSignal,
): Promise<FimRoute> {
  const row = ENGINE_KINDS_TABLE[kind];
  const route = await row.fimRoute(http, model, signal);
  if (route) return route;
  throw new HearthError(
    ErrorCodes.Unsupported,
    `The engine at ${http.url} cannot do fill-in-the-middle with '${model}': ` +
      (row.fimLimit ?? "") +
      "Hearth knows no FIM template for its family.",
    "Serve a code model with FIM (Qwen2.5-Coder, DeepSeek-Coder, StarCoder2, Codestral, CodeGemma, Code Llama), " +
      "serve it with llama-server (/infill), or use the embedded engine for completion.",
  );
}

/**
 * FIM on a remote engine over its best route ({@link chooseFimRoute}): llama-server's `POST /infill` (the server
 * applies the GGUF's FIM tokens; other files' context in `input_extra`, as llama.vscode sends it), Ollama's
 * `/api/generate` (with `suffix`, or raw), or `/v1/completions` with the family's template. The same
 * post-processing as the embedded engine: the first line of a single-line request, the repeated-line cut and the
 * syntax trim of multi-line suggestions.
 */
export class RemoteFim implements FimEngine {
  /** Characters per token of what this engine was sent; learnt from an overflow's numbers (starts at 2). */
  private charsPerToken = CHARS_PER_TOKEN;

  constructor(
    private readonly http: EngineHttp,
    private readonly model: string,
    /** The engine's context per slot, tokens: the prompt is cut to fit it (llama-server refuses, not trims). */
    private contextSize: number,
    private readonly route: FimRoute = { kind: "infill" },
  ) {}

  /** Prefix, suffix and other files' context cut to the window at the current {@link charsPerToken}. */
  private pieces(params: InfillParams, maxTokens: number) {
    // Token budgets as the embedded engine takes them, capped by what the engine's window holds after the
    // answer (70 % prefix, 30 % suffix); other files' context only in what room is left.
    const room = Math.max(32, this.contextSize - maxTokens - 16);
    const prefixTokens = Math.min(params.prefixTokens ?? INFILL_DEFAULTS.prefixTokens, Math.floor(room * 0.7));
    const suffixTokens = Math.min(params.suffixTokens ?? INFILL_DEFAULTS.suffixTokens, Math.floor(room * 0.3));
    const cpt = this.charsPerToken;
    const prefix = params.prefix.slice(-Math.floor(prefixTokens * cpt));
    const suffix = params.suffix.slice(0, Math.floor(suffixTokens * cpt));
    const left = room - prefixTokens - suffixTokens;
    const context = params.context && left > 0 ? params.context.slice(-Math.floor(left * cpt)) : "";
    return { prefix, suffix, context, chars: prefix.length + suffix.length + context.length };
  }

  /**
   * One streaming request over the route; each piece of text goes through `fim` (which may stop it: the request
   * is then cancelled, and what had arrived is the answer).
   */
  private async request(
    params: InfillParams,
    maxTokens: number,
    p: ReturnType<RemoteFim["pieces"]>,
    fim: FimStream,
  ): Promise<FimAnswer> {
    const what = "fill-in-the-middle";
    const newline = params.singleLine ? ["\n"] : [];
    const route = this.route;
    const think = new ThinkFilter();
    const answer: FimAnswer = { content: "", hitLimit: false };
    const started = performance.now();
    /** @returns false when Hearth stops the answer here. */
    const take = (piece: string | undefined) => {
      if (!piece) return true;
      answer.firstMs ??= performance.now() - started;
      const { answer: text } = think.push(piece);
      answer.content += text;
      return fim.push(text);
    };
    if (route.kind === "infill") {
      const body = {
        model: this.model,
        input_prefix: p.prefix,
        input_suffix: p.suffix,
        input_extra: p.context ? [{ filename: "context", text: p.context }] : [],
        n_predict: maxTokens,
        temperature: 0,
        cache_prompt: true,
        stream: true,
        ...(params.timeBudgetMs ? { t_max_predict_ms: params.timeBudgetMs } : {}),
        ...(newline.length ? { stop: newline } : {}),
      };
      // llama-server ends the stream with an event whose `stop` is true (no [DONE]); a JSON string value cannot
      // hold an unescaped `"stop":true`, so the test on the raw text is exact.
      const last = (data: string) => data.includes('"stop":true');
      for await (const data of this.http.events("/infill", body, fim.signal, what, { last, maxTokens })) {
        const a = parseEvent<InfillAnswer & { stop?: boolean }>(data);
        if (!a) continue;
        // Every event counts the prompt and the tokens so far: an answer Hearth stops early still has them.
        answer.promptTokens = a.tokens_evaluated ?? answer.promptTokens;
        answer.completionTokens = a.tokens_predicted ?? answer.completionTokens;
        if (!take(a.content)) break;
        if (a.stop) {
          const promptTokens = a.tokens_evaluated ?? a.timings?.prompt_n;
          Object.assign(answer, {
            hitLimit: a.stop_type === "limit",
            promptTokens,
            evaluatedTokens: a.timings?.prompt_n ?? promptTokens,
            completionTokens: a.tokens_predicted ?? a.timings?.predicted_n,
            promptMs: a.timings?.prompt_ms,
          });
        }
      }
      return answer;
    }
    // Other files' context goes first, as comments the client already wrote in the file's language.
    const prefix = p.context ? `${p.context}\n${p.prefix}` : p.prefix;
    if (route.kind === "ollama-suffix" || route.kind === "ollama-raw") {
      const raw = route.kind === "ollama-raw";
      const body = {
        model: this.model,
        prompt: raw ? route.template.prompt(prefix, p.suffix) : prefix,
        ...(raw ? { raw: true } : { suffix: p.suffix }),
        stream: true,
        options: { num_predict: maxTokens, temperature: 0, stop: [...(raw ? route.template.stop : []), ...newline] },
      };
      const last = (data: string) => data.includes('"done":true');
      for await (const data of this.http.events("/api/generate", body, fim.signal, what, {
        framing: "ndjson",
        last,
        maxTokens,
      })) {
        const a = parseEvent<{
          response?: string;
          done?: boolean;
          done_reason?: string;
          prompt_eval_count?: number;
          eval_count?: number;
          prompt_eval_duration?: number;
        }>(data);
        if (!a) continue;
        if (!take(a.response)) break;
        if (a.done) {
          Object.assign(answer, {
            hitLimit: a.done_reason === "length",
            promptTokens: a.prompt_eval_count,
            completionTokens: a.eval_count,
            promptMs: a.prompt_eval_duration !== undefined ? a.prompt_eval_duration / 1e6 : undefined,
          });
        }
      }
      return answer;
    }
    const body = {
      model: this.model,
      prompt: route.template.prompt(prefix, p.suffix),
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
      stop: [...route.template.stop, ...newline],
    };
    for await (const data of this.http.events("/v1/completions", body, fim.signal, what, { maxTokens })) {
      const a = parseEvent<{
        choices?: Array<{ text?: string; finish_reason?: string | null }>;
        usage?: { prompt_tokens?: number; completion_tokens?: number };
      }>(data);
      if (!a) continue;
      const choice = a.choices?.[0];
      if (!take(choice?.text)) break;
      if (choice?.finish_reason === "length") answer.hitLimit = true;
      if (a.usage) {
        answer.promptTokens = a.usage.prompt_tokens;
        answer.completionTokens = a.usage.completion_tokens;
      }
    }
    return answer;
  }

  /**
   * One call; when the server says the prompt is over its window (llama-server refuses rather than trims),
   * learn its characters per token and its real window from the numbers and send it once more, cut.
   */
  private async call(params: InfillParams, maxTokens: number, fim: FimStream): Promise<FimAnswer> {
    const first = this.pieces(params, maxTokens);
    try {
      return await this.request(params, maxTokens, first, fim);
    } catch (error) {
      if (!(error instanceof ContextOverflow) || !error.promptTokens) throw error;
      if (error.contextTokens) this.contextSize = error.contextTokens;
      this.charsPerToken = Math.max(0.5, (first.chars / error.promptTokens) * 0.9);
      return this.request(params, maxTokens, this.pieces(params, maxTokens), fim);
    }
  }

  /**
   * A plain continuation of `params.prompt` through the OpenAI-compatible `/v1/completions` every kind serves
   * (llama-server, Ollama, vLLM, LM Studio), streamed; the engine applies the stop strings.
   * @throws HearthError EngineUnavailable, EngineAuth, PromptTooLong (the engine's window).
   */
  async complete(
    params: CompleteParams,
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<CompleteResult> {
    const started = performance.now();
    const body = {
      model: this.model,
      prompt: params.prompt,
      max_tokens: params.maxTokens ?? INFILL_DEFAULTS.maxTokens,
      stream: true,
      stream_options: { include_usage: true },
      ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
      ...(params.topP !== undefined ? { top_p: params.topP } : {}),
      ...(params.seed !== undefined ? { seed: params.seed } : {}),
      ...(params.stop?.length ? { stop: params.stop } : {}),
    };
    let text = "";
    let firstAt: number | undefined;
    let finish: string | undefined;
    let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
    let stopReason: CompleteResult["stopReason"];
    try {
      for await (const data of this.http.events("/v1/completions", body, signal, "completion", {
        maxTokens: body.max_tokens,
      })) {
        const a = parseEvent<{
          choices?: Array<{ text?: string; finish_reason?: string | null }>;
          usage?: { prompt_tokens?: number; completion_tokens?: number };
        }>(data);
        if (!a) continue;
        const piece = a.choices?.[0]?.text;
        if (piece) {
          firstAt ??= performance.now();
          text += piece;
          onDelta(piece);
        }
        finish = a.choices?.[0]?.finish_reason ?? finish;
        if (a.usage) usage = a.usage;
      }
      stopReason = finish === "length" ? "maxTokens" : "stop";
    } catch (error) {
      if ((error as HearthError).code !== ErrorCodes.Cancelled) throw error;
      stopReason = "cancelled";
    }
    const end = performance.now();
    return {
      text,
      stopReason,
      usage: {
        promptTokens: usage?.prompt_tokens ?? Math.ceil(params.prompt.length / CHARS_PER_TOKEN),
        completionTokens: usage?.completion_tokens ?? Math.ceil(text.length / CHARS_PER_TOKEN),
      },
      timings: { totalMs: round(end - started), ttftMs: round((firstAt ?? end) - started) },
    };
  }

  async infill(params: InfillParams, signal: AbortSignal): Promise<InfillResult> {
    const started = performance.now();
    const maxTokens = params.maxTokens ?? INFILL_DEFAULTS.maxTokens;
    const fim = new FimStream(params, signal);
    let answer: FimAnswer;
    let stopReason: InfillResult["stopReason"];
    try {
      answer = await this.call(params, maxTokens, fim);
      stopReason = fim.reason(answer.hitLimit ? "maxTokens" : "stop");
    } catch (error) {
      if ((error as HearthError).code !== ErrorCodes.Cancelled) throw error;
      // Hearth's own stop (time budget) keeps what had arrived; the caller's cancel shows nothing.
      answer = { content: fim.stopped ? fim.text : "", hitLimit: false };
      stopReason = fim.reason("cancelled");
    } finally {
      fim.close();
    }
    let text = answer.content;
    // A raw template's stop tokens, should an engine return them, are never shown.
    if (this.route.kind === "completions" || this.route.kind === "ollama-raw") {
      for (const stop of this.route.template.stop) if (text.includes(stop)) text = text.slice(0, text.indexOf(stop));
    }
    const finished = await finishFim(params, text, stopReason);
    const end = performance.now();
    const promptTokens = answer.promptTokens ?? 0;
    return {
      text: finished.text,
      stopReason: finished.stopReason,
      usage: {
        promptTokens,
        evaluatedTokens: answer.evaluatedTokens ?? promptTokens,
        completionTokens: answer.completionTokens ?? 0,
      },
      timings: { totalMs: round(end - started), ttftMs: round(answer.promptMs ?? answer.firstMs ?? end - started) },
      ...(finished.linesCut !== undefined ? { linesCut: finished.linesCut } : {}),
    };
  }

  dispose(): void {}
}
