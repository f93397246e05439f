import { Worker } from "node:worker_threads";
import { ToolError } from "./definition";

/** How long one `grep` may run, ms: past it the worker (and a backtracking regular expression in it) is ended. */
export const GREP_TIME_MS = 5_000;
/** Characters of a line a pattern is tried on (longer lines are cut: minified code, data). */
export const GREP_LINE_CHARS = 2_000;

/**
 * The worker's code, as source (run with `eval: true`, so it needs no file of its own in the bundle): it reads the
 * files it is given, skips binary and oversized ones, and tries the pattern on each line, cut to
 * {@link GREP_LINE_CHARS}, until it has `max` matches.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const path = require("node:path");
const { root, files, pattern, max, maxBytes, lineChars } = workerData;
const re = new RegExp(pattern);
const matches = [];
for (const rel of files) {
  if (matches.length >= max) break;
  let text;
  try {
    const stat = fs.statSync(path.join(root, rel));
    if (!stat.isFile() || stat.size > maxBytes) continue;
    text = fs.readFileSync(path.join(root, rel), "utf8");
  } catch {
    continue;
  }
  if (text.includes("\\u0000")) continue;
  const lines = text.split("\\n");
  for (let i = 0; i < lines.length && matches.length < max; i++) {
    const line = lines[i].length > lineChars ? lines[i].slice(0, lineChars) : lines[i];
    if (re.test(line)) matches.push(rel + ":" + (i + 1) + ": " + line.slice(0, 300));
  }
}
parentPort.postMessage(matches);
`;

/**
 * Lines of `files` (relative to `root`) that match `pattern`, at most `max`, found in a worker thread with a
 * deadline: a regular expression that backtracks catastrophically cannot hold the extension host or the CLI, and
 * the caller's `signal` (Stop, Ctrl-C) ends it at once.
 * @throws ToolError when the pattern is not a regular expression, takes longer than `timeoutMs`, or is stopped.
 */
export async function grepFiles(
  root: string,
  files: readonly string[],
  pattern: string,
  options: { max: number; maxBytes: number; signal: AbortSignal; timeoutMs?: number },
): Promise<string[]> {
  try {
    new RegExp(pattern);
  } catch (error) {
    throw new ToolError(`Not a regular expression: ${(error as Error).message}`);
  }
  const timeoutMs = options.timeoutMs ?? GREP_TIME_MS;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      root,
      files,
      pattern,
      max: options.max,
      maxBytes: options.maxBytes,
      lineChars: GREP_LINE_CHARS,
    },
    resourceLimits: { maxOldGenerationSizeMb: 256 },
  });
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<string[]>((resolve, reject) => {
      worker.once("message", (matches: string[]) => resolve(matches));
      worker.once("error", (error) => reject(new ToolError(`grep failed: ${error.message}`)));
      worker.once("exit", () => reject(new ToolError("grep ended without an answer.")));
      timer = setTimeout(
        () =>
          reject(
            new ToolError(
              `/${pattern}/ took longer than ${timeoutMs / 1000} s on these files (it backtracks too much); use a simpler pattern.`,
            ),
          ),
        timeoutMs,
      );
      onAbort = () => reject(new ToolError("Stopped."));
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener("abort", onAbort, { once: true });
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal.removeEventListener("abort", onAbort);
    await worker.terminate();
  }
}
