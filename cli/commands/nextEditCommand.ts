import { promises as fs } from "node:fs";
import path from "node:path";
import { editAsDiff, parseHistory } from "../../common/nes/history";
import { NES_FORMATS, type NesFormat, type NesPredictResult } from "../../shared/protocol";
import { settingDefault } from "../../shared/settings";
import { defineCommand } from "../command";
import { ENGINE_OPTIONS, JSON_OPTION, MODEL_OPTIONS, num, RUNTIME_OPTIONS, UsageError } from "../options";
import { CliSession } from "../session";
import { terminalSafe } from "../terminal";

/** `hearth next-edit`: the edit a next-edit model predicts at a position of a file, as a unified diff. */
export const nextEditCommand = defineCommand({
  name: "next-edit",
  modelRole: "nes",
  usage:
    "<file> --line L --column C [--history <file.diff|file.jsonl>] (--model <gguf|hf:uri> | --engine-url <url>)\n" +
    `[--format ${NES_FORMATS.join("|")}] [--json]`,
  summary: "the next edit a next-edit model predicts at a line and column of a file",
  description: `Next-edit suggestion at a 1-based line/column of a file: the model rewrites the lines around the cursor
from the recent edits (--history: a unified diff such as 'git diff' prints, or JSON lines of {path, original,
updated, line}) and the command prints the difference as a unified diff, or says there is none (exit 1). The
model's name picks its prompt format (Sweep, Zeta, Zeta 2; any other model: generic), --format overrides it.
--json prints the whole answer with token counts, timings and the drafts accepted.`,
  options: {
    line: { type: "string", arg: "<L>", help: "1-based line of the cursor" },
    column: { type: "string", arg: "<C>", help: "1-based column of the cursor" },
    history: { type: "string", arg: "<file>", help: "recent edits: a unified diff, or JSON lines of edits" },
    format: { type: "string", arg: `<${NES_FORMATS.join("|")}>`, help: "the prompt format (default: the model's)" },
    "max-tokens": { type: "string", arg: "<n>", help: "tokens the rewrite may take at most" },
    "no-speculate": { type: "boolean", help: "do not draft tokens from the window (prompt lookup)" },
    ...MODEL_OPTIONS,
    ...JSON_OPTION,
    ...ENGINE_OPTIONS,
    ...RUNTIME_OPTIONS,
  },
  maxPositionals: 1,
  async run(values, [file]) {
    if (!file) throw new UsageError("next-edit needs a file: hearth next-edit <file> --line L --column C");
    if (!values.model && !values["engine-url"])
      throw new UsageError(
        "next-edit needs a next-edit model: --model <gguf|hf:uri> (e.g. Sweep Next-Edit), or --engine-url <url>, or run 'hearth setup'",
      );
    if (values.line === undefined || values.column === undefined)
      throw new UsageError("next-edit needs --line and --column (1-based)");
    const format = values.format as NesFormat | undefined;
    if (format !== undefined && !NES_FORMATS.includes(format))
      throw new UsageError(`--format must be one of ${NES_FORMATS.join(", ")}, not '${format}'`);
    const line = num(values.line, "line", true)!;
    const column = num(values.column, "column", true)!;
    const maxTokens = num(values["max-tokens"], "max-tokens", true);
    const absolute = path.resolve(file);
    const text = await fs.readFile(absolute, "utf8").catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${file}: ${e.code ?? e.message}`);
    });
    const shown = path.relative(process.cwd(), absolute).split(path.sep).join("/");
    const rows = text.split("\n");
    if (line < 1 || line > rows.length) throw new UsageError(`--line ${line} is outside the file (1–${rows.length})`);
    if (column < 1 || column > rows[line - 1]!.length + 1)
      throw new UsageError(`--column ${column} is outside line ${line} (1–${rows[line - 1]!.length + 1})`);
    const history = values.history
      ? parseHistory(
          await fs.readFile(values.history, "utf8").catch((e: NodeJS.ErrnoException) => {
            throw new UsageError(`cannot read --history ${values.history}: ${e.code ?? e.message}`);
          }),
          shown,
        )
      : [];
    const session = new CliSession(values, { oneShot: true });
    return session.run(async () => {
      await session.sidecar.start();
      await session.roles.ensure("nes", {
        model: session.modelSpec(values.model, values["engine-url"]),
        contextSize: session.contextSize ?? settingDefault("nes.contextSize"),
      });
      const started = performance.now();
      const result: NesPredictResult = await session.sidecar.request("nes/predict", {
        path: shown,
        text,
        line: line - 1,
        column: column - 1,
        history: history.slice(-32),
        ...(format ? { format } : {}),
        ...(maxTokens ? { maxTokens } : {}),
        speculate: !values["no-speculate"],
        timeBudgetMs: 60_000,
      });
      const latencyMs = Math.round(performance.now() - started);
      const diff = editAsDiff(shown, text, result.edit);
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ ...result, diff, latencyMs })}\n`);
      } else if (result.edit) {
        process.stdout.write(terminalSafe(diff));
      } else {
        process.stderr.write(`hearth: no edit predicted (${result.reason})\n`);
      }
      const drafts = result.speculation
        ? `, drafts accepted ${result.speculation.accepted} of ${result.speculation.accepted + result.speculation.refused}`
        : "";
      if (!values.json)
        process.stderr.write(
          `${result.format} format, window lines ${result.window.startLine + 1}–${result.window.endLine}, ` +
            `${result.usage.promptTokens} prompt tokens (${result.usage.evaluatedTokens ?? "?"} evaluated), ` +
            `${result.usage.completionTokens} generated, ${result.timings.totalMs} ms (first token ${result.timings.ttftMs} ms)${drafts}\n`,
        );
      return result.edit ? 0 : 1;
    });
  },
});
