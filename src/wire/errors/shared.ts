// What the four error dialects share: status and exposure rules, headers, serialization.
import { internalError, toAppError, type AppError } from '../../core/errors.js';
import type { RenderContext, RenderedError } from './rendered-error.js';

/** The content type of every error body (IMDS, Entra, ARM and Key Vault all send this). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Said instead of a 5xx error's message, which is never sent. */
export const GENERIC_SERVER_MESSAGE = 'An internal error occurred.';

/** Said instead of the message of a 4xx error raised with `expose: false`. */
export const GENERIC_CLIENT_MESSAGE = 'The request could not be processed.';

/** An error reduced to what a renderer may use. */
export interface Prepared {
  readonly error: AppError;
  readonly status: number;
  /** False when the message and target must not reach the caller. */
  readonly exposed: boolean;
}

/**
 * Turns anything thrown into an {@link AppError} and decides status and exposure: anything that
 * is not an `AppError`, an `Internal` or `ConfigInvalid` error (configuration text names key
 * paths and is for the operator's terminal, not for API callers) become an unexposed 500; an
 * `AppError` whose status is outside 400-599 is treated as an internal error.
 */
export function prepare(value: unknown): Prepared {
  const error = toAppError(value);
  const validStatus = Number.isInteger(error.status) && error.status >= 400 && error.status <= 599;
  if (!validStatus) return { error: internalError(error), status: 500, exposed: false };
  const internal = error.code === 'Internal' || error.code === 'ConfigInvalid';
  if (internal) return { error, status: 500, exposed: false };
  return { error, status: error.status, exposed: error.expose };
}

/** The message a dialect may send: the error's own, or a generic one when it is not exposed. */
export function publicMessage(prepared: Prepared, serverMessage = GENERIC_SERVER_MESSAGE): string {
  if (prepared.exposed) return prepared.error.message;
  return prepared.status >= 500 ? serverMessage : GENERIC_CLIENT_MESSAGE;
}

/** The request element at fault, only when the error is exposed. */
export function publicTarget(prepared: Prepared): string | undefined {
  return prepared.exposed ? prepared.error.target : undefined;
}

/**
 * Serializes `payload` and assembles the headers: content type, `retry-after` (whole seconds,
 * rounded up) when the error carries one, the dialect's own headers, then the caller's.
 */
export function finish(
  prepared: Prepared,
  payload: unknown,
  dialectHeaders: Readonly<Record<string, string>>,
  ctx: RenderContext | undefined,
): RenderedError {
  const headers: Record<string, string> = { 'content-type': JSON_CONTENT_TYPE };
  const retryAfter = prepared.error.retryAfterSeconds;
  if (retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0) {
    headers['retry-after'] = String(Math.ceil(retryAfter));
  }
  Object.assign(headers, dialectHeaders);
  for (const [name, value] of Object.entries(ctx?.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  return { status: prepared.status, headers, body: JSON.stringify(payload) };
}

/** Exhaustiveness guard for `switch` over a closed union. */
export function unreachable(value: never): never {
  throw new Error(`Unhandled case: ${String(value)}`);
}
