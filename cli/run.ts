import { promises as fs } from "node:fs";
import path from "node:path";
import { applyProposal, lineOffset, unifiedDiff } from "../common/actions/proposal";
import { runAction, type ActionInput } from "../common/actions/runAction";
import type { PromptSpec } from "../common/actions/promptFiles";
import type { SidecarApi } from "../common/sidecar/SidecarApi";
import { languageOf } from "../shared/languages";
import type { GenerationParams } from "../shared/protocol";
import { terminalSafe } from "./terminal";

/** `L1:L2` or `L1-L2` (1-based, inclusive) → [L1, L2]. @throws Error for anything else. */
export function parseRange(range: string): [number, number] {
  const m = /^(\d+)(?:[:-](\d+))?$/.exec(range.trim());
  if (!m) throw new Error(`--range must be L1:L2 (1-based lines), got '${range}'`);
  const a = Number(m[1]);
  const b = Number(m[2] ?? m[1]);
  if (a < 1 || b < a) throw new Error(`--range ${range}: lines must be ≥ 1 and in order`);
  return [a, b];
}

/** The editor state for a file and an optional line range (whole lines; none = the whole file). */
export async function fileInput(
  file: string,
  range: string | undefined,
  input: string | undefined,
  cwd = process.cwd(),
): Promise<ActionInput> {
  const text = await fs.readFile(file, "utf8");
  const lineCount = text.split("\n").length;
  let selection = { start: 0, end: 0 };
  if (range) {
    const [a, b] = parseRange(range);
    if (b > lineCount) throw new Error(`--range ${range} is outside the file (1–${lineCount})`);
    // Whole lines a…b, with the newline after b.
    selection = { start: lineOffset(text, a - 1), end: lineOffset(text, b) };
  }
  const rel = path.relative(cwd, file);
  return {
    path: rel && !rel.startsWith("..") ? rel.split(path.sep).join("/") : file,
    language: languageOf(file) ?? "plaintext",
    text,
    selection,
    input,
  };
}

/**
 * Run a prompt on a file headless (`hearth run`, and `/explain`-style commands in the REPL): chat prompts
 * stream their answer to `out`; edits print the proposed change as a unified diff; new files as a diff from
 * /dev/null. Nothing is written to disk.
 */
export async function runPromptOnFile(
  api: SidecarApi,
  spec: PromptSpec,
  input: ActionInput,
  options: { params?: GenerationParams; signal?: AbortSignal; write: (text: string) => void },
): Promise<void> {
  if (spec.input && !input.input)
    throw new Error(`'${spec.name}' needs text: ${spec.input} (hearth run: --input "...")`);
  const outcome = await runAction(api, spec, input, options);
  if (outcome.kind === "chat") {
    const streamId = `run-${Date.now()}`;
    const sub = api.onNotification("chat/delta", (d) => {
      // A chat answer is for a person to read: no terminal control sequences. Diffs below stay byte-exact.
      if (d.streamId === streamId) options.write(terminalSafe(d.text));
    });
    try {
      await api.request(
        "chat/send",
        { streamId, messages: [{ role: "user", content: outcome.prompt }], params: options.params },
        options.signal,
      );
    } finally {
      sub.dispose();
    }
    options.write("\n");
    return;
  }
  if (outcome.kind === "edit") {
    options.write(unifiedDiff(input.path, input.text, applyProposal(outcome.proposal)));
    return;
  }
  const target = path.posix.join(path.posix.dirname(input.path), outcome.fileName);
  // A new file's header names /dev/null as its old side, however the name is quoted.
  options.write(
    unifiedDiff(target, "", outcome.content.endsWith("\n") ? outcome.content : `${outcome.content}\n`, {
      newFile: true,
    }),
  );
}
