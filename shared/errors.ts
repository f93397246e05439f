import { ErrorCodes, type ErrorCode, type ErrorData } from "./protocol";

/**
 * Hearth's one error class, on both sides of the wire: a fixed {@link ErrorCodes} code, a one-sentence message
 * for the user and an optional hint saying what to do next.
 *
 * - The sidecar throws it from a handler; the server sends `{code, message, data: {hint}}`. Anything else thrown
 *   inside a handler is reported as `ErrorCodes.Internal` with the original message (and logged with its stack).
 * - A client gets it back from every failed request ({@link HearthError.from} converts what a JSON-RPC library
 *   rejected with) and branches on `code`, never on `message`.
 */
export class HearthError extends Error {
  constructor(
    /** One of {@link ErrorCodes}; a client may also see another number from a foreign or newer server. */
    readonly code: ErrorCode | number,
    message: string,
    readonly hint?: string,
    /** Facts a client may show or pass on (PromptTooLong's token counts). */
    readonly facts: Omit<ErrorData, "hint"> = {},
  ) {
    super(message);
    this.name = "HearthError";
  }

  /** The JSON-RPC error's `data` member: the hint and the facts, when there are any. */
  get data(): ErrorData | undefined {
    const data: ErrorData = { ...(this.hint ? { hint: this.hint } : {}), ...this.facts };
    return Object.keys(data).length ? data : undefined;
  }

  /**
   * Convert whatever was thrown or rejected: a HearthError as it is, a JSON-RPC `ResponseError`-like
   * `{code, message, data?: {hint}}` with its code and hint, anything else as `ErrorCodes.Internal`.
   */
  static from(error: unknown): HearthError {
    if (error instanceof HearthError) return error;
    if (typeof error === "object" && error !== null && "code" in error && "message" in error) {
      const e = error as {
        code: unknown;
        message: unknown;
        data?: { hint?: unknown; promptTokens?: unknown; contextTokens?: unknown; field?: unknown };
      };
      if (typeof e.code === "number") {
        const hint = typeof e.data?.hint === "string" ? e.data.hint : undefined;
        const count = (n: unknown) => (typeof n === "number" && Number.isFinite(n) ? n : undefined);
        const promptTokens = count(e.data?.promptTokens);
        const contextTokens = count(e.data?.contextTokens);
        return new HearthError(e.code, String(e.message), hint, {
          ...(promptTokens !== undefined ? { promptTokens } : {}),
          ...(contextTokens !== undefined ? { contextTokens } : {}),
          ...(typeof e.data?.field === "string" ? { field: e.data.field.slice(0, 200) } : {}),
        });
      }
    }
    return new HearthError(ErrorCodes.Internal, error instanceof Error ? error.message : String(error));
  }

  /** Message plus hint, for a terminal or a notification. */
  get userMessage(): string {
    if (!this.hint) return this.message;
    return /[.!?)]$/.test(this.message) ? `${this.message} ${this.hint}` : `${this.message}. ${this.hint}`;
  }
}

/** Wrap any thrown value as a {@link HearthError}, keeping HearthErrors as they are (the sidecar's handlers). */
export function toHearthError(error: unknown): HearthError {
  if (error instanceof HearthError) return error;
  // A Node error carries a string `code` ("ENOENT"): that is not a wire code, so only the message is kept.
  const message = error instanceof Error ? error.message : String(error);
  return new HearthError(ErrorCodes.Internal, message);
}

/** What a client tells the user to do after a crash, by default: the interactive clients' advice. */
export const RESTARTING_HINT = "It is being restarted; send the message again.";

/**
 * The error every pending request gets when the sidecar process dies under it.
 * @param hint what to do next: {@link RESTARTING_HINT} where the sidecar restarts (VS Code, the REPL); a
 *   one-shot command, which ends, says to run it again.
 */
export function sidecarExited(detail: string, hint = RESTARTING_HINT): HearthError {
  return new HearthError(
    ErrorCodes.SidecarExited,
    `The Hearth sidecar stopped unexpectedly (${detail}); the request was not completed.`,
    hint,
  );
}
