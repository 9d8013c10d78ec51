// The portal's HTTP client: same-origin JSON calls with the bearer token, errors in ARM's shape.

/** A refused or failed call: ARM's `{"error":{"code","message"}}` (or OAuth's), with the status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The code and message of an error body in any of the server's dialects. */
export function errorOf(status: number, body: unknown): ApiError {
  if (isRecord(body)) {
    const inner = body.error;
    if (isRecord(inner) && typeof inner.code === 'string') {
      return new ApiError(
        status,
        inner.code,
        typeof inner.message === 'string' ? inner.message : '',
      );
    }
    if (typeof inner === 'string') {
      const text = body.error_description;
      return new ApiError(status, inner, typeof text === 'string' ? text : inner);
    }
  }
  return new ApiError(status, `Http${status}`, `The server answered ${status}.`);
}

/** How a caller reaches the server: the token, and what to do when the server forgets it. */
export interface Http {
  /** Sends one JSON call; resolves with the parsed body (undefined when empty). */
  readonly send: (method: string, path: string, body?: unknown) => Promise<unknown>;
}

/**
 * An {@link Http} that sends `token` with every call and calls `onUnauthorized` on a 401 (the
 * token expired or was revoked) before failing with the server's error.
 */
export function createHttp(token: string, onUnauthorized: () => void): Http {
  return {
    async send(method, path, body) {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      let parsed: unknown = undefined;
      if (text !== '') {
        try {
          parsed = JSON.parse(text) as unknown;
        } catch {
          parsed = undefined;
        }
      }
      if (response.status === 401) onUnauthorized();
      if (!response.ok) throw errorOf(response.status, parsed);
      return parsed;
    },
  };
}

/** A message for any failure, for the status line: `Code: message` for the server's errors. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
