import { PassThrough, type Readable, type Writable } from "node:stream";
import { frameProblem, isId } from "../shared/jsonRpcFrames";

/** The longest line (one JSON-RPC message) `hearth mcp` reads, in characters; a longer one is refused. */
export const MAX_MCP_LINE_CHARS = 16 * 1024 * 1024;

/**
 * `hearth mcp`'s standard input with malformed frames taken out and answered, so no request goes unanswered and
 * none reaches the MCP SDK in a shape it would answer with a stack of validation errors:
 * - a line that is not JSON: Parse error (-32700, id null);
 * - JSON that is no JSON-RPC message (`params: "x"`, no `method`; see `frameProblem`): Invalid Request (-32600)
 *   with its id, when it has one;
 * - `tools/call` without a string `params.name`: Invalid params (-32602), naming the field;
 * - a line over {@link MAX_MCP_LINE_CHARS}: dropped unread past the bound, answered -32600.
 * The rest passes through unchanged, a line each. (The checks follow JSON-RPC 2.0; the MCP SDK's stdio transport
 * reads the lines that pass.)
 */
export function checkedMcpInput(stdin: Readable, stdout: Writable, log: (line: string) => void): Readable {
  const out = new PassThrough();
  let buffer = "";
  let dropping = false;
  const answer = (id: unknown, code: number, message: string) => {
    log(`refused a request: ${message}`);
    stdout.write(`${JSON.stringify({ jsonrpc: "2.0", id: isId(id) ? id : null, error: { code, message } })}\n`);
  };
  const check = (line: string) => {
    if (!line.trim()) return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return answer(null, -32700, "Parse error: the line is not JSON.");
    }
    const id = (message as { id?: unknown } | null)?.id;
    const problem = frameProblem(message);
    if (problem) return answer(id, -32600, `Invalid Request: ${problem}.`);
    const m = message as { method?: string; params?: { name?: unknown } };
    if (m.method === "tools/call" && typeof m.params?.name !== "string") {
      return answer(id, -32602, "Invalid params: 'params.name' must be the name of a tool (a string).");
    }
    out.write(`${line}\n`);
  };
  stdin.setEncoding("utf8");
  stdin.on("data", (chunk: string) => {
    let text = chunk;
    for (;;) {
      const newline = text.indexOf("\n");
      if (newline < 0) break;
      const line = buffer + text.slice(0, newline);
      text = text.slice(newline + 1);
      buffer = "";
      if (dropping) {
        dropping = false;
        continue;
      }
      check(line);
    }
    if (dropping) return;
    buffer += text;
    if (buffer.length > MAX_MCP_LINE_CHARS) {
      buffer = "";
      dropping = true;
      answer(null, -32600, `Invalid Request: a message over ${MAX_MCP_LINE_CHARS} characters.`);
    }
  });
  stdin.on("end", () => {
    if (buffer && !dropping) check(buffer);
    out.end();
  });
  stdin.on("error", (error) => out.destroy(error));
  return out;
}
