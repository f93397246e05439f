import { spawn } from "node:child_process";
import { insideRoot } from "../../shared/workspacePath";
import type { AgentTool } from "./agentTools";
import { ToolError, type CommandPolicy } from "../tools/definition";

/** How long one `run_command` command may run, ms, unless the policy says otherwise. */
export const COMMAND_TIMEOUT_MS = 60_000;
/** Bytes of a command's output (stdout and stderr together) kept; the model sees at most the result cap of it. */
export const MAX_COMMAND_OUTPUT_BYTES = 64 * 1024;
/** After the shell exits, how long its output pipes may stay open (held by a process that left its group), ms. */
export const EXIT_GRACE_MS = 1_000;
/** Characters of a command `run_command` takes. */
export const MAX_COMMAND_CHARS = 500;

/** Shell operators that make an allowlisted prefix run something else: `npm test; curl …`. */
const SHELL_OPERATORS = /[;&|<>$`\n\r]/;

/** Characters that make an argument mean more than its text: quotes, escapes, globs, home and brace expansion. */
const EXPANDING = /['"\\*?~{}[\]]/;

/**
 * Whether `command` may run without asking: it equals an allowlist entry, or is that entry followed by arguments
 * that are plain paths inside the workspace folder `root` — not options (`git diff --output=<anywhere>` writes a
 * file), nothing quoted, globbed or expanded — and it holds no shell operator. An entry that holds one itself
 * never matches.
 */
export function allowlisted(command: string, allowlist: readonly string[] = [], root?: string): boolean {
  const c = command.trim();
  if (!c || SHELL_OPERATORS.test(c)) return false;
  return allowlist.some((entry) => {
    const e = entry.trim().replace(/\s+/g, " ");
    if (!e || SHELL_OPERATORS.test(e)) return false;
    const words = c.split(/\s+/);
    const fixed = e.split(" ");
    if (fixed.some((w, i) => words[i] !== w)) return false;
    return words
      .slice(fixed.length)
      .every((arg) => !arg.startsWith("-") && !EXPANDING.test(arg) && root !== undefined && !!insideRoot(root, arg));
  });
}

/** What a finished command left: exit code (or the signal that ended it), output, time. */
export interface CommandOutcome {
  /** null when a signal ended it (the timeout's kill, Stop). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved as they came, cut to {@link MAX_COMMAND_OUTPUT_BYTES} (head and tail kept). */
  output: string;
  timedOut: boolean;
  ms: number;
}

/**
 * Run `command` with the platform's shell in `cwd`, in its own process group (POSIX) so that the timeout and
 * `signal` end it with everything it started. @throws ToolError when the shell cannot start.
 */
export function execCommand(
  command: string,
  cwd: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<CommandOutcome> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, {
      cwd,
      shell: true,
      detached: process.platform !== "win32",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const head: Buffer[] = [];
    let headBytes = 0;
    let tail = Buffer.alloc(0);
    let dropped = 0;
    const half = MAX_COMMAND_OUTPUT_BYTES / 2;
    const take = (data: Buffer) => {
      if (headBytes < half) {
        const part = data.subarray(0, half - headBytes);
        head.push(part);
        headBytes += part.length;
        data = data.subarray(part.length);
      }
      if (!data.length) return;
      tail = Buffer.concat([tail, data]);
      if (tail.length > half) {
        dropped += tail.length - half;
        tail = tail.subarray(tail.length - half);
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    let timedOut = false;
    const kill = () => {
      try {
        if (child.pid !== undefined && process.platform !== "win32") process.kill(-child.pid, "SIGKILL");
        else child.kill("SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    const onAbort = () => kill();
    signal.addEventListener("abort", onAbort, { once: true });
    child.once("error", (error) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      reject(new ToolError(`The command could not start: ${error.message}`));
    });
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const finish = (exitCode: number | null, sig: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      signal.removeEventListener("abort", onAbort);
      const text = Buffer.concat(head).toString("utf8");
      const rest = tail.toString("utf8");
      const output = dropped ? `${text}\n[… ${dropped} bytes of output left out]\n${rest}` : text + rest;
      resolve({ exitCode, signal: sig, output, timedOut, ms: Date.now() - started });
    };
    child.once("close", finish);
    // A process that left the group (setsid, a daemon) still holds the output pipes, so `close` may never come:
    // once the shell itself has exited, wait a moment for the rest of the output, then stop reading and answer.
    child.once("exit", (exitCode, sig) => {
      grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(exitCode, sig);
      }, EXIT_GRACE_MS);
    });
  });
}

/**
 * `run_command`: a shell command in the workspace folder. Refused in an untrusted workspace and where the host
 * gave no {@link CommandPolicy}; each command is shown in full and runs only after the user confirms it (or it
 * is on the allowlist); it is killed at the timeout; its output is capped. Stop kills it at once.
 */
export const RUN_COMMAND_TOOL: AgentTool = {
  name: "run_command",
  description: "Run a shell command in the workspace folder (the user confirms it); returns its exit code and output.",
  parameters: {
    type: "object",
    properties: { command: { type: "string", maxLength: MAX_COMMAND_CHARS } },
    required: ["command"],
  },
  permission: "run",
  async run(args, ctx) {
    const command = String(args["command"] ?? "").trim();
    if (!command) throw new ToolError("Give the command to run.");
    const policy: CommandPolicy | undefined = ctx.commands;
    if (!policy) throw new ToolError("Running commands is not allowed here.");
    if (!policy.trusted) throw new ToolError("This workspace is not trusted: Hearth runs no command in it.");
    if (!allowlisted(command, policy.allowlist, ctx.target.root) && !(await policy.confirm(command))) {
      return `The user declined to run \`${command}\`; it did not run.`;
    }
    if (ctx.signal.aborted) throw new ToolError("Stopped.");
    const timeoutMs = policy.timeoutMs ?? COMMAND_TIMEOUT_MS;
    const r = await execCommand(command, ctx.target.root, timeoutMs, ctx.signal);
    if (ctx.signal.aborted) throw new ToolError("Stopped.");
    const ended = r.timedOut
      ? `killed after the ${Math.round(timeoutMs / 1000)} s timeout`
      : r.exitCode === null
        ? `ended by ${r.signal}`
        : `exit code ${r.exitCode}`;
    // The end of a command's output says most (a failing test, an error): keep the tail when it is long.
    const out = r.output.trim() ? r.output : "(no output)";
    const output = out.length > 7_000 ? `${out.slice(0, 1_500)}\n[… output left out …]\n${out.slice(-5_500)}` : out;
    return `$ ${command}  (${ended}, ${(r.ms / 1000).toFixed(1)} s)\n${output}`;
  },
};
