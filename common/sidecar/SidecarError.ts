import { ErrorCodes, type ErrorCode } from "../../sidecar/protocol";

/**
 * A failed sidecar request as clients see it: the fixed {@link ErrorCodes} code, the sidecar's one-sentence
 * message and its hint. Clients branch on `code`, never on `message`.
 */
export class SidecarError extends Error {
  constructor(
    readonly code: ErrorCode | number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "SidecarError";
  }

  /** Convert whatever a JSON-RPC library rejected with (ResponseError-like `{code, message, data}`). */
  static from(error: unknown): SidecarError {
    if (error instanceof SidecarError) return error;
    if (typeof error === "object" && error !== null && "code" in error && "message" in error) {
      const e = error as { code: unknown; message: unknown; data?: { hint?: unknown } };
      const code = typeof e.code === "number" ? e.code : ErrorCodes.Internal;
      const hint = typeof e.data?.hint === "string" ? e.data.hint : undefined;
      return new SidecarError(code, String(e.message), hint);
    }
    return new SidecarError(ErrorCodes.Internal, error instanceof Error ? error.message : String(error));
  }

  /** Message plus hint, for a terminal or a notification. */
  get userMessage(): string {
    if (!this.hint) return this.message;
    return /[.!?)]$/.test(this.message) ? `${this.message} ${this.hint}` : `${this.message}. ${this.hint}`;
  }
}

/** What a client tells the user to do after a crash, by default: the interactive clients' advice. */
export const RESTARTING_HINT = "It is being restarted; send the message again.";

/**
 * The error every pending request gets when the sidecar process dies under it.
 * @param hint what to do next: {@link RESTARTING_HINT} where the sidecar restarts (VS Code, the REPL); a
 *   one-shot command, which ends, says to run it again.
 */
export function sidecarExited(detail: string, hint = RESTARTING_HINT): SidecarError {
  return new SidecarError(
    ErrorCodes.SidecarExited,
    `The Hearth sidecar stopped unexpectedly (${detail}); the request was not completed.`,
    hint,
  );
}
