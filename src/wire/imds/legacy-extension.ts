// The deprecated VM extension's token endpoint (`localhost:50342/oauth2/token`): its requests, its body, its errors.
//
// Sources: the extension's HTTP how-to, MicrosoftDocs/azure-docs
// `articles/active-directory/managed-service-identity/how-to-acquire-vm-access-token-http.md`
// (2017-12-01; request, sample response, "HTTP response reference"), the migration guide
// `articles/active-directory/managed-identities-azure-resources/howto-migrate-vm-extension.md`
// (2018-02-25; `client_id`, `object_id`) and Azure/msrestazure-for-python
// `msrestazure/azure_active_directory.py` `get_msi_token` (the form POST, `msi_res_id`).
import { isRecord } from '../../core/guards.js';
import type { ImdsQuery } from './query.js';

/**
 * The header the shim adds to every request it forwards, so that the agent can count legacy
 * calls per VM (Tessera's own; Azure's extension called Entra, not IMDS).
 */
export const LEGACY_EXTENSION_HEADER = 'X-Tessera-Legacy-Extension';

/** The value of {@link LEGACY_EXTENSION_HEADER}. */
export const LEGACY_EXTENSION_HEADER_VALUE = '1';

/**
 * The api-version the shim asks IMDS for: the first that has the identity category, and the one
 * the SDKs still send (PROTOCOL.md 1.1). The extension took no api-version.
 */
export const LEGACY_FORWARD_API_VERSION = '2018-02-01';

/** The IMDS route the shim forwards to. */
export const LEGACY_FORWARD_PATH = '/metadata/identity/oauth2/token';

/** The `Content-Type` of the extension's answers, as its sample response shows it. */
export const LEGACY_CONTENT_TYPE = 'application/json';

/**
 * The parameters that name a user-assigned identity. The extension documented `client_id` and
 * `object_id`; Microsoft's Python client (msrestazure `get_msi_token`) also sent `msi_res_id` to
 * it. IMDS takes all three, so the shim forwards all three and IMDS refuses more than one.
 */
export const LEGACY_SELECTORS = ['client_id', 'object_id', 'msi_res_id'] as const;

/** One of {@link LEGACY_SELECTORS}. */
export type LegacySelectorName = (typeof LEGACY_SELECTORS)[number];

/** A token request to the extension, gathered from the query string and the form body. */
export interface LegacyTokenRequest {
  /** Absent or empty: IMDS answers "Required query variable 'resource' is missing". */
  readonly resource: string | undefined;
  /** The non-empty selectors, in {@link LEGACY_SELECTORS} order. */
  readonly selectors: readonly (readonly [LegacySelectorName, string])[];
}

/**
 * Whether `path` (the request target without its query) is the extension's token endpoint,
 * `/oauth2/token`. A trailing slash and any letter case are accepted (the extension's own rules
 * are undocumented; IMDS is as lenient with `/metadata`).
 */
export function isLegacyTokenPath(path: string): boolean {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.toLowerCase() === '/oauth2/token';
}

/**
 * Whether a `Content-Type` value is a form body (`application/x-www-form-urlencoded`, with any
 * parameters), what `curl --data` and Python `requests.post(data=...)` send.
 */
export function isFormContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const type = value.split(';', 1)[0] ?? '';
  return type.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/**
 * The token request in `query` and, for a POST, `form` (both parsed by `parseImdsQuery`, which
 * already refuses a name given twice in one of them). Other parameters (`authority`,
 * `api-version`, ...) are dropped: the extension documented none, and IMDS ignores `authority`.
 * Returns a 400 `invalid_request` {@link LegacyError} for a name given both in the query string
 * and in the body.
 */
export function legacyTokenRequest(
  query: ImdsQuery,
  form: ImdsQuery | undefined,
): LegacyTokenRequest | LegacyError {
  const get = (name: string): string | undefined | LegacyError => {
    const inQuery = query.get(name);
    const inForm = form?.get(name);
    if (inQuery !== undefined && inForm !== undefined) {
      return invalidRequestError(
        `Bad request. Parameter '${name}' is specified both in the query string and in the body.`,
      );
    }
    return inQuery ?? inForm;
  };
  const resource = get('resource');
  if (isLegacyError(resource)) return resource;
  const selectors: [LegacySelectorName, string][] = [];
  for (const name of LEGACY_SELECTORS) {
    const value = get(name);
    if (isLegacyError(value)) return value;
    if (value !== undefined && value !== '') selectors.push([name, value]);
  }
  return { resource, selectors };
}

/**
 * The path and query of the IMDS request for `request`:
 * `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=…[&client_id=…]`, every value
 * percent-encoded. An absent or empty `resource` is left out, so IMDS reports it missing.
 */
export function legacyForwardTarget(request: LegacyTokenRequest): string {
  let target = `${LEGACY_FORWARD_PATH}?api-version=${LEGACY_FORWARD_API_VERSION}`;
  if (request.resource !== undefined && request.resource !== '') {
    target += `&resource=${encodeURIComponent(request.resource)}`;
  }
  for (const [name, value] of request.selectors) target += `&${name}=${encodeURIComponent(value)}`;
  return target;
}

const asString = (value: unknown): string | undefined =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' && Number.isFinite(value)
      ? String(value)
      : undefined;

/**
 * Reshapes an IMDS token body (PROTOCOL.md 1.4) into the extension's, as its documentation shows
 * it: `{"access_token","refresh_token":"","expires_in","expires_on","not_before","resource",
 * "token_type"}` in that order, every value a string. IMDS's `client_id` and `ext_expires_in`
 * are dropped (the extension sent neither); `expires_in` is IMDS's, the seconds left now.
 * Returns undefined when `imds` has no string `access_token` or no `expires_on`.
 */
export function renderLegacyTokenBody(imds: unknown): string | undefined {
  if (!isRecord(imds)) return undefined;
  const body: Readonly<Record<string, unknown>> = imds;
  const accessToken = body['access_token'];
  const expiresOn = asString(body['expires_on']);
  if (typeof accessToken !== 'string' || accessToken === '' || expiresOn === undefined) {
    return undefined;
  }
  return JSON.stringify({
    access_token: accessToken,
    refresh_token: '',
    expires_in: asString(body['expires_in']) ?? '',
    expires_on: expiresOn,
    not_before: asString(body['not_before']) ?? '',
    resource: asString(body['resource']) ?? '',
    token_type: asString(body['token_type']) ?? 'Bearer',
  });
}

/** An error in the extension's dialect: `{"error","error_description"}` with an HTTP status. */
export interface LegacyError {
  readonly kind: 'legacy-error';
  readonly status: number;
  readonly error: string;
  readonly description: string;
  /** `Retry-After` passed on from IMDS, in seconds as IMDS sent it. */
  readonly retryAfter?: string | undefined;
}

/** Whether `value` is a {@link LegacyError}. */
export function isLegacyError(value: unknown): value is LegacyError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { readonly kind?: unknown }).kind === 'legacy-error'
  );
}

/** The extension's documented texts, verbatim where the docs give them. */
export const LEGACY_TEXT = {
  metadataHeader: 'Required metadata header not specified',
  unknownSource: 'Unknown Source',
  unauthorizedClient: 'The client is not authorized to request an access token using this method.',
  failedToRetrieve: 'Failed to retrieve token from the Active directory.',
} as const;

const legacyError = (
  status: number,
  error: string,
  description: string,
  retryAfter?: string,
): LegacyError => ({
  kind: 'legacy-error',
  status,
  error,
  description,
  ...(retryAfter === undefined ? {} : { retryAfter }),
});

/** 400 `bad_request_102` "Required metadata header not specified" (the extension's error table). */
export function metadataHeaderError(): LegacyError {
  return legacyError(400, 'bad_request_102', LEGACY_TEXT.metadataHeader);
}

/**
 * 401 `unknown_source` "Unknown Source <URI>" for any path but `/oauth2/token` (the extension's
 * error table: "Verify that your HTTP GET request URI is formatted correctly"). `uri` is the
 * request's path, without its query.
 */
export function unknownSourceError(uri: string): LegacyError {
  return legacyError(401, 'unknown_source', `${LEGACY_TEXT.unknownSource} ${uri}`);
}

/**
 * `unauthorized_client` for a caller that did not come over loopback (the extension's error table:
 * "Caused by a request that didn't use local loopback to call the extension"). The table gives no
 * status for it; 400 is RFC 6749 section 5.2's.
 */
export function notLoopbackError(): LegacyError {
  return legacyError(400, 'unauthorized_client', LEGACY_TEXT.unauthorizedClient);
}

/** 405 `method_not_allowed` for anything but GET and POST (IMDS's swagger word; undocumented). */
export function methodNotAllowedError(method: string): LegacyError {
  const shown = method.length > 16 ? `${method.slice(0, 16)}...` : method;
  return legacyError(
    405,
    'method_not_allowed',
    `The request method '${shown}' is not supported; use GET or POST.`,
  );
}

/** 400 `invalid_request` with `description` (the extension's table lists `invalid_request`). */
export function invalidRequestError(description: string): LegacyError {
  return legacyError(400, 'invalid_request', description);
}

/**
 * 500 `unknown` "Failed to retrieve token from the Active directory. …" (the extension's error
 * table): IMDS could not be reached or sent something that is not IMDS's.
 */
export function failedToRetrieveError(status = 500, retryAfter?: string): LegacyError {
  return legacyError(
    status,
    'unknown',
    `${LEGACY_TEXT.failedToRetrieve} For details see the log of tessera extension.`,
    retryAfter,
  );
}

/**
 * An IMDS error answer in the extension's dialect. Both speak `{"error","error_description"}`
 * (the extension's error table; IMDS PROTOCOL.md 1.5), so IMDS's status, `error`,
 * `error_description` and `Retry-After` pass through unchanged; a body without both strings (not
 * IMDS's identity dialect) becomes `unknown` with IMDS's status.
 */
export function legacyErrorFromImds(
  status: number,
  body: unknown,
  retryAfter: string | undefined,
): LegacyError {
  const safeStatus = status >= 400 && status <= 599 ? status : 500;
  if (isRecord(body)) {
    const { error, error_description: description } = body;
    if (typeof error === 'string' && error !== '' && typeof description === 'string') {
      return legacyError(safeStatus, error, description, retryAfter);
    }
  }
  return failedToRetrieveError(safeStatus, retryAfter);
}

/** The body of `error`: `{"error":"…","error_description":"…"}`. */
export function renderLegacyError(error: LegacyError): string {
  return JSON.stringify({ error: error.error, error_description: error.description });
}
