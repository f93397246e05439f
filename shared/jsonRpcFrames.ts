/**
 * JSON-RPC 2.0 frame checks both servers of the house use before a library sees a frame: the sidecar (LSP framing,
 * `sidecar/rpcFrames.ts`) and `hearth mcp` (newline-delimited, `cli/mcpInput.ts`).
 */

/** A JSON-RPC id as the protocol allows it on a request. */
export type RequestId = number | string;

export const isId = (v: unknown): v is RequestId => typeof v === "number" || typeof v === "string";
const isParams = (v: unknown): boolean => v === undefined || (typeof v === "object" && v !== null);

/**
 * Why a frame from the client is not a JSON-RPC 2.0 message the connection can take, or undefined when it is.
 * Checked: an object with `jsonrpc: "2.0"`; a request or notification has a string `method` and object or array
 * `params` (or none); a request's `id` is a number or string; `$/cancelRequest` names a request id; a response
 * has an `id` and a `result` or `error`. (JSON-RPC 2.0, "Request object" and "Response object".)
 */
export function frameProblem(frame: unknown): string | undefined {
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return "not a JSON-RPC object";
  const m = frame as Record<string, unknown>;
  if (m["jsonrpc"] !== "2.0") return 'no "jsonrpc": "2.0" field';
  if ("method" in m) {
    if (typeof m["method"] !== "string") return "'method' is not a string";
    if ("id" in m && !isId(m["id"])) return "'id' is neither a number nor a string";
    if (!isParams(m["params"])) return "'params' is neither an object nor an array";
    if (m["method"] === "$/cancelRequest") {
      const p = m["params"] as Record<string, unknown> | undefined;
      if (!p || !isId(p["id"])) return "$/cancelRequest without a request id in 'params.id'";
    }
    return undefined;
  }
  if ("id" in m && ("result" in m || "error" in m)) return undefined;
  return "neither a request, a notification nor a response";
}
