import { promises as fs } from "node:fs";
import path from "node:path";
import { runAgent, type AgentEvent } from "../common/agent/AgentLoop";
import { createInterface } from "node:readline/promises";
import { EDIT_TOOLS, READ_TOOLS } from "../common/agent/agentTools";
import type { ProposedChange, ReviewDecision } from "../common/tools/definition";
import { RUN_COMMAND_TOOL } from "../common/agent/runCommand";
import type { SidecarProcess } from "../common/sidecar/SidecarProcess";
import type { GenerationParams, IndexTarget } from "../shared/protocol";
import { terminalSafe } from "./terminal";

/** What `hearth agent` was asked for. */
export interface AgentCliOptions {
  target: IndexTarget;
  task: string;
  /** Permissions: "read", "search", "edit", "run". */
  allow: string[];
  /** Accept every proposed change and run every command without asking. */
  yes: boolean;
  /** Commands `run_command` runs without asking (see `CommandPolicy.allowlist`). */
  allowCommands: string[];
  /** How long one command may run, ms. */
  commandTimeoutMs: number;
  /** The chat model's context window, tokens (old tool results are left out to fit it). */
  contextTokens?: number;
  /** Prompt + generated tokens the run may spend (see `AgentOptions.tokenBudget`). */
  tokenBudget?: number | undefined;
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
  const tools = [...READ_TOOLS, ...EDIT_TOOLS, RUN_COMMAND_TOOL].filter((t) => options.allow.includes(t.permission));
  /** Yes on --yes (when it covers the question) or a "y" typed at the terminal; no without a terminal. */
  const ask = async (question: string, refused: string, yesCovers = true): Promise<boolean> => {
    if (yesCovers && options.yes) {
      say(`(yes: --yes)`);
      return true;
    }
    if (!process.stdin.isTTY) {
      say(refused);
      return false;
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(`${terminalSafe(question)} [y/N] `)).trim());
    } finally {
      rl.close();
    }
  };
  /** Show every diff of the call, then one question for all of them. */
  const review = async (changes: ProposedChange[]): Promise<ReviewDecision> => {
    for (const change of changes) {
      process.stderr.write(terminalSafe(change.diff));
      if (change.warning) process.stderr.write(`⚠ ${terminalSafe(change.warning)}\n`);
    }
    const yes = await ask(
      `Apply ${changes.length > 1 ? `these ${changes.length} changes` : "this change"} to ${changes.map((c) => c.path).join(", ")}?`,
      "(not applied: no terminal to confirm on; pass --yes to accept changes)",
    );
    return yes ? "accepted" : "rejected";
  };
  const confirm = (command: string): Promise<boolean> => {
    say(`command: ${command}`);
    return ask(
      "Run this command in the workspace folder?",
      "(not run: no terminal to confirm on; pass --yes or --allow-command to run commands)",
    );
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
      commands: { trusted: true, confirm, allowlist: options.allowCommands, timeoutMs: options.commandTimeoutMs },
      // A secrets file needs a yes typed at the terminal: --yes does not cover it.
      confirmSecret: (rel) =>
        ask(
          `The agent wants to read ${rel}, which may hold secrets. Allow?`,
          `(${rel} not read: it may hold secrets, and there is no terminal to allow it on)`,
          false,
        ),
      ...(options.contextTokens ? { contextTokens: options.contextTokens } : {}),
      ...(options.tokenBudget !== undefined ? { tokenBudget: options.tokenBudget } : {}),
      ...(system ? { system: system.slice(0, 8000) } : {}),
      onEvent: (e: AgentEvent) => {
        if (e.kind === "call") say(`[${e.step}] → ${e.name} ${JSON.stringify(e.args)}`);
        else if (e.kind === "result") say(`[${e.step}] ← ${e.error ? "error: " : ""}${folded(e.text)}`);
        else if (e.kind === "invalid") say(`[${e.step}] invalid call (${e.reason}): ${folded(e.text)}`);
        else if (e.kind === "trimmed") say(`[${e.step}] (${e.notice})`);
        else if (e.kind === "notice") say(`[${e.step}] (${e.text})`);
      },
    });
    if (result.answer !== undefined) {
      process.stdout.write(`${terminalSafe(result.answer)}\n`);
      say(`(${result.steps} steps, ${result.calls} tool calls)`);
      return 0;
    }
    say(
      `hearth agent: stopped without an answer after ${result.steps} steps and ${result.calls} tool calls (${
        result.stopped === "maxSteps"
          ? "the step limit, --max-steps"
          : result.stopped === "invalidCalls"
            ? "two invalid calls in a row"
            : result.stopped === "tokenBudget"
              ? "the token budget, --token-budget"
              : result.stopped
      }).`,
    );
    return 1;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
