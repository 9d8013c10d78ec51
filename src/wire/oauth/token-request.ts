// Parses an Entra ID client-credentials token request (v1 `/oauth2/token`, v2 `/oauth2/v2.0/token`).
import { type AppError, invalidParameter } from '../../core/errors.js';
import { hasControlCharacter } from '../control-characters.js';
import { entraError } from './entra-errors.js';

/** RFC 7523 section 2.2: the only `client_assertion_type` Entra (and Tessera) accepts. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The suffix a v2 client-credentials scope must carry (`{resource}/.default`). */
export const DEFAULT_SCOPE_SUFFIX = '/.default';

/**
 * The longest resource a token may name (its `aud`): the same bound as IMDS's `resource` and the
 * agent API's, so a token one surface issues the others would issue too.
 */
export const MAX_RESOURCE_CHARS = 2048;

/** The token endpoint's protocol version: v1 takes `resource`, v2 takes `scope`. */
export type TokenEndpointVersion = 'v1' | 'v2';

/** How the client authenticated (RFC 6749 section 2.3, RFC 7523 section 2.2). */
export type ClientAuthentication =
  | { readonly kind: 'assertion'; readonly assertion: string }
  | { readonly kind: 'secret'; readonly secret: string; readonly method: 'post' | 'basic' };

/** A well-formed client-credentials request; whether its credentials are good is not checked. */
export interface TokenRequest {
  readonly version: TokenEndpointVersion;
  readonly grantType: 'client_credentials';
  readonly clientId: string;
  /** v1: `resource` verbatim; v2: the single scope without its trailing `/.default`. */
  readonly resource: string;
  /** v2 only: the scope as sent (one scope, ending in `/.default`). */
  readonly scope?: string;
  readonly auth: ClientAuthentication;
}

/** What {@link parseTokenRequest} reads: the form body and the `Authorization` header. */
export interface TokenRequestInput {
  readonly version: TokenEndpointVersion;
  /** The parsed `application/x-www-form-urlencoded` body; a repeated name arrives as an array. */
  readonly body: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly authorization?: string | undefined;
}

type Body = TokenRequestInput['body'];

/**
 * Validates a token request the way Entra ID does, in this order: repeated parameters,
 * `grant_type`, client identification and authentication, then `resource` (v1) or `scope` (v2).
 *
 * - Any parameter sent twice fails (AADSTS9000411); an empty value counts as absent.
 * - Only `client_credentials` is supported (AADSTS70003 otherwise, AADSTS900144 when absent).
 * - Exactly one client authentication method (RFC 6749 section 2.3): `client_assertion` with
 *   `client_assertion_type` = {@link JWT_BEARER_ASSERTION_TYPE} (RFC 7523 section 2.2),
 *   `client_secret` in the body, or HTTP Basic (RFC 6749 section 2.3.1: base64 of the
 *   form-urlencoded `client_id:client_secret`). More than one is `invalid_request` and none is
 *   `invalid_client` (RFC 6749 section 5.2).
 * - `client_id` is required unless Basic supplies it; if both are given they must be equal.
 * - v1 requires `resource` (AADSTS500013) and takes it verbatim; v2 requires `scope`, exactly one
 *   scope (AADSTS70011) ending in `/.default` (AADSTS1002012).
 * - Neither may contain a control character (RFC 6749 appendix A allows none in a scope; CR/LF
 *   would reach the token's `aud`), nor name a resource longer than {@link MAX_RESOURCE_CHARS}:
 *   `invalid_request` AADSTS90100 ("the parameter is empty or not valid").
 *
 * Throws the {@link entraError} of the first rule broken; never echoes a secret or an assertion.
 */
export function parseTokenRequest(input: TokenRequestInput): TokenRequest {
  const { body, version } = input;
  rejectDuplicates(body);

  const grantType = required(body, 'grant_type');
  if (grantType !== 'client_credentials') throw entraError('unsupported_grant_type', grantType);

  const { clientId, auth } = authenticate(body, input.authorization);
  if (version === 'v1') {
    const resource = param(body, 'resource');
    if (resource === undefined) throw entraError('resource_missing');
    checkText('resource', resource, resource);
    return { version, grantType, clientId, resource, auth };
  }
  const raw = required(body, 'scope');
  if (hasControlCharacter(raw)) throw invalidValue('scope', CONTROL_RULE);
  const { scope, resource } = parseScope(raw);
  checkText('scope', scope, resource);
  return { version, grantType, clientId, resource, scope, auth };
}

const CONTROL_RULE = 'It must not contain control characters.';

/**
 * Entra's `invalid_request` AADSTS90100 (`InvalidParameter` renders as it) naming `name`, in the
 * words of Entra's AADSTS70011. UNCONFIRMED: no capture of Entra refusing a control character or
 * a long resource was found; AADSTS90100 is the number Entra's reference gives a parameter that
 * "is empty or not valid".
 */
function invalidValue(name: 'resource' | 'scope', rule: string): AppError {
  return invalidParameter(
    name,
    `The provided value for the input parameter '${name}' is not valid. ${rule}`,
  );
}

/** Refuses a parameter `name` with a control character or naming a resource that is too long. */
function checkText(name: 'resource' | 'scope', value: string, resource: string): void {
  if (hasControlCharacter(value)) throw invalidValue(name, CONTROL_RULE);
  if (resource.length > MAX_RESOURCE_CHARS) {
    throw invalidValue(name, `The resource must be at most ${MAX_RESOURCE_CHARS} characters long.`);
  }
}

function rejectDuplicates(body: Body): void {
  for (const [name, value] of Object.entries(body)) {
    if (Array.isArray(value) && value.length > 1) throw entraError('duplicated_parameter', name);
  }
}

/** A parameter's single value; absent, empty and `[]` all read as undefined. */
function param(body: Body, name: string): string | undefined {
  if (!Object.hasOwn(body, name)) return undefined;
  const raw = body[name];
  const value = typeof raw === 'string' ? raw : raw?.[0];
  return value === undefined || value === '' ? undefined : value;
}

function required(body: Body, name: string): string {
  const value = param(body, name);
  if (value === undefined) throw entraError('missing_parameter', name);
  return value;
}

function authenticate(
  body: Body,
  authorization: string | undefined,
): { clientId: string; auth: ClientAuthentication } {
  const basic = parseBasic(authorization);
  const assertion = param(body, 'client_assertion');
  const assertionType = param(body, 'client_assertion_type');
  const secret = param(body, 'client_secret');

  const methods = [assertion, secret, basic].filter((m) => m !== undefined).length;
  if (methods > 1) throw entraError('multiple_client_authentication');

  const bodyClientId = param(body, 'client_id');
  if (basic !== undefined && bodyClientId !== undefined && bodyClientId !== basic.clientId) {
    throw entraError('client_id_mismatch');
  }
  const clientId = bodyClientId ?? basic?.clientId;
  if (clientId === undefined) throw entraError('missing_parameter', 'client_id');

  if (basic !== undefined) {
    return { clientId, auth: { kind: 'secret', secret: basic.secret, method: 'basic' } };
  }
  if (secret !== undefined) {
    return { clientId, auth: { kind: 'secret', secret, method: 'post' } };
  }
  if (assertion !== undefined) {
    if (assertionType === undefined) throw entraError('missing_parameter', 'client_assertion_type');
    if (assertionType !== JWT_BEARER_ASSERTION_TYPE) {
      throw entraError('invalid_client_assertion_type');
    }
    return { clientId, auth: { kind: 'assertion', assertion } };
  }
  // A type without the assertion itself: name what is missing (RFC 7521 section 4.2).
  if (assertionType !== undefined) throw entraError('missing_parameter', 'client_assertion');
  throw entraError('no_client_credentials');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The client id and secret of an `Authorization: Basic` header, or undefined when the header is
 * absent or uses another scheme (the token endpoint takes no other). A malformed Basic header is
 * `invalid_client` (RFC 6749 section 5.2).
 */
function parseBasic(header: string | undefined): { clientId: string; secret: string } | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*basic(?:\s+(\S*))?\s*$/i.exec(header);
  if (match === null) return undefined;
  const encoded = match[1] ?? '';
  if (!BASE64.test(encoded)) throw entraError('basic_auth_malformed');
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(encoded, 'base64'));
  } catch {
    throw entraError('basic_auth_malformed');
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) throw entraError('basic_auth_malformed');
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (clientId === undefined || secret === undefined || clientId === '' || secret === '') {
    throw entraError('basic_auth_malformed');
  }
  return { clientId, secret };
}

/** `application/x-www-form-urlencoded` decoding of one Basic credential (RFC 6749 appendix B). */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/** The one `{resource}/.default` scope of a v2 client-credentials request (RFC 6749 section 3.3). */
function parseScope(value: string): { scope: string; resource: string } {
  const scopes = value.split(/[ \t\r\n]+/).filter((s) => s !== '');
  const scope = scopes[0];
  if (scopes.length !== 1 || scope === undefined)
    throw entraError('invalid_scope', scopes.join(' '));
  if (!scope.endsWith(DEFAULT_SCOPE_SUFFIX)) throw entraError('scope_not_default', scope);
  const resource = scope.slice(0, -DEFAULT_SCOPE_SUFFIX.length);
  if (resource === '') throw entraError('invalid_scope', scope);
  return { scope, resource };
}
