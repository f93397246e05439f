import { promises as fs } from "node:fs";
import path from "node:path";
import { runAgent, type AgentEvent } from "../common/agent/AgentLoop";
import { createInterface } from "node:readline/promises";
import { EDIT_TOOLS, READ_TOOLS, type ProposedChange } from "../common/agent/agentTools";
import type { SidecarProcess } from "../common/sidecar/SidecarProcess";
import type { GenerationParams, IndexTarget } from "../sidecar/protocol";
import { terminalSafe } from "./terminal";

/** What `hearth agent` was asked for. */
export interface AgentCliOptions {
  target: IndexTarget;
  task: string;
  /** Permissions: "read", "search", "edit" (run is not built yet). */
  allow: string[];
  /** Accept every proposed change without asking. */
  yes: boolean;
  maxSteps: number;
  toolChoice: "auto" | "required";
  params: GenerationParams;
}

/** A result shown folded: its first line and how many more. */
function folded(text: string): string {
  const lines = text.split("\n");
  return lines.length > 1 ? `${lines[0]} … (+${lines.length - 1} lines)` : text;
}

/**
 * `hearth agent`: run the agent loop on the folder, printing the transcript (every call with its arguments, every
 * result folded) on stderr and the answer on stdout; `.hearth/agent.md` in the folder, when present, is added to
 * the system prompt. Ctrl-C stops the running step at once.
 * @returns 0 with an answer, 1 when the loop stopped first (step limit, invalid calls, cancelled).
 */
export async function runAgentCli(sidecar: SidecarProcess, options: AgentCliOptions): Promise<number> {
  const say = (line: string) => process.stderr.write(`${terminalSafe(line)}\n`);
  const tools = [...READ_TOOLS, ...EDIT_TOOLS].filter((t) => options.allow.includes(t.permission));
  /** Show the diff; write it on --yes or a "y" typed at the terminal; otherwise not. */
  const review = async (change: ProposedChange): Promise<boolean> => {
    process.stderr.write(terminalSafe(change.diff));
    if (options.yes) {
      say(`(accepted: --yes)`);
      return true;
    }
    if (!process.stdin.isTTY) {
      say("(not applied: no terminal to confirm on; pass --yes to accept changes)");
      return false;
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(`Apply this change to ${change.path}? [y/N] `)).trim());
    } finally {
      rl.close();
    }
  };
  const system = await fs
    .readFile(path.join(options.target.root, ".hearth", "agent.md"), "utf8")
    .catch(() => undefined);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once("SIGINT", onSigint);
  try {
    const result = await runAgent({
      api: sidecar,
      target: options.target,
      task: options.task,
      tools,
      maxSteps: options.maxSteps,
      toolChoice: options.toolChoice,
      params: options.params,
      signal: abort.signal,
      review,
      ...(system ? { system: system.slice(0, 8000) } : {}),
      onEvent: (e: AgentEvent) => {
        if (e.kind === "call") say(`[${e.step}] → ${e.name} ${JSON.stringify(e.args)}`);
        else if (e.kind === "result") say(`[${e.step}] ← ${e.error ? "error: " : ""}${folded(e.text)}`);
        else if (e.kind === "invalid") say(`[${e.step}] invalid call (${e.reason}): ${folded(e.text)}`);
      },
    });
    if (result.answer !== undefined) {
      process.stdout.write(`${terminalSafe(result.answer)}\n`);
      say(`(${result.steps} steps, ${result.calls} tool calls)`);
      return 0;
    }
    say(
      `hearth agent: stopped without an answer after ${result.steps} steps and ${result.calls} tool calls (${
        result.stopped === "maxSteps" ? "the step limit, --max-steps" : result.stopped
      }).`,
    );
    return 1;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
