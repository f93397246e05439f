import { createParser, type EventSourceMessage } from "eventsource-parser";
import { HearthError } from "../../../shared/errors";
import { ErrorCodes } from "../../../shared/protocol";

/** Where a remote engine lives and how to authenticate to it. */
export interface EngineEndpoint {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Sent as `Authorization: Bearer …` to this URL only; never logged. */
  apiKey?: string | undefined;
}

/** Timeouts and retries of one engine's requests. */
export interface HttpLimits {
  /**
   * A request fails when its response headers take longer than this, ms; so does a JSON answer whose body takes
   * longer, and a stream whose next chunk does (a long stream that keeps sending is not cut).
   */
  firstByteMs: number;
  /** Attempts for 429 / 503 answers (honouring `Retry-After`, capped at `maxRetryDelayMs`). */
  attempts: number;
  maxRetryDelayMs: number;
  /** A stream ends with an error after this long in all, ms, however it keeps sending. */
  streamMs: number;
  /**
   * With the answer's `max_tokens` known, a stream also ends after the first-byte limit plus this much per token,
   * ms (the slowest engine worth waiting for: 2 000 is half a token a second), whichever limit comes first.
   */
  msPerToken: number;
  /** Bytes of one JSON answer (after decompression) at most. */
  maxJsonBytes: number;
  /** Bytes of one stream event or line at most (an SSE line that never ends, an endless NDJSON line). */
  maxEventBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  firstByteMs: 60_000,
  attempts: 3,
  maxRetryDelayMs: 10_000,
  streamMs: 30 * 60_000,
  msPerToken: 2_000,
  maxJsonBytes: 64 * 1024 * 1024,
  maxEventBytes: 4 * 1024 * 1024,
};

/**
 * An engine URL as errors and logs show it: without credentials (`user:pass@`) or a query string (`?key=…`),
 * which may hold secrets.
 */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//").replace(/\?.*$/, "");
  }
}

/**
 * An optional metadata answer: undefined when the engine has no such route or answers it oddly, but a refused
 * key, a cancel, or an engine that does not answer at all (EngineUnavailable: a timeout, a refused connection, a
 * web page instead of its API) fails the load.
 */
export async function optionalAnswer<T>(answer: Promise<T>): Promise<T | undefined> {
  try {
    return await answer;
  } catch (error) {
    const code = (error as HearthError).code;
    if (code === ErrorCodes.EngineAuth || code === ErrorCodes.Cancelled || code === ErrorCodes.EngineUnavailable)
      throw error;
    return undefined;
  }
}

/** A JSON error body as the OpenAI-compatible servers send it: `{error: {message, type, n_prompt_tokens, n_ctx}}`. */
interface ErrorBody {
  error?: { message?: string; type?: string; code?: unknown; n_prompt_tokens?: number; n_ctx?: number } | string;
  message?: string;
}

/**
 * HTTP to one remote engine, with Node's fetch: JSON requests, SSE streams (`eventsource-parser`), bounded
 * retries of 429/503, a first-byte timeout, the caller's abort signal, and every failure as a {@link HearthError}
 * whose one sentence names the engine URL and what to do: unreachable → EngineUnavailable, 401/403 →
 * EngineAuth, 404 → ModelNotFound (or Unsupported for a missing route), 400 "exceeds the context" →
 * PromptTooLong with the numbers, 501 → Unsupported.
 */
export class EngineHttp {
  constructor(
    readonly endpoint: EngineEndpoint,
    private readonly limits: HttpLimits = DEFAULT_HTTP_LIMITS,
  ) {}

  /** The engine's URL as messages show it (see {@link shownUrl}). */
  get url(): string {
    return shownUrl(this.endpoint.url);
  }

  /**
   * The full URL of `path` on the engine: appended to the base URL's path, its query string kept (a base URL
   * `http://h/api?key=x` and `/v1/models` give `http://h/api/v1/models?key=x`); credentials in the URL are taken
   * out (fetch refuses them) and sent as Basic auth unless an API key is set.
   */
  private target(path: string): { href: string; basic?: string } {
    const u = new URL(this.endpoint.url);
    const basic = u.username
      ? Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString("base64")
      : undefined;
    u.username = "";
    u.password = "";
    u.pathname = `${u.pathname.replace(/\/+$/, "")}${path}`;
    return { href: u.toString(), ...(basic ? { basic } : {}) };
  }

  private headers(json: boolean, basic?: string): Record<string, string> {
    const auth = this.endpoint.apiKey ? `Bearer ${this.endpoint.apiKey}` : basic ? `Basic ${basic}` : undefined;
    return {
      ...(json ? { "content-type": "application/json" } : {}),
      accept: "application/json, text/event-stream",
      ...(auth ? { authorization: auth } : {}),
    };
  }

  /**
   * One request, retried on 429/503; resolves with a 2xx response (body unread).
   * @param what names the call in errors ("chat", "embeddings", …).
   */
  async fetch(
    method: "GET" | "POST",
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      // The timeout covers the wait for the response headers only: a stream that keeps sending may take as long
      // as it needs (its chunks have their own limit, see `events`). The caller's signal aborts at any time.
      const abort = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, this.limits.firstByteMs);
      // AbortSignal.any, not a listener of our own on the caller's signal: an index build passes one signal to
      // thousands of embedding requests, and a listener per request would pile up on it.
      const combined = signal ? AbortSignal.any([signal, abort.signal]) : abort.signal;
      let response: Response;
      const target = this.target(path);
      try {
        response = await fetch(target.href, {
          method,
          headers: this.headers(body !== undefined, target.basic),
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: combined,
          // A redirect is not followed: a 307 to another origin would send the prompt (and the key) there, and
          // https → http would send them in clear. The error names the target instead.
          redirect: "manual",
        });
      } catch (error) {
        if (signal?.aborted) throw cancelled();
        if (timedOut) {
          throw new HearthError(
            ErrorCodes.EngineUnavailable,
            `The engine at ${this.url} did not answer the ${what} request within ${this.limits.firstByteMs / 1000} s.`,
            "Check that the server is running and not overloaded, or pick another engine.",
          );
        }
        throw unreachable(this.url, error);
      } finally {
        clearTimeout(timer);
      }
      if (response.ok) {
        // A login page or a proxy's portal answers 200 with HTML: say so, instead of "not JSON" or "stream ended".
        if (/^text\/html/i.test(response.headers.get("content-type") ?? "")) {
          await response.body?.cancel().catch(() => undefined);
          throw new HearthError(
            ErrorCodes.EngineUnavailable,
            `The engine at ${this.url} answered the ${what} request with a web page (HTML), not its API.`,
            "A login page or a proxy is in the way: point the engine URL at the server's API itself (e.g. http://host:8080 for llama-server).",
          );
        }
        return response;
      }
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel().catch(() => undefined);
        const location = response.headers.get("location");
        throw new HearthError(
          ErrorCodes.EngineUnavailable,
          `The engine at ${this.url} redirected the ${what} request (${response.status}) to ${location ? shownUrl(new URL(location, target.href).toString()) : "another address"}; Hearth does not follow redirects.`,
          "Point the engine URL at the server itself (the redirect's target, if you trust it).",
        );
      }
      if ((response.status === 429 || response.status === 503) && attempt < this.limits.attempts) {
        const delay = retryDelay(response.headers.get("retry-after"), attempt, this.limits.maxRetryDelayMs);
        await response.body?.cancel().catch(() => undefined);
        await sleep(delay, signal);
        continue;
      }
      throw await this.httpError(response, what);
    }
  }

  /** POST (or GET without `body`) a JSON request and parse the JSON answer. */
  async json<T>(path: string, body: unknown, signal: AbortSignal | undefined, what: string): Promise<T> {
    const response = await this.fetch(body === undefined ? "GET" : "POST", path, body, signal, what);
    const text = await readText(response, signal, this.url, this.limits.firstByteMs, this.limits.maxJsonBytes);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new HearthError(
        ErrorCodes.EngineUnavailable,
        `The engine at ${this.url} answered the ${what} request with something that is not JSON: ${preview(text)}`,
        "Check that the URL points at the engine's API (not a web page or a proxy's error page).",
      );
    }
  }

  /**
   * POST a streaming request and yield each event's data: an SSE event's `data` (without `[DONE]`; lines that
   * are not `data:`, comments and pings, are skipped by the parser), or with `framing: "ndjson"` (Ollama's native
   * API) each non-empty line. The stream has ended properly at `[DONE]`, or at the event for which `last` says so
   * (llama-server's `/infill` and `/completion` send no `[DONE]`, their last event has `stop: true`). A stream
   * that closes before that, or whose next chunk takes longer than the first-byte limit, ends with
   * EngineUnavailable; a consumer that stops early (a `return` in its loop) cancels the HTTP request. With
   * `maxTokens`, the stream's time limit is about that many tokens' worth (see {@link HttpLimits.msPerToken}), so
   * an engine that keeps sending events without ending the answer is stopped long before the overall limit.
   */
  async *events(
    path: string,
    body: unknown,
    signal: AbortSignal,
    what: string,
    options: { framing?: "sse" | "ndjson"; last?: (data: string) => boolean; maxTokens?: number | undefined } = {},
  ): AsyncGenerator<string> {
    const streamMs =
      options.maxTokens !== undefined && options.maxTokens > 0
        ? Math.min(this.limits.streamMs, this.limits.firstByteMs + options.maxTokens * this.limits.msPerToken)
        : this.limits.streamMs;
    const response = await this.fetch("POST", path, body, signal, what);
    if (!response.body) return;
    const queue: string[] = [];
    let done = false;
    // Only data resets the idle limit (a server's keep-alive comments do not), and bytes since the last event are
    // bounded (a line that never ends); the whole stream has a time limit too.
    const started = performance.now();
    let lastDataAt = started;
    let sinceEvent = 0;
    const take = (data: string) => {
      lastDataAt = performance.now();
      sinceEvent = 0;
      if (done) return;
      if (data === "[DONE]") done = true;
      else {
        queue.push(data);
        if (options.last?.(data)) done = true;
      }
    };
    let feed: (text: string) => void;
    if (options.framing === "ndjson") {
      let rest = "";
      feed = (text) => {
        const lines = (rest + text).split("\n");
        rest = lines.pop()!;
        for (const line of lines) if (line.trim()) take(line.trim());
      };
    } else {
      const parser = createParser({ onEvent: (event: EventSourceMessage) => take(event.data) });
      feed = (text) => parser.feed(text);
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    try {
      const tooLong = () =>
        new HearthError(
          ErrorCodes.EngineUnavailable,
          `The engine at ${this.url} was still sending the ${what} answer after ${Math.round(streamMs / 1000)} s; it was stopped there.`,
          "The text so far is kept; ask for a shorter answer (max tokens), or check the server.",
        );
      while (!done) {
        const now = performance.now();
        if (now - started > streamMs) throw tooLong();
        const idleLeft = Math.max(1, this.limits.firstByteMs - (now - lastDataAt));
        const overallLeft = Math.max(1, streamMs - (now - started));
        const chunk = await readWithin(reader, Math.min(idleLeft, overallLeft), signal);
        if (chunk === "timeout") {
          // Which limit the wait was cut by (a timer may fire a little before the clock says it is due).
          if (overallLeft <= idleLeft) throw tooLong();
          throw new HearthError(
            ErrorCodes.EngineUnavailable,
            `The engine at ${this.url} stopped sending the ${what} answer (no data for ${this.limits.firstByteMs / 1000} s).`,
            "The text so far is kept; check the server, then send the message again.",
          );
        }
        if (chunk.done) break;
        sinceEvent += chunk.value?.byteLength ?? 0;
        if (sinceEvent > this.limits.maxEventBytes) {
          throw new HearthError(
            ErrorCodes.EngineUnavailable,
            `The engine at ${this.url} sent over ${Math.round(this.limits.maxEventBytes / 1024 / 1024)} MiB of the ${what} answer without ending an event; it was stopped there.`,
            "The text so far is kept; check the server or the proxy in front of it.",
          );
        }
        feed(decoder.decode(chunk.value, { stream: true }));
        while (queue.length) yield queue.shift()!;
      }
    } catch (error) {
      if (signal.aborted) throw cancelled();
      if (error instanceof HearthError) throw error;
      throw new HearthError(
        ErrorCodes.EngineUnavailable,
        `The connection to the engine at ${this.url} broke during the ${what} answer (${errorText(error)}).`,
        "The text so far is kept; check the server, then send the message again.",
      );
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    while (queue.length) yield queue.shift()!;
    if (!done && !signal.aborted) {
      throw new HearthError(
        ErrorCodes.EngineUnavailable,
        `The engine at ${this.url} closed the ${what} stream before its end.`,
        "The text so far is kept; check the server, then send the message again.",
      );
    }
  }

  private async httpError(response: Response, what: string): Promise<HearthError> {
    const text = await response.text().catch(() => "");
    let body: ErrorBody = {};
    try {
      body = JSON.parse(text) as ErrorBody;
    } catch {
      // not JSON: the status says enough
    }
    const err = typeof body.error === "object" ? body.error : undefined;
    const message = (typeof body.error === "string" ? body.error : err?.message) ?? body.message ?? preview(text);
    const status = response.status;
    if (status === 401 || status === 403) {
      return new HearthError(
        ErrorCodes.EngineAuth,
        `The engine at ${this.url} refused the ${what} request (${status}${message ? `: ${message}` : ""}).`,
        "Set the engine's API key (VS Code: 'Hearth: Set Engine API Key'; CLI: --engine-key-env NAME).",
      );
    }
    if (
      status === 400 &&
      (err?.type === "exceed_context_size_error" || /context (size|length|window)/i.test(message))
    ) {
      const numbers =
        err?.n_prompt_tokens !== undefined && err.n_ctx !== undefined
          ? ` (${err.n_prompt_tokens} prompt tokens, its context is ${err.n_ctx})`
          : "";
      return new ContextOverflow(
        `The prompt does not fit the context window of the engine at ${this.url}${numbers}.`,
        err?.n_prompt_tokens,
        err?.n_ctx,
      );
    }
    if (status === 404) {
      return /model/i.test(message)
        ? new HearthError(
            ErrorCodes.ModelNotFound,
            `The engine at ${this.url} has no such model (${message}).`,
            "Pick one of the models it lists (Hearth: Select Model, /model, hearth models --engine-url).",
          )
        : new HearthError(
            ErrorCodes.Unsupported,
            `The engine at ${this.url} has no ${what} endpoint (404).`,
            "Use an engine that serves it, or the embedded engine for this role.",
          );
    }
    if (status === 501) {
      return new HearthError(
        ErrorCodes.Unsupported,
        `The engine at ${this.url} cannot do ${what} with this model (501${message ? `: ${message}` : ""}).`,
        what === "fill-in-the-middle"
          ? "Serve a code model with FIM tokens (e.g. Qwen2.5-Coder), or use the embedded engine for completion."
          : "Use a model or engine that supports it.",
      );
    }
    return new HearthError(
      status >= 500 || status === 429 ? ErrorCodes.EngineUnavailable : ErrorCodes.InvalidParams,
      `The engine at ${this.url} answered the ${what} request with ${status}${message ? `: ${message}` : ""}.`,
      status >= 500 || status === 429 ? "Try again later, or check the server's log." : undefined,
    );
  }
}

/** PromptTooLong from an engine, with its numbers when it gave them (llama-server does). */
export class ContextOverflow extends HearthError {
  constructor(
    message: string,
    readonly promptTokens: number | undefined,
    readonly contextTokens: number | undefined,
  ) {
    super(
      ErrorCodes.PromptTooLong,
      message,
      "Shorten the message or attach less, or start the server with a larger context (llama-server: -c).",
      {
        ...(promptTokens !== undefined ? { promptTokens } : {}),
        ...(contextTokens !== undefined ? { contextTokens } : {}),
      },
    );
  }
}

function cancelled(): HearthError {
  return new HearthError(ErrorCodes.Cancelled, "Cancelled.");
}

function unreachable(url: string, error: unknown): HearthError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? "";
  const why =
    code === "ECONNREFUSED"
      ? "connection refused: nothing listens there"
      : code === "ENOTFOUND" || code === "EAI_AGAIN"
        ? "the host name does not resolve"
        : code === "ECONNRESET" || code === "UND_ERR_SOCKET"
          ? "the connection was reset"
          : (cause?.message ?? errorText(error));
  return new HearthError(
    ErrorCodes.EngineUnavailable,
    `Cannot reach the engine at ${url} (${why}).`,
    "Start the server (llama-server, Ollama, vLLM, LM Studio) or fix the engine URL.",
  );
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function preview(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

/** `Retry-After` (seconds or an HTTP date) or exponential backoff from 500 ms, capped, ms. */
export function retryDelay(header: string | null, attempt: number, capMs: number): number {
  const seconds = header === null ? NaN : Number(header);
  const fromHeader = Number.isFinite(seconds) ? seconds * 1000 : header ? Date.parse(header) - Date.now() : NaN;
  const delay = Number.isFinite(fromHeader) && fromHeader >= 0 ? fromHeader : 500 * 2 ** (attempt - 1);
  return Math.min(delay, capMs);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(cancelled());
      },
      { once: true },
    );
  });
}

/**
 * The whole body of a JSON answer, at most `maxBytes` (after decompression); one whose next chunk takes longer than
 * `ms` is given up. Either way the stream is cancelled.
 */
async function readText(
  response: Response,
  signal: AbortSignal | undefined,
  url: string,
  ms: number,
  maxBytes: number,
): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const never = new AbortController().signal;
  let text = "";
  let bytes = 0;
  try {
    for (;;) {
      const chunk = await readWithin(reader, ms, signal ?? never);
      if (chunk === "timeout") {
        throw new HearthError(
          ErrorCodes.EngineUnavailable,
          `The engine at ${url} stopped sending its answer (nothing for ${ms / 1000} s).`,
          "Check that the server is running and not overloaded, then try again.",
        );
      }
      if (chunk.done) return text + decoder.decode();
      bytes += chunk.value?.byteLength ?? 0;
      if (bytes > maxBytes) {
        throw new HearthError(
          ErrorCodes.EngineUnavailable,
          `The engine at ${url} sent an answer over ${Math.round(maxBytes / 1024 / 1024)} MiB; it was not read.`,
          "Check that the URL points at the engine's API (not a proxy or a file server).",
        );
      }
      text += decoder.decode(chunk.value, { stream: true });
    }
  } catch (error) {
    if (error instanceof HearthError) throw error;
    if (signal?.aborted) throw cancelled();
    throw new HearthError(
      ErrorCodes.EngineUnavailable,
      `The connection to the engine at ${url} broke while reading its answer (${errorText(error)}).`,
      "Check the server, then try again.",
    );
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The next chunk of a stream, or "timeout" when none arrives within `ms`. */
async function readWithin(
  reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> },
  ms: number,
  signal: AbortSignal,
): Promise<{ done: boolean; value?: Uint8Array } | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      reader.read(),
      new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms))),
      new Promise<never>((_, reject) => {
        onAbort = () => reject(cancelled());
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}
