import { ErrorCodes } from "../../shared/protocol";
import { HearthError } from "../../shared/errors";

/**
 * An HTTP error in OpenAI's shape, `{error: {message, type, code, param}}` (the shape OpenAI's API, llama-server
 * and vLLM answer with, and that the `openai` npm client turns into its typed errors).
 */
export class ApiError extends Error {
  constructor(
    /** HTTP status: 400, 401, 404, 413, 429, 500, 501, 502, 503. */
    readonly status: number,
    message: string,
    /** OpenAI's error type, e.g. "invalid_request_error", "authentication_error", "rate_limit_error". */
    readonly type: string,
    /** A machine-readable code, e.g. "model_not_found", "context_length_exceeded"; null when none fits. */
    readonly code: string | null = null,
    /** The request field at fault, e.g. "messages[0].content". */
    readonly param: string | null = null,
    /** Extra response headers (Retry-After). */
    readonly headers: Record<string, string> = {},
    /** Extra members of `error` (llama-server's `n_prompt_tokens`, `n_ctx`). */
    readonly extra: Record<string, number> = {},
  ) {
    super(message);
  }

  /** The response body. */
  body(): { error: { message: string; type: string; code: string | null; param: string | null } } {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param, ...this.extra } };
  }
}

/** 400 invalid_request_error naming the field. */
export function badRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError(400, message, "invalid_request_error", code, param);
}

/**
 * Runs one of the shared guards (`shared/guards.ts`) on a part of the client's request and turns its refusal into a
 * 400 naming the client's field (the guard is given the client's name for it, e.g.
 * `response_format.json_schema.schema`), so the client never reads the sidecar's own parameter names.
 * @throws ApiError 400 with `param` set to the field the guard named.
 */
export function checkClientField(check: () => void): void {
  try {
    check();
  } catch (error) {
    const e = HearthError.from(error);
    if (e.code !== ErrorCodes.InvalidParams) throw error;
    throw badRequest(e.message.replace(/^Invalid params: /, ""), e.facts.field ?? null);
  }
}

/**
 * The HTTP face of a sidecar error: invalid params 400, a prompt over the context 400
 * `context_length_exceeded`, no model for the role 503 (retry after a load), model not found 404, something
 * the model cannot do 501, a remote engine that failed 502, a sidecar that died 503, anything else 500. The
 * message is the sidecar's sentence and its hint.
 */
export function fromHearthError(error: unknown): ApiError {
  const e = HearthError.from(error);
  const message = e.userMessage;
  switch (e.code) {
    case ErrorCodes.InvalidParams:
      return badRequest(message);
    case ErrorCodes.PromptTooLong:
      // llama-server's shape: its error type and the two counts, when the engine counted them.
      return new ApiError(
        400,
        message,
        "exceed_context_size_error",
        "context_length_exceeded",
        "messages",
        {},
        {
          ...(e.facts.promptTokens !== undefined ? { n_prompt_tokens: e.facts.promptTokens } : {}),
          ...(e.facts.contextTokens !== undefined ? { n_ctx: e.facts.contextTokens } : {}),
        },
      );
    case ErrorCodes.NoModelLoaded:
      return new ApiError(503, message, "unavailable_error", "model_not_loaded", null, { "retry-after": "5" });
    case ErrorCodes.ModelNotFound:
      return new ApiError(404, message, "invalid_request_error", "model_not_found", "model");
    case ErrorCodes.Unsupported:
      return new ApiError(501, message, "not_supported_error", "not_supported");
    case ErrorCodes.EngineUnavailable:
    case ErrorCodes.EngineAuth:
      return new ApiError(502, message, "upstream_error", "engine_unavailable");
    case ErrorCodes.SidecarExited:
      return new ApiError(503, message, "unavailable_error", "restarting", null, { "retry-after": "2" });
    default:
      return new ApiError(500, message, "server_error");
  }
}
