import { HearthError } from "../../shared/errors";
import {
  ErrorCodes,
  type NesEditEvent,
  type NesFormat,
  type NesPredictParams,
  type NesPredictResult,
} from "../../shared/protocol";
import type { NesAnswer, NesEngine } from "../engines/types";
import { formatForModel, NES_FORMAT_MODULES } from "./formats";
import { cursorWindow, DEFAULT_WINDOW_RADIUS, documentLines, narrowEdit, windowBeforeEdit } from "./window";

/** A request that takes longer than this, ms, answers "no edit" (`reason: "timeBudget"`). */
export const DEFAULT_NES_TIME_BUDGET_MS = 5_000;
/**
 * Characters of edit history a prompt carries at most (about 2,000 tokens): the newest edits are kept, so a large
 * paste among them cannot push the prompt over the model's context.
 */
export const MAX_HISTORY_CHARS = 6_000;

/** The newest edits whose text fits {@link MAX_HISTORY_CHARS}, oldest first. */
export function recentHistory(history: readonly NesEditEvent[]): NesEditEvent[] {
  const kept: NesEditEvent[] = [];
  let chars = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const e = history[i]!;
    chars += e.original.length + e.updated.length + e.path.length;
    if (chars > MAX_HISTORY_CHARS) break;
    kept.unshift(e);
  }
  return kept;
}

/** Tokens a rewrite may take at most when the request does not say. */
export const MAX_NES_ANSWER_TOKENS = 512;

/**
 * Predict the next edit: the window of lines around the cursor is written in the model's format (or `params.format`),
 * the `nes` engine rewrites it, and the answer is the rewrite's difference from the window, narrowed to the lines
 * that change. No edit (`edit: null`) when the model kept the window, its answer cannot be read or was cut by the
 * token limit (a partial rewrite is never offered), the time budget ran out, or the caller cancelled.
 * @param modelNames the `nes` model's names (file name, `general.name`), which pick the format for `auto`.
 * @throws HearthError InvalidParams (a cursor outside the document), PromptTooLong, the engine's errors.
 */
export async function predictNextEdit(
  engine: NesEngine,
  modelNames: Array<string | undefined>,
  params: NesPredictParams,
  onDelta: (text: string) => void,
  signal: AbortSignal,
): Promise<NesPredictResult> {
  const lines = documentLines(params.text);
  if (params.line >= lines.length) {
    throw new HearthError(
      ErrorCodes.InvalidParams,
      `Invalid params: 'line' must be a line of the document (0 to ${lines.length - 1}), not ${params.line}.`,
      undefined,
      { field: "line" },
    );
  }
  const format: NesFormat = params.format && params.format !== "auto" ? params.format : formatForModel(...modelNames);
  const window = cursorWindow(lines.length, params.line, params.windowRadius ?? DEFAULT_WINDOW_RADIUS);
  const history = recentHistory(params.history ?? []);
  const input = {
    path: params.path,
    lines,
    window,
    cursor: { line: params.line, column: params.column },
    original: params.original ?? windowBeforeEdit(lines, window, history.at(-1)),
    history,
  };
  const prompt = NES_FORMAT_MODULES[format].build(input);
  const windowChars = lines.slice(window.start, window.end).join("\n").length;
  // About a token per 2.5 characters of code, with room for the edit (more for JSON's escapes).
  const needed = Math.ceil((windowChars / 2.5) * (prompt.kind === "chat" ? 1.6 : 1.3)) + 32;
  const maxTokens = params.maxTokens ?? Math.min(MAX_NES_ANSWER_TOKENS, needed);

  const budget = new AbortController();
  const timer = setTimeout(() => budget.abort(), params.timeBudgetMs ?? DEFAULT_NES_TIME_BUDGET_MS);
  const combined = AbortSignal.any([signal, budget.signal]);
  let answer: NesAnswer;
  try {
    answer =
      prompt.kind === "raw"
        ? await engine.raw(
            prompt.parts,
            { maxTokens, stop: prompt.stop, speculate: params.speculate ?? true },
            onDelta,
            combined,
          )
        : await engine.chat(prompt.system, prompt.user, { maxTokens, schema: prompt.schema }, onDelta, combined);
  } catch (error) {
    if (!(error instanceof HearthError && error.code === ErrorCodes.Cancelled) || signal.aborted) throw error;
    answer = {
      text: "",
      stopReason: "cancelled",
      usage: { promptTokens: 0, completionTokens: 0 },
      timings: { totalMs: 0, ttftMs: 0 },
    };
  } finally {
    clearTimeout(timer);
  }
  const base = {
    format,
    window: { startLine: window.start, endLine: window.end },
    usage: answer.usage,
    timings: answer.timings,
    ...(answer.speculation ? { speculation: answer.speculation } : {}),
  };
  if (answer.stopReason === "cancelled") {
    return { ...base, edit: null, reason: signal.aborted ? "cancelled" : "timeBudget" };
  }
  const rewrite = answer.stopReason === "maxTokens" ? undefined : prompt.parse(answer.text);
  if (rewrite === undefined) return { ...base, edit: null, reason: "unparseable" };
  const edit = narrowEdit(lines, window, rewrite);
  return { ...base, edit, reason: edit ? "edit" : "noChange" };
}
