import { Ajv, type ValidateFunction } from "ajv";
import { type ChatMessage, type ChatSendResult, type GenerationParams, type IndexTarget } from "../../shared/protocol";
import { HearthError } from "../../shared/errors";
import type { SidecarApi } from "../sidecar/SidecarApi";
import type { AgentTool } from "./agentTools";
import { capResult, ToolError, withAbsentAsNull, type ToolContext } from "../tools/definition";

/** What the loop reports as it goes (the transcript: every call, its arguments and its result). */
export type AgentEvent =
  | { kind: "call"; step: number; name: string; args: Record<string, unknown> }
  | { kind: "result"; step: number; name: string; text: string; error: boolean }
  | { kind: "invalid"; step: number; text: string; reason: string }
  | { kind: "answer"; step: number; text: string }
  /** Something the user should know about the run (e.g. a fallback from native tool calls). */
  | { kind: "notice"; step: number; text: string }
  /** Older tool results were left out to keep the conversation inside the model's context window. */
  | { kind: "trimmed"; step: number; results: number; notice: string };

export interface AgentOptions {
  api: SidecarApi;
  target: IndexTarget;
  task: string;
  tools: AgentTool[];
  /** Model → tool → model rounds at most (default 12). */
  maxSteps?: number;
  /** "required": every step calls a tool (the loop ends at the step limit); "auto" (default): the model may answer. */
  toolChoice?: "auto" | "required";
  /** Added before the tools' description (e.g. `.hearth/agent.md`). */
  system?: string;
  params?: GenerationParams;
  signal?: AbortSignal;
  onEvent?: (event: AgentEvent) => void;
  /** The user's review of an edit tool's changes (see `ToolContext.review`); without it nothing is written. */
  review?: ToolContext["review"];
  /** The user's yes to reading a secrets file (see `ToolContext.confirmSecret`); without it they are never read. */
  confirmSecret?: ToolContext["confirmSecret"];
  /** The host's index search (see `ToolContext.search`). */
  search?: ToolContext["search"];
  /** What `run_command` may do (see `ToolContext.commands`); without it every command is refused. */
  commands?: ToolContext["commands"];
  /**
   * The chat model's context window, tokens: before each step the oldest tool results are replaced by a notice
   * until the conversation fits (about {@link CHARS_PER_TOKEN} characters a token, the answer's `maxTokens`
   * kept free). Absent: only the sidecar's fitting, which drops whole old turns.
   */
  contextTokens?: number;
  /** Prompt + completion tokens the run may spend in all (a budget); the loop stops when it is spent. */
  tokenBudget?: number;
}

export interface AgentResult {
  /** The model's answer; absent when the loop stopped first. */
  answer?: string;
  steps: number;
  /** Why the loop ended without an answer. */
  stopped?: "maxSteps" | "cancelled" | "invalidCalls" | "tokenBudget";
  calls: number;
  /** Prompt tokens evaluated and tokens generated, summed over the steps. */
  tokens: { prompt: number; completion: number };
}

/** Characters a token is assumed to hold when fitting the conversation (code runs 3–4; 3 errs on the safe side). */
export const CHARS_PER_TOKEN = 3;

/**
 * Keep `messages` under `budgetChars` by replacing the oldest tool results (never the task, the first message)
 * with a one-line notice. @returns how many results were left out this time.
 */
export function trimToolResults(messages: ChatMessage[], budgetChars: number): number {
  const size = () => messages.reduce((n, m) => n + m.content.length, 0);
  let trimmed = 0;
  for (let i = 1; i < messages.length - 1 && size() > budgetChars; i++) {
    const m = messages[i]!;
    const match = /^Result of (\S+?)( \(error\))?:\n/.exec(m.content);
    if (m.role !== "user" || !match || m.content.endsWith(LEFT_OUT)) continue;
    m.content = `Result of ${match[1]}${match[2] ?? ""}: ${LEFT_OUT}`;
    trimmed++;
  }
  return trimmed;
}
const LEFT_OUT = "[left out to fit the context window; call the tool again if you need it]";

/**
 * The agent loop: model → tool call → result → model, until the model answers, `maxSteps` rounds, or the signal
 * (which cancels the running model request or tool at once). Each step's answer is generated under the tools'
 * engine's tool calling (`chat/send` with `tools`: natively where the engine has it, else under the tools'
 * grammar, with a call repaired out of text where an engine ignores both — `sidecar/engines/toolCalling.ts`).
 * Every call's arguments are validated against the tool's schema with ajv; an invalid call
 * is returned to the model as an error once, and a second invalid call in a row ends the loop.
 * Tool results are capped (`MAX_RESULT_CHARS`); with `contextTokens` the oldest results are replaced by a notice
 * when the conversation outgrows the window, and what the sidecar still had to drop is reported too, never silently
 * (`trimmed` events). The run stops at `maxSteps`, at `tokenBudget`, or on the signal.
 */
export async function runAgent(options: AgentOptions): Promise<AgentResult> {
  const { api, tools, onEvent } = options;
  const maxSteps = options.maxSteps ?? 12;
  const ajv = new Ajv({ strict: false, allErrors: false });
  const validators = new Map<string, ValidateFunction>(tools.map((t) => [t.name, ajv.compile(t.parameters)]));
  const signal = options.signal ?? new AbortController().signal;
  const intro =
    "You are a coding agent working in the user's workspace. Use the tools to look before you answer; answer when you know.";
  const system = [options.system, intro].filter(Boolean).join("\n\n");
  const required = options.toolChoice === "required";
  const messages: ChatMessage[] = [{ role: "user", content: options.task }];
  let calls = 0;
  let invalidInARow = 0;
  const tokens = { prompt: 0, completion: 0 };
  const end = (steps: number, stopped: AgentResult["stopped"]): AgentResult => ({ steps, stopped, calls, tokens });
  const reserve = (options.params?.maxTokens ?? 1024) * CHARS_PER_TOKEN + system.length;
  const toolList = tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters }));
  for (let step = 1; step <= maxSteps; step++) {
    if (signal.aborted) return end(step - 1, "cancelled");
    if (options.tokenBudget !== undefined && tokens.prompt + tokens.completion >= options.tokenBudget)
      return end(step - 1, "tokenBudget");
    if (options.contextTokens) {
      const results = trimToolResults(messages, options.contextTokens * CHARS_PER_TOKEN - reserve);
      if (results)
        onEvent?.({
          kind: "trimmed",
          step,
          results,
          notice: `${results} older tool result${results > 1 ? "s were" : " was"} left out to fit the model's ${options.contextTokens}-token context window.`,
        });
    }
    let result: ChatSendResult;
    try {
      result = await api.request(
        "chat/send",
        {
          streamId: `agent-${step}-${Date.now()}`,
          system,
          messages,
          params: options.params,
          tools: toolList,
          toolChoice: required ? "required" : "auto",
        },
        signal,
      );
    } catch (error) {
      if (signal.aborted) return end(step - 1, "cancelled");
      throw HearthError.from(error);
    }
    if (result.notice) onEvent?.({ kind: "notice", step, text: result.notice });
    tokens.prompt += result.usage.promptTokens;
    tokens.completion += result.usage.completionTokens;
    if (result.droppedMessages > 0)
      onEvent?.({
        kind: "trimmed",
        step,
        results: 0,
        notice: `The oldest ${result.droppedMessages} messages were left out to fit the model's context window.`,
      });
    if (result.stopReason === "cancelled") return end(step, "cancelled");
    const read = readStep(result, required);
    if ("answer" in read) {
      onEvent?.({ kind: "answer", step, text: read.answer });
      return { answer: read.answer, steps: step, calls, tokens };
    }
    // Validate every call of the step; the edits of several propose_edit calls become one call, one review.
    const valid: Array<{ tool: AgentTool; args: Record<string, unknown> }> = [];
    const reasons: string[] = [];
    for (const c of read.calls) {
      const tool = tools.find((t) => t.name === c.name);
      const validate = tool ? validators.get(tool.name) : undefined;
      // A native call may leave out what the grammar would have written as null (an optional argument).
      if (tool && c.args) c.args = withAbsentAsNull(tool.parameters, c.args);
      if (c.args === undefined)
        reasons.push(c.reason ?? "the answer is not a tool call or an answer in the JSON shape asked for");
      else if (!tool) reasons.push(`there is no tool '${c.name}'`);
      else if (!validate!(c.args))
        reasons.push(`its arguments do not match ${tool.name}'s schema: ${ajv.errorsText(validate!.errors)}`);
      else {
        const earlier = tool.name === "propose_edit" ? valid.find((v) => v.tool.name === "propose_edit") : undefined;
        if (earlier) (earlier.args["edits"] as unknown[]).push(...(c.args["edits"] as unknown[]));
        else valid.push({ tool, args: c.args });
      }
    }
    if (!valid.length) {
      const reason = reasons.join("; ");
      onEvent?.({ kind: "invalid", step, text: read.text, reason });
      if (++invalidInARow >= 2) return end(step, "invalidCalls");
      messages.push({ role: "assistant", content: read.text || "(nothing)" });
      messages.push({ role: "user", content: `That was not a valid call: ${reason}. Try again.` });
      continue;
    }
    invalidInARow = 0;
    const results: string[] = [];
    for (const { tool, args } of valid) {
      calls++;
      onEvent?.({ kind: "call", step, name: tool.name, args });
      let text: string;
      let failed = false;
      try {
        text = capResult(
          await tool.run(args, {
            api,
            target: options.target,
            signal,
            ...(options.review ? { review: options.review } : {}),
            ...(options.commands ? { commands: options.commands } : {}),
            ...(options.search ? { search: options.search } : {}),
            ...(options.confirmSecret ? { confirmSecret: options.confirmSecret } : {}),
          }),
        );
      } catch (error) {
        if (signal.aborted) return end(step, "cancelled");
        failed = true;
        text = error instanceof ToolError ? error.message : `The tool failed: ${HearthError.from(error).userMessage}`;
      }
      onEvent?.({ kind: "result", step, name: tool.name, text, error: failed });
      results.push(`Result of ${tool.name}${failed ? " (error)" : ""}:\n${text}`);
    }
    if (reasons.length) results.push(`Not run, not valid calls: ${reasons.join("; ")}.`);
    const written = valid.map(({ tool, args }) => ({ name: tool.name, arguments: args }));
    messages.push({ role: "assistant", content: JSON.stringify(written.length === 1 ? written[0] : written) });
    messages.push({ role: "user", content: results.join("\n\n") });
  }
  return end(maxSteps, "maxSteps");
}

/** One step's model output read as calls (each with its arguments, or why they did not parse) or an answer. */
type StepRead =
  | { answer: string }
  | { calls: Array<{ name: string; args?: Record<string, unknown>; reason?: string }>; text: string };

/**
 * Read a step's result: the engine's calls (each with its arguments, or why they did not parse), or why its
 * output was neither a call nor an answer, or the answer.
 */
function readStep(result: ChatSendResult, required: boolean): StepRead {
  if (result.toolCalls?.length) {
    return {
      text: JSON.stringify(result.toolCalls.map((c) => ({ name: c.name, arguments: c.arguments }))),
      calls: result.toolCalls.map((c) => {
        try {
          const args = JSON.parse(c.arguments) as unknown;
          return typeof args === "object" && args !== null && !Array.isArray(args)
            ? { name: c.name, args: args as Record<string, unknown> }
            : { name: c.name, reason: `the arguments of ${c.name} are not a JSON object` };
        } catch {
          return { name: c.name, reason: `the arguments of ${c.name} are not valid JSON` };
        }
      }),
    };
  }
  if (result.toolCallError || required) {
    return { text: result.text, calls: [{ name: "", reason: result.toolCallError ?? "no tool was called" }] };
  }
  return { answer: result.text.trim() };
}
