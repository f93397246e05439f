import { promises as fs } from "node:fs";
import { lineOffset } from "../common/actions/proposal";
import { CompletionEngine, explainReason } from "../common/completion/CompletionEngine";
import type { SidecarProcess } from "../common/sidecar/SidecarProcess";
import { languageOf } from "../shared/languages";
import { terminalSafe } from "./terminal";

/** 1-based line/column → offset into `text`. @throws Error when the position is outside the file. */
export function offsetAt(text: string, line: number, column: number): number {
  const lines = text.split("\n");
  if (line < 1 || line > lines.length) throw new Error(`--line ${line} is outside the file (1–${lines.length})`);
  const lineText = lines[line - 1]!;
  if (column < 1 || column > lineText.length + 1) {
    throw new Error(`--column ${column} is outside line ${line} (1–${lineText.length + 1})`);
  }
  return lineOffset(text, line - 1) + column - 1;
}

/**
 * `hearth complete <file> --line L --column C`: one fill-in-the-middle suggestion at the position, through the
 * same engine as the editor (no debounce). Prints the suggestion, or with `json` an object with the suggestion,
 * the reason, token counts and timings. Returns the exit code: 0 with a suggestion, 1 without one.
 */
export async function runComplete(
  sidecar: SidecarProcess,
  options: { file: string; line: number; column: number; json: boolean; maxTokens?: number },
): Promise<number> {
  const text = await fs.readFile(options.file, "utf8");
  const offset = offsetAt(text, options.line, options.column);
  const engine = new CompletionEngine(sidecar, { debounceMs: 0, maxTokens: options.maxTokens, timeBudgetMs: 10_000 });
  const started = performance.now();
  const outcome = await engine.complete(text.slice(0, offset), text.slice(offset), {
    language: languageOf(options.file),
  });
  const latencyMs = Math.round((performance.now() - started) * 100) / 100;
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({
        suggestion: outcome.text ?? null,
        reason: outcome.reason,
        explanation: explainReason(outcome),
        raw: outcome.result?.text ?? null,
        promptTokens: outcome.result?.usage.promptTokens ?? 0,
        evaluatedTokens: outcome.result?.usage.evaluatedTokens ?? 0,
        generatedTokens: outcome.result?.usage.completionTokens ?? 0,
        timings: { latencyMs, ...(outcome.result?.timings ?? {}) },
      })}\n`,
    );
  } else if (outcome.text !== undefined) {
    process.stdout.write(`${terminalSafe(outcome.text)}\n`);
  } else {
    process.stderr.write(`hearth: no suggestion: ${explainReason(outcome)}\n`);
  }
  return outcome.text !== undefined ? 0 : 1;
}
