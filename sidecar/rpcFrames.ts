import type { Message, MessageReader, MessageWriter, DataCallback, Disposable } from "vscode-languageserver/node";
import { frameProblem, isId } from "../shared/jsonRpcFrames";

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
