import { ErrorCodes, type ErrorCode, type ErrorData } from "./protocol";

/**
 * An error the sidecar reports to its client with a fixed {@link ErrorCodes} code, a one-sentence message for
 * the user and an optional hint saying what to do next. Anything else thrown inside a handler is reported as
 * `ErrorCodes.Internal` with the original message (and logged with its stack).
 */
export class HearthError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "HearthError";
  }

  get data(): ErrorData | undefined {
    return this.hint ? { hint: this.hint } : undefined;
  }
}

/** Wrap any thrown value as a {@link HearthError}, keeping HearthErrors as they are. */
export function toHearthError(error: unknown): HearthError {
  if (error instanceof HearthError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new HearthError(ErrorCodes.Internal, message);
}
