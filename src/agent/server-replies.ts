// Reading the agent API's answers: the shapes the agent relies on, and error answers as the AppErrors the server raised.
import { ClientError } from '../client/errors.js';
import { AppError, ERROR_CODES, type ErrorCode } from '../core/errors.js';
import { isRecord } from '../core/guards.js';
import type {
  AgentIdentity,
  AgentVm,
  CertificateBatchItem,
  CertificateResponse,
  VmSync,
} from '../wire/agent-api.js';

/** An object whose `texts` members are strings and `numbers` members finite numbers. */
export function shaped(
  value: unknown,
  texts: readonly string[],
  nums: readonly string[] = [],
): value is Record<string, unknown> {
  return (
    isRecord(value) &&
    texts.every((k) => typeof value[k] === 'string') &&
    nums.every((k) => typeof value[k] === 'number' && Number.isFinite(value[k]))
  );
}

/** True for an array of strings. */
export const allStrings = (value: unknown): boolean =>
  Array.isArray(value) && value.every((v) => typeof v === 'string');

const isIdentity = (value: unknown): value is AgentIdentity =>
  shaped(value, ['kind', 'principalId', 'clientId', 'tenantId', 'resourceId']) &&
  (value.kind === 'SystemAssigned' || value.kind === 'UserAssigned');

const isVm = (value: unknown): value is AgentVm =>
  shaped(value, ['id', 'vmId', 'name', 'subscriptionId', 'resourceGroup']) &&
  allStrings(value.addresses) &&
  Array.isArray(value.identities) &&
  value.identities.every(isIdentity);

/** True when `value` has the shape of a {@link VmSync} (with well-formed VMs). */
export function isVmSync(value: unknown): value is VmSync {
  return (
    shaped(value, [], ['position']) &&
    typeof value.full === 'boolean' &&
    Array.isArray(value.vms) &&
    value.vms.every(isVm) &&
    allStrings(value.removed)
  );
}

/**
 * The error for "the server cannot be reached or answered badly": 503 with `Retry-After`, so IMDS
 * answers a retryable 5xx.
 */
export function upstreamUnavailable(
  message: string,
  retryAfterSeconds: number,
  cause?: unknown,
): AppError {
  return new AppError('ServiceUnavailable', message, {
    status: 503,
    expose: true,
    retryAfterSeconds,
    cause,
  });
}

/**
 * The answers that say a replica cannot serve now and did not do the work: a load balancer with
 * no backend (502), the server or a balancer overloaded or starting (503), a gateway timeout
 * (504). The agent moves to another replica on them.
 */
export const REPLICA_DOWN_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** Socket errors that come before a server could have read a request. */
const NEVER_ANSWERED_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * True when the transport failed (src/client/http.ts) before any answer began, in a way that
 * leaves the request unprocessed: no connection (refused, unreachable, no such name), a TLS
 * handshake that failed (the request is sent after it), or a connection reset before the server
 * answered (a replica that was killed). False for a timeout, an answer cut off midway, or
 * anything else: the server may have done the work.
 */
export function certainlyUnanswered(error: unknown): boolean {
  if (!(error instanceof ClientError) || error.code !== 'ServiceUnreachable') return false;
  const code = (error.cause as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return false;
  return NEVER_ANSWERED_CODES.has(code) || /^ERR_TLS_|CERT|SELF_SIGNED|UNABLE_TO_/.test(code);
}

/** True when `error` says the server is (for now) unreachable or overloaded, so a retry may help. */
export function isTransient(error: unknown): boolean {
  return (
    error instanceof AppError &&
    (error.code === 'ServiceUnavailable' || error.code === 'TooManyRequests')
  );
}

/** The code of a 4xx answer whose body names none of ours. */
const CODE_FOR_STATUS: Readonly<Record<number, ErrorCode>> = {
  401: 'AuthenticationRequired',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  412: 'PreconditionFailed',
  429: 'TooManyRequests',
};

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,6}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/**
 * Turns a non-2xx answer into an AppError: a 5xx is `ServiceUnavailable` (503) whatever the
 * server said; a 4xx keeps its status and, when it is one of ours, the server's code (the wire
 * code is kept for the ARM dialect); an Entra refusal becomes the Entra error it was (see
 * {@link entraErrorFrom}); `Retry-After` is carried over.
 */
export function errorFromResponse(
  status: number,
  text: string,
  retryAfterHeader: string | string[] | undefined,
  defaultRetryAfterSeconds: number,
): AppError {
  let wireCode: string | undefined;
  let message: string | undefined;
  let target: string | undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    const error = isRecord(parsed) ? parsed.error : undefined;
    if (isRecord(error)) {
      if (typeof error.code === 'string') wireCode = error.code;
      if (typeof error.message === 'string') message = error.message;
      if (typeof error.target === 'string') target = error.target;
    }
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const retrySeconds = parseRetryAfter(retryAfterHeader);
  if (status >= 500 || status < 400) {
    return upstreamUnavailable(
      `The Tessera server is unavailable (HTTP ${status}).`,
      retrySeconds ?? defaultRetryAfterSeconds,
    );
  }
  const entra = entraErrorFrom(status, wireCode, message, target);
  if (entra !== undefined) return entra;
  const known = (ERROR_CODES as readonly string[]).includes(wireCode ?? '');
  const code: ErrorCode = known
    ? (wireCode as ErrorCode)
    : (CODE_FOR_STATUS[status] ?? 'InvalidRequest');
  return new AppError(code, message ?? `The Tessera server refused the request (HTTP ${status}).`, {
    status,
    ...(wireCode === undefined ? {} : { wire: { arm: wireCode } }),
    ...(target === undefined ? {} : { target }),
    ...(retrySeconds === undefined ? {} : { retryAfterSeconds: retrySeconds }),
  });
}

/**
 * Entra's `error` values the agent API passes on (`POST /token`, and `POST /identities/{id}/
 * certificate` for a disabled identity), with the code the server raised each under
 * (src/wire/oauth/entra-errors.ts).
 */
const ENTRA_ERROR_CODES: Readonly<Record<string, ErrorCode>> = {
  invalid_request: 'InvalidRequest',
  invalid_client: 'InvalidClient',
  invalid_grant: 'InvalidGrant',
  unauthorized_client: 'UnauthorizedClient',
  unsupported_grant_type: 'UnsupportedGrantType',
  invalid_scope: 'InvalidScope',
  invalid_resource: 'InvalidResource',
  invalid_tenant: 'NotFound',
};

/** The token endpoint's own codes: every dialect quotes their AADSTS number itself. */
const TOKEN_ENDPOINT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'InvalidClient',
  'InvalidGrant',
  'UnauthorizedClient',
  'UnsupportedGrantType',
  'InvalidScope',
  'InvalidResource',
]);

const AADSTS_PREFIX = /^AADSTS(\d{1,9}): /;

/**
 * The Entra error in an agent API answer, rebuilt as the server raised it, or undefined when the
 * answer is not one. The server sends an Entra refusal as
 * `{"error":{"code":"unauthorized_client","message":"AADSTS7000112: Application ... is disabled."}}`
 * with Entra's status (src/server/agent-api/token.ts); the error keeps that status, Entra's
 * `error` (as the IMDS, OAuth and ARM wire code) and its AADSTS number (`errorCodes`), so IMDS
 * passes it through as Azure's IMDS passes Entra's: `{"error":"unauthorized_client",
 * "error_description":"AADSTS7000112: Application ... is disabled."}`. For the token endpoint's
 * own codes the renderers write the `AADSTS<n>: ` prefix, so the message loses it; the others
 * (`invalid_request`, `invalid_tenant`) are sent as they are and keep Entra's whole text.
 */
export function entraErrorFrom(
  status: number,
  error: string | undefined,
  message: string | undefined,
  target: string | undefined,
): AppError | undefined {
  if (error === undefined || message === undefined || !Object.hasOwn(ENTRA_ERROR_CODES, error)) {
    return undefined;
  }
  const code = ENTRA_ERROR_CODES[error];
  const aadsts = AADSTS_PREFIX.exec(message);
  if (code === undefined || aadsts === null) return undefined;
  return new AppError(
    code,
    TOKEN_ENDPOINT_CODES.has(code) ? message.slice(aadsts[0].length) : message,
    {
      status,
      errorCodes: [Number(aadsts[1])],
      wire: { oauth: error, imds: error, arm: error },
      ...(target === undefined ? {} : { target }),
    },
  );
}

/** One identity's answer to a batch of CSRs: its certificate, or why it was refused. */
export type CertificateOutcome =
  | { readonly principalId: string; readonly certificate: CertificateResponse }
  | { readonly principalId: string; readonly error: AppError };

/**
 * The outcomes of `POST /identities/certificates` for `requests`, each refusal as the AppError
 * the single route's answer would have become ({@link errorFromResponse}); undefined when the
 * answer does not have one well-formed result per request, in order.
 */
export function certificateOutcomes(
  body: unknown,
  requests: readonly CertificateBatchItem[],
  retryAfterSeconds: number,
): CertificateOutcome[] | undefined {
  const results = isRecord(body) ? body.results : undefined;
  if (!Array.isArray(results) || results.length !== requests.length) return undefined;
  const outcomes: CertificateOutcome[] = [];
  for (const [i, result] of (results as unknown[]).entries()) {
    const principalId = requests[i]?.principalId;
    if (principalId === undefined || !isRecord(result) || result.principalId !== principalId) {
      return undefined;
    }
    const { certificate, notBefore, notAfter } = result;
    if (
      typeof certificate === 'string' &&
      typeof notBefore === 'number' &&
      typeof notAfter === 'number' &&
      Number.isFinite(notBefore) &&
      Number.isFinite(notAfter)
    ) {
      outcomes.push({ principalId, certificate: { certificate, notBefore, notAfter } });
    } else if (typeof result.status === 'number' && isRecord(result.error)) {
      const text = JSON.stringify({ error: result.error });
      const error = errorFromResponse(result.status, text, undefined, retryAfterSeconds);
      outcomes.push({ principalId, error });
    } else {
      return undefined;
    }
  }
  return outcomes;
}
