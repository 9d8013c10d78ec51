// Errors the clients raise: a service's error answer (ARM, Key Vault, OAuth) or a local failure, in one line.
import { isRecord } from '../core/guards.js';

/** A failed call, or a client that could not make one; `code` is the service's own when it sent one. */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  /** The service's error code (`SecretNotFound`, `ResourceGroupNotFound`, `invalid_client`), or the client's own. */
  readonly code: string;
  /** The HTTP status of the answer; undefined when there was none. */
  readonly status: number | undefined;

  constructor(code: string, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
  }
}

/** True for a {@link ClientError}. */
export function isClientError(value: unknown): value is ClientError {
  return value instanceof ClientError;
}

const oneLine = (text: string): string => text.replace(/\s*[\r\n]+\s*/g, ' ').trim();

/**
 * The error an answer with status ≥ 400 carries, read from its body in any of the dialects the
 * server speaks: ARM's `{"error":{"code","message"}}`, Key Vault's, which adds
 * `innererror.code` (shown after the message), and OAuth's `{"error","error_description"}` (RFC
 * 6749 section 5.2; only the description's first line: Entra appends trace ids). Any other
 * body gives `UnexpectedResponse` with the status.
 */
export function errorFromAnswer(status: number, text: string, what: string): ClientError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = isRecord(body) ? body.error : undefined;
  if (isRecord(error) && typeof error.code === 'string' && typeof error.message === 'string') {
    const inner = isRecord(error.innererror) ? error.innererror.code : undefined;
    const suffix = typeof inner === 'string' && inner !== error.code ? ` (${inner})` : '';
    return new ClientError(error.code, `${oneLine(error.message)}${suffix}`, { status });
  }
  if (isRecord(body) && typeof error === 'string') {
    const description = body.error_description;
    const first = typeof description === 'string' ? description.split(/\r?\n/)[0] : undefined;
    return new ClientError(error, oneLine(first ?? `HTTP ${status}`), { status });
  }
  return new ClientError('UnexpectedResponse', `HTTP ${status} from ${what}`, { status });
}
