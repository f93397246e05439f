import type { InfillParams, InfillResult } from "../../shared/protocol";
import { cutAtRepeatedLine, repeatedLineIndex, trimToSyntaxOf } from "./syntaxTrim";

/** Why a FIM answer was stopped by Hearth rather than by the engine. */
export type FimStop = "newline" | "repeatedLine" | "timeBudget";

/**
 * Watches a FIM answer's text as any engine streams it (node-llama-cpp's decode loop, llama-server's `/infill`
 * SSE, Ollama's NDJSON, `/v1/completions` SSE) and decides when Hearth stops it, the same way for every engine:
 * a single-line request at its first newline, a multi-line one at its first repeated line (a generation loop,
 * {@link repeatedLineIndex}), either one at the time budget. A stop aborts {@link signal}, which the engine's
 * request runs under, so no further token is decoded or sent; the caller's own cancel aborts it too.
 *
 * Use: pass `signal` to the engine, {@link push} each piece of text (stop reading when it returns false), then
 * {@link close}, then {@link finishFim} on the text.
 */
export class FimStream {
  /** The engine's request runs under this: aborted by a stop, by the time budget or by the caller. */
  readonly signal: AbortSignal;
  /** Set when Hearth stopped the answer; undefined while it runs, or when the engine stopped it. */
  stopped: FimStop | undefined;
  /** Everything pushed so far. */
  text = "";
  private readonly abort = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly cursorLine: string;

  /**
   * @param params the request: `singleLine`, `timeBudgetMs` (ms from now) and the prefix's last line are used.
   * @param outer the caller's cancel signal.
   */
  constructor(
    private readonly params: Pick<InfillParams, "prefix" | "singleLine" | "timeBudgetMs">,
    outer: AbortSignal,
  ) {
    this.signal = AbortSignal.any([outer, this.abort.signal]);
    this.cursorLine = params.prefix.slice(params.prefix.lastIndexOf("\n") + 1);
    if (params.timeBudgetMs) this.timer = setTimeout(() => this.stop("timeBudget"), params.timeBudgetMs);
  }

  /**
   * Append the next piece of the answer.
   * @returns false once the answer is to stop (then {@link signal} is aborted and {@link stopped} says why).
   */
  push(chunk: string): boolean {
    if (this.stopped) return false;
    this.text += chunk;
    if (this.params.singleLine) {
      if (this.text.includes("\n")) this.stop("newline");
    } else if (chunk.includes("\n") && repeatedLineIndex(this.text.split("\n").slice(0, -1), this.cursorLine) >= 0) {
      // A finished line repeats the one before it: a generation loop, whose every further token is waste.
      this.stop("repeatedLine");
    }
    return !this.stopped;
  }

  /** The stop reason of an answer whose engine call ended with `engine` ("cancelled" for an aborted call). */
  reason(engine: InfillResult["stopReason"]): InfillResult["stopReason"] {
    return this.stopped ?? engine;
  }

  /** Clear the time budget's timer (always call it, also after an error). */
  close(): void {
    clearTimeout(this.timer);
  }

  private stop(why: FimStop): void {
    if (this.stopped) return;
    this.stopped = why;
    this.abort.abort();
  }
}

/**
 * The post-processing every FIM answer gets, whatever engine wrote it: a single-line answer cut at its first
 * newline; a multi-line one cut before its first repeated line, then to the longest run of whole lines that adds
 * no syntax error around the cursor (tree-sitter, {@link trimToSyntaxOf}; not for a cancelled answer, which is
 * not shown). A cut the engine did not make turns a "stop"/"maxTokens" reason into "newline"/"repeatedLine".
 * @returns the text to suggest, the stop reason, and `linesCut` when the syntax check ran.
 */
export async function finishFim(
  params: Pick<InfillParams, "prefix" | "suffix" | "singleLine" | "language">,
  text: string,
  stopReason: InfillResult["stopReason"],
): Promise<{ text: string; stopReason: InfillResult["stopReason"]; linesCut?: number }> {
  const engineStopped = stopReason === "stop" || stopReason === "maxTokens";
  if (params.singleLine) {
    if (!text.includes("\n")) return { text, stopReason };
    return { text: text.slice(0, text.indexOf("\n")), stopReason: engineStopped ? "newline" : stopReason };
  }
  const cursorLine = params.prefix.slice(params.prefix.lastIndexOf("\n") + 1);
  const cut = cutAtRepeatedLine(text, cursorLine);
  if (cut !== text && engineStopped) stopReason = "repeatedLine";
  if (!params.language || stopReason === "cancelled") return { text: cut, stopReason };
  const trimmed = await trimToSyntaxOf(params.language, params.prefix, cut, params.suffix);
  return { text: trimmed.text, stopReason, linesCut: trimmed.linesCut };
}
