// Entra token-endpoint errors: RFC 6749 section 5.2 as Microsoft Entra ID extends it (AADSTS codes).
import type { AppError, ErrorCode } from '../../core/errors.js';
import type { EpochMs } from '../../core/model.js';
import type { RenderContext, RenderedError } from './rendered-error.js';
import { finish, prepare, publicMessage, unreachable } from './shared.js';

/** What the token endpoint knows about the request; every field is echoed in the body. */
export interface OAuthErrorContext extends RenderContext {
  /** Entra's `trace_id`: one GUID per request, also quoted in `error_description`. */
  readonly traceId: string;
  /** Entra's `correlation_id`: the client's `client-request-id` when it sent one, else a GUID. */
  readonly correlationId: string;
  /** When the error happened, from the surface's clock. */
  readonly now: EpochMs;
  /** Base of `error_uri`; `?code=<AADSTS number>` is appended. Defaults to Entra's lookup page. */
  readonly errorUriBase?: string | undefined;
}

/** Entra's public error lookup page, which explains every AADSTS number. */
export const ENTRA_ERROR_URI_BASE = 'https://login.microsoftonline.com/error';

/** What Entra says (AADSTS50000) instead of the message of an error it does not expose. */
const TOKEN_ISSUANCE_ERROR = 'There was an error issuing a token.';

interface OAuthMapping {
  /** The RFC 6749 (or Entra) `error` value. */
  readonly error: string;
  /** The AADSTS number used when the error carries none. */
  readonly aadsts: number;
}

/**
 * Default `error` value and AADSTS number per code. Numbers and their meanings are those of the
 * Entra error-code reference (entra-docs `reference-error-codes.md`).
 */
function oauthMapping(code: ErrorCode): OAuthMapping {
  switch (code) {
    case 'InvalidRequest':
    case 'MetadataHeaderMissing':
    case 'ForwardedRequestRefused':
    case 'MultipleUserAssignedIdentities':
    case 'Conflict':
    case 'PreconditionFailed':
      return { error: 'invalid_request', aadsts: 90023 }; // InvalidRequest
    case 'InvalidParameter':
    case 'MissingApiVersion':
    case 'InvalidApiVersion':
      return { error: 'invalid_request', aadsts: 90100 }; // InvalidRequestParameter
    case 'MissingParameter':
      return { error: 'invalid_request', aadsts: 900144 }; // body must contain parameter
    case 'MethodNotAllowed':
      return { error: 'invalid_request', aadsts: 900561 }; // endpoint only accepts POST
    case 'UnsupportedMediaType':
    case 'PayloadTooLarge':
      return { error: 'invalid_request', aadsts: 90004 }; // InvalidRequestFormat
    case 'NotFound':
      return { error: 'invalid_request', aadsts: 90002 }; // InvalidTenantName
    case 'IdentityNotFound':
    case 'UnknownCaller':
    case 'UnauthorizedClient':
      return { error: 'unauthorized_client', aadsts: 700016 }; // application not found
    case 'Forbidden':
      return { error: 'unauthorized_client', aadsts: 7000112 }; // application disabled
    case 'AuthenticationRequired':
      return { error: 'invalid_client', aadsts: 7000218 }; // client_assertion or client_secret
    case 'InvalidToken':
      return { error: 'invalid_client', aadsts: 50013 }; // InvalidAssertion
    case 'InvalidClient':
      return { error: 'invalid_client', aadsts: 70002 }; // InvalidClient
    case 'InvalidGrant':
      return { error: 'invalid_grant', aadsts: 70000 }; // InvalidGrant
    case 'UnsupportedGrantType':
      return { error: 'unsupported_grant_type', aadsts: 70003 }; // UnsupportedGrantType
    case 'InvalidScope':
      return { error: 'invalid_scope', aadsts: 70011 }; // InvalidScope
    case 'InvalidResource':
      return { error: 'invalid_resource', aadsts: 500011 }; // resource principal not found
    case 'TooManyRequests':
      return { error: 'temporarily_unavailable', aadsts: 90055 }; // TenantThrottlingError
    case 'ServiceUnavailable':
      return { error: 'temporarily_unavailable', aadsts: 90006 }; // ExternalServerRetryableError
    case 'ConfigInvalid':
    case 'Internal':
      return { error: 'server_error', aadsts: 50000 }; // TokenIssuanceError
    default:
      return unreachable(code);
  }
}

const AADSTS_OVERRIDE = /^AADSTS(\d+)$/;

/**
 * The AADSTS numbers of an error, the one quoted in `error_description` first: a `wire.oauth`
 * override of the form `AADSTS<n>`, else the first of `errorCodes`, else the code's default.
 */
export function entraErrorCodes(error: AppError): readonly number[] {
  const override = AADSTS_OVERRIDE.exec(error.wire.oauth ?? '');
  const primary =
    override?.[1] === undefined
      ? (error.errorCodes[0] ?? oauthMapping(error.code).aadsts)
      : Number(override[1]);
  return [primary, ...error.errorCodes.filter((code) => code !== primary)];
}

/**
 * The `error` value: a `wire.oauth` override that is not an AADSTS number, else the code's
 * default (`invalid_request`, `invalid_client`, ...).
 */
export function entraErrorName(error: AppError): string {
  const override = error.wire.oauth;
  if (override !== undefined && !AADSTS_OVERRIDE.test(override)) return override;
  return oauthMapping(error.code).error;
}

/** Entra's own wording for a missing parameter, when the error names it. */
function entraMessage(error: AppError, message: string): string {
  if (error.code === 'MissingParameter' && error.target !== undefined) {
    return `The request body must contain the following parameter: '${error.target}'.`;
  }
  return message;
}

/** `2016-01-09 02:02:12Z`, the form of Entra's `timestamp` (whole seconds, UTC). */
export function entraTimestamp(now: EpochMs): string {
  const iso = new Date(now).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/**
 * Renders an error as Entra's token endpoint does:
 * `{"error","error_description","error_codes","timestamp","trace_id","correlation_id","error_uri"}`,
 * where `error_description` is `AADSTS<n>: <message>` followed by `\r\n`-separated Trace ID,
 * Correlation ID and Timestamp lines (PROTOCOL.md section 5.5; entra-docs reference-error-codes).
 * The status is the error's own (Entra answers 400 for most errors, 401 for `invalid_client`).
 * Anything that is not an exposed `AppError` says only "There was an error issuing a token."
 */
export function renderOAuthError(error: unknown, ctx: OAuthErrorContext): RenderedError {
  const prepared = prepare(error);
  const codes = entraErrorCodes(prepared.error);
  const primary = codes[0] ?? oauthMapping('Internal').aadsts;
  const message = prepared.exposed
    ? entraMessage(prepared.error, prepared.error.message)
    : publicMessage(prepared, TOKEN_ISSUANCE_ERROR);
  const timestamp = entraTimestamp(ctx.now);
  const description =
    `AADSTS${primary}: ${message}\r\nTrace ID: ${ctx.traceId}\r\n` +
    `Correlation ID: ${ctx.correlationId}\r\nTimestamp: ${timestamp}`;
  const body = {
    error: entraErrorName(prepared.error),
    error_description: description,
    error_codes: codes,
    timestamp,
    trace_id: ctx.traceId,
    correlation_id: ctx.correlationId,
    error_uri: `${ctx.errorUriBase ?? ENTRA_ERROR_URI_BASE}?code=${primary}`,
  };
  return finish(prepared, body, {}, ctx);
}
