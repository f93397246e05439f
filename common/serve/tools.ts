import type { ChatSendParams, ChatTool, ChatToolCall } from "../../shared/protocol";
import { checkSchemaBounds } from "../../shared/guards";
import { badRequest, checkClientField } from "./openaiErrors";

/** An OpenAI function tool as a request lists it. */
export interface FunctionTool {
  type: "function";
  function: { name: string; description?: string; parameters?: object };
}

/** A tool call as OpenAI's API returns it (`arguments` is JSON text). */
export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/**
 * The tools of an OpenAI request as `chat/send` takes them (the engines make the calls: natively, or under a
 * grammar built from these schemas — `sidecar/engines/toolCalling.ts`).
 * @param choice `tool_choice`: "auto" (default), "required", or `{type: "function", function: {name}}`.
 * @returns undefined for `tool_choice` "none" (the tools are ignored).
 * @throws ApiError 400 naming the field: a tool without a name, parameters over the schema bounds, a forced tool that
 *   is not listed, a bad choice.
 */
export function chatTools(
  tools: unknown[],
  choice: unknown,
): { tools: ChatTool[]; toolChoice: NonNullable<ChatSendParams["toolChoice"]> } | undefined {
  if (choice === "none") return undefined;
  const list = tools.map((t, i): ChatTool => {
    const tool = t as Partial<FunctionTool>;
    if (tool.type !== "function" || typeof tool.function?.name !== "string" || !tool.function.name) {
      throw badRequest("Each tool must be {type: 'function', function: {name, parameters}}.", `tools[${i}]`);
    }
    const parameters = tool.function.parameters;
    if (parameters !== undefined && (typeof parameters !== "object" || !parameters)) {
      throw badRequest("A tool's parameters must be a JSON schema object.", `tools[${i}].function.parameters`);
    }
    // The sidecar's own bounds (size, depth, enum length), named by the client's field.
    if (parameters) checkClientField(() => checkSchemaBounds(parameters, `tools[${i}].function.parameters`));
    return {
      name: tool.function.name,
      ...(tool.function.description ? { description: tool.function.description } : {}),
      parameters: parameters ?? { type: "object", properties: {} },
    };
  });
  if (choice === undefined || choice === null || choice === "auto") return { tools: list, toolChoice: "auto" };
  if (choice === "required") return { tools: list, toolChoice: "required" };
  if (typeof choice === "object") {
    const name = (choice as { function?: { name?: unknown } }).function?.name;
    if (!list.some((t) => t.name === name))
      throw badRequest(`tool_choice names '${String(name)}', which is not in 'tools'.`, "tool_choice");
    return { tools: list, toolChoice: { name: name as string } };
  }
  throw badRequest(
    "tool_choice must be 'none', 'auto', 'required' or {type: 'function', function: {name}}.",
    "tool_choice",
  );
}

/** A call `chat/send` returned, in OpenAI's shape (a call without an id gets one from `fallbackId`). */
export function openAiToolCall(call: ChatToolCall, fallbackId: string): ToolCall {
  return { id: call.id ?? fallbackId, type: "function", function: { name: call.name, arguments: call.arguments } };
}

/**
 * The text a past assistant tool call or tool result stands for in the conversation the model sees (Hearth's
 * chat has user and assistant turns only): a call as the JSON the model wrote, a result as a user turn.
 */
export function toolTurnText(message: {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ function?: { name?: string; arguments?: string } }>;
  tool_call_id?: string;
  name?: string;
}): string {
  if (message.role === "assistant" && message.tool_calls?.length) {
    return message.tool_calls
      .map((c) => {
        let args: unknown;
        try {
          args = JSON.parse(c.function?.arguments ?? "{}");
        } catch {
          args = c.function?.arguments ?? {};
        }
        return JSON.stringify({ name: c.function?.name, arguments: args });
      })
      .join("\n");
  }
  const content = typeof message.content === "string" ? message.content : JSON.stringify(message.content ?? "");
  return `Tool result${message.name ? ` of ${message.name}` : ""}${message.tool_call_id ? ` (call ${message.tool_call_id})` : ""}: ${content}`;
}
