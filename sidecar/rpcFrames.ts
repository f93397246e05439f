import type { Message, MessageReader, MessageWriter, DataCallback, Disposable } from "vscode-languageserver/node";

/** A JSON-RPC id as the protocol allows it on a request. */
type RequestId = number | string;

const isId = (v: unknown): v is RequestId => typeof v === "number" || typeof v === "string";
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

/**
 * A {@link MessageReader} that passes on only well-formed frames ({@link frameProblem}); a malformed one is
 * logged, and when it carries a usable id it is answered with JSON-RPC's Invalid Request error (-32600), so
 * the client's request does not hang. vscode-jsonrpc itself throws, and takes the process down, on some of
 * them (`$/cancelRequest` with `params: null`).
 */
export class CheckedMessageReader implements MessageReader {
  constructor(
    private readonly inner: MessageReader,
    private readonly writer: MessageWriter,
    private readonly log: (message: string) => void,
  ) {}

  get onError() {
    return this.inner.onError;
  }
  get onClose() {
    return this.inner.onClose;
  }
  get onPartialMessage() {
    return this.inner.onPartialMessage;
  }

  listen(callback: DataCallback): Disposable {
    return this.inner.listen((message: Message) => {
      const problem = frameProblem(message);
      if (!problem) return callback(message);
      const id = (message as { id?: unknown } | null)?.id;
      this.log(`Ignored a malformed message from the client (${problem}): ${preview(message)}`);
      if (isId(id)) {
        void this.writer.write({
          jsonrpc: "2.0",
          id,
          error: { code: -32600, message: `Invalid request: ${problem}.` },
        } as Message);
      }
    });
  }

  dispose(): void {
    this.inner.dispose();
  }
}

function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
