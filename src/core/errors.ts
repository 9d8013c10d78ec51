// The one error type of Tessera: a stable code, an HTTP status, and whether its message may be shown.

/**
 * Every error Tessera raises on purpose has one of these codes. Each surface (IMDS, OAuth, ARM,
 * Key Vault) maps a code to its own wire dialect in `src/wire/errors/`; the code itself never
 * reaches the wire verbatim unless that dialect uses the same word.
 */
export const ERROR_CODES = [
  // generic input problems
  'InvalidRequest',
  'InvalidParameter',
  'MissingParameter',
  'MethodNotAllowed',
  'UnsupportedMediaType',
  'PayloadTooLarge',
  // api versions
  'MissingApiVersion',
  'InvalidApiVersion',
  // IMDS specifics
  'MetadataHeaderMissing',
  'ForwardedRequestRefused',
  'IdentityNotFound',
  'MultipleUserAssignedIdentities',
  'UnknownCaller',
  // authentication and authorization
  'AuthenticationRequired',
  'InvalidToken',
  'Forbidden',
  // OAuth2 token endpoint
  'InvalidClient',
  'InvalidGrant',
  'UnauthorizedClient',
  'UnsupportedGrantType',
  'InvalidScope',
  'InvalidResource',
  // lookups and state
  'NotFound',
  'Conflict',
  'PreconditionFailed',
  // capacity and availability
  'TooManyRequests',
  'ServiceUnavailable',
  // configuration (startup only)
  'ConfigInvalid',
  // anything not raised on purpose
  'Internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Options accepted by the {@link AppError} constructor. */
export interface AppErrorOptions {
  /** HTTP status a surface should answer with. */
  readonly status: number;
  /** Whether `message` is safe to send to the caller. Internal errors are never exposed. */
  readonly expose?: boolean | undefined;
  /** What went wrong underneath; logged, never sent. */
  readonly cause?: unknown;
  /** The request element at fault (ARM `target`, a parameter name, a resource id). */
  readonly target?: string | undefined;
  /**
   * A surface-specific wire code that overrides the default mapping (e.g. ARM's
   * `ResourceGroupNotFound` or Entra's `AADSTS700027`). Only the named dialect uses it.
   */
  readonly wire?: Readonly<Partial<Record<ErrorDialect, string>>> | undefined;
  /** Extra numeric error codes (Entra `error_codes`). */
  readonly errorCodes?: readonly number[] | undefined;
  /** Seconds after which a retry may succeed (`Retry-After`). */
  readonly retryAfterSeconds?: number | undefined;
  /** Typed facts about the fault (ARM `additionalInfo`: a template's `TemplateViolation`). */
  readonly additionalInfo?: readonly ErrorAdditionalInfo[] | undefined;
  /** The errors underneath (ARM `details`: a failed deployment's failed resources). */
  readonly details?: readonly AppError[] | undefined;
}

/** One entry of an error's `additionalInfo`: ARM's `ErrorAdditionalInfo` (`{type, info}`). */
export interface ErrorAdditionalInfo {
  readonly type: string;
  readonly info: { readonly [key: string]: string | number | boolean | null };
}

/** The four wire dialects Tessera speaks. */
export type ErrorDialect = 'imds' | 'oauth' | 'arm' | 'keyvault';

/**
 * An error raised on purpose. Surfaces render it in their own dialect; anything that is not an
 * `AppError` becomes a 500 with a generic message and its cause is logged, never sent.
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly target: string | undefined;
  readonly wire: Readonly<Partial<Record<ErrorDialect, string>>>;
  readonly errorCodes: readonly number[];
  readonly retryAfterSeconds: number | undefined;
  readonly additionalInfo: readonly ErrorAdditionalInfo[];
  readonly details: readonly AppError[];

  constructor(code: ErrorCode, message: string, options: AppErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.expose = options.expose ?? options.status < 500;
    this.target = options.target;
    this.wire = options.wire ?? {};
    this.errorCodes = options.errorCodes ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.additionalInfo = options.additionalInfo ?? [];
    this.details = options.details ?? [];
  }
}

/** True when `value` is an {@link AppError}. */
export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** What `work` resolves with, or the AppError it fails with; any other failure is thrown on. */
export async function refusalOr<T>(work: () => Promise<T>): Promise<T | AppError> {
  try {
    return await work();
  } catch (error) {
    if (isAppError(error)) return error;
    throw error;
  }
}

/**
 * Turns anything thrown into an {@link AppError}: an `AppError` passes through, anything else
 * becomes an unexposed 500 that keeps the original as its cause.
 */
export function toAppError(value: unknown): AppError {
  if (isAppError(value)) return value;
  return internalError(value);
}

// ---------------------------------------------------------------------------------------------
// Factories. Messages are written for the caller; they must never contain a secret.
// ---------------------------------------------------------------------------------------------

/** 500: something failed that was not raised on purpose. The message is never exposed. */
export function internalError(cause?: unknown): AppError {
  return new AppError('Internal', 'An internal error occurred.', {
    status: 500,
    expose: false,
    cause,
  });
}

/** 400: the request is malformed. */
export function invalidRequest(message: string, target?: string): AppError {
  return new AppError('InvalidRequest', message, { status: 400, ...withTarget(target) });
}

/** 400: a parameter has a value that is not allowed. */
export function invalidParameter(name: string, message: string): AppError {
  return new AppError('InvalidParameter', message, { status: 400, target: name });
}

/** 400: a required parameter is absent. */
export function missingParameter(name: string, message?: string): AppError {
  return new AppError(
    'MissingParameter',
    message ?? `The required parameter '${name}' is missing.`,
    {
      status: 400,
      target: name,
    },
  );
}

/** 405: the method is not supported on this route. */
export function methodNotAllowed(method: string): AppError {
  return new AppError('MethodNotAllowed', `The HTTP method '${method}' is not supported.`, {
    status: 405,
  });
}

/** 400: `api-version` was not given. */
export function missingApiVersion(): AppError {
  return new AppError(
    'MissingApiVersion',
    'The api-version query parameter (?api-version=) is required for all requests.',
    { status: 400, target: 'api-version' },
  );
}

/** 400: `api-version` is not one this surface supports. */
export function invalidApiVersion(given: string, supported: readonly string[]): AppError {
  return new AppError(
    'InvalidApiVersion',
    `The api-version '${given}' is invalid. The supported versions are '${supported.join(',')}'.`,
    { status: 400, target: 'api-version' },
  );
}

/** 400: the IMDS `Metadata: true` header is missing or wrong. */
export function metadataHeaderMissing(): AppError {
  return new AppError('MetadataHeaderMissing', 'Required metadata header not specified', {
    status: 400,
  });
}

/** 400: a request carried `X-Forwarded-For`, which IMDS refuses. */
export function forwardedRequestRefused(): AppError {
  return new AppError(
    'ForwardedRequestRefused',
    'Requests with an X-Forwarded-For header are not allowed',
    { status: 400 },
  );
}

/** 400: the selected (or default) identity is not assigned to the calling VM. */
export function identityNotFound(): AppError {
  return new AppError('IdentityNotFound', 'Identity not found', { status: 400 });
}

/** 400: several user-assigned identities and no selector. Text as Azure's IMDS sends it. */
export function multipleUserAssignedIdentities(): AppError {
  return new AppError(
    'MultipleUserAssignedIdentities',
    'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request',
    { status: 400 },
  );
}

/** 401: no credentials were presented. */
export function authenticationRequired(message: string): AppError {
  return new AppError('AuthenticationRequired', message, { status: 401 });
}

/** 401: the presented bearer token is not acceptable. */
export function invalidToken(message: string, cause?: unknown): AppError {
  return new AppError('InvalidToken', message, { status: 401, cause });
}

/** 403: authenticated, but not allowed to do this here. */
export function forbidden(message: string, target?: string): AppError {
  return new AppError('Forbidden', message, { status: 403, ...withTarget(target) });
}

/** 404: the named thing does not exist (or is not visible to the caller). */
export function notFound(
  message: string,
  options: { target?: string; wire?: AppErrorOptions['wire'] } = {},
): AppError {
  return new AppError('NotFound', message, { status: 404, ...options });
}

/** 409: the request conflicts with the current state. */
export function conflict(
  message: string,
  options: { target?: string; wire?: AppErrorOptions['wire']; cause?: unknown } = {},
): AppError {
  return new AppError('Conflict', message, { status: 409, ...options });
}

/** 429: the caller exceeded its rate. */
export function tooManyRequests(message: string, retryAfterSeconds?: number): AppError {
  return new AppError('TooManyRequests', message, {
    status: 429,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  });
}

/** 503: a dependency is unavailable; a retry later may succeed. */
export function serviceUnavailable(message: string, cause?: unknown): AppError {
  return new AppError('ServiceUnavailable', message, { status: 503, expose: true, cause });
}

/** Startup-only: the configuration is wrong. The message names the key path and the expectation. */
export function configInvalid(message: string, cause?: unknown): AppError {
  return new AppError('ConfigInvalid', message, { status: 500, expose: true, cause });
}

function withTarget(target: string | undefined): { target?: string } {
  return target === undefined ? {} : { target };
}
