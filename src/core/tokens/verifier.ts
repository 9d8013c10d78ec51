// Verifies RS256 access tokens for every resource surface (ARM, Key Vault) and for users' services.
import type { KeyObject } from 'node:crypto';

import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

import type { JwkInput } from '../keys/jwk.js';
import { AppError, isAppError, serviceUnavailable } from '../errors.js';
import type { Clock } from '../ports.js';

/** The only signature algorithm Tessera issues and accepts (PROTOCOL.md section 5.1). */
export const ACCESS_TOKEN_ALGORITHM = 'RS256';

/** Default tolerance for `exp`, `nbf` and `iat`, in seconds (as Microsoft.IdentityModel's). */
export const DEFAULT_CLOCK_SKEW_SECONDS = 300;

/**
 * Finds the public key for a token header, or resolves undefined when there is none. It is only
 * ever called with `alg` = `RS256` and a non-empty `kid`. A rejection means the keys could not be
 * obtained (the verifier answers 503), not that the token is bad.
 */
export type KeyResolver = (header: {
  kid?: string;
  alg: string;
}) => Promise<KeyObject | CryptoKey | undefined>;

/** Options of {@link createAccessTokenVerifier}. */
export interface AccessTokenVerifierOptions {
  /** Accepted `iss` values, compared exactly (e.g. `https://sts.windows.net/{tid}/`). */
  readonly issuers: readonly string[];
  /** Accepted `aud` values, compared exactly: list both forms to accept with and without `/`. */
  readonly audiences: readonly string[];
  readonly clock: Clock;
  /** Tolerance for `exp`, `nbf` and `iat`; default {@link DEFAULT_CLOCK_SKEW_SECONDS}. */
  readonly clockSkewSeconds?: number | undefined;
  readonly keys: KeyResolver;
  /** When set, tokens whose `iat` is older than this are refused (and `iat` is required). */
  readonly maxTokenAgeSeconds?: number | undefined;
}

/** A token that passed every check, with the claims resource providers authorize on. */
export interface VerifiedAccessToken {
  readonly claims: JWTPayload;
  /** `oid`: the calling principal's object id. */
  readonly objectId: string;
  /** `tid`: the tenant the token was issued in. */
  readonly tenantId: string;
  /** `appid` (v1) or `azp` (v2): the client id, when present. */
  readonly appId?: string;
  /** The `aud` value that matched one of the accepted audiences. */
  readonly audience: string;
  readonly issuer: string;
  /** `exp`, in epoch milliseconds. */
  readonly expiresAt: number;
  /** `uti`: Entra's unique token id, when present. */
  readonly tokenId?: string;
}

/** Verifies bearer tokens; see {@link createAccessTokenVerifier}. */
export interface AccessTokenVerifier {
  verify(token: string): Promise<VerifiedAccessToken>;
}

/** Why a token was refused; surfaces with their own texts (Key Vault) map on this. */
export type AccessTokenFailure =
  | 'malformed'
  | 'algorithm_not_allowed'
  | 'missing_kid'
  | 'unknown_key'
  | 'signature_invalid'
  | 'missing_claim'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'too_old'
  | 'wrong_issuer'
  | 'wrong_audience';

/** The ARM error codes for a refused token, as Azure Resource Manager sends them. */
export type ArmTokenErrorCode =
  | 'InvalidAuthenticationToken'
  | 'ExpiredAuthenticationToken'
  | 'InvalidAuthenticationTokenAudience'
  | 'InvalidAuthenticationTokenTenant';

/**
 * A refused access token: an `InvalidToken` {@link AppError} (401) whose `wire.arm` is ARM's code
 * and whose `reason` says which check failed. Details for the log are in `cause`.
 */
export class InvalidAccessTokenError extends AppError {
  readonly reason: AccessTokenFailure;

  constructor(
    reason: AccessTokenFailure,
    message: string,
    arm: ArmTokenErrorCode,
    cause?: unknown,
  ) {
    super('InvalidToken', message, { status: 401, wire: { arm }, cause });
    this.reason = reason;
  }
}

// ARM's generic text (Azure/azure-powershell#27882); Tessera appends the reason where ARM has
// no specific text of its own.
const INVALID = 'The access token is invalid.';

// ARM's text when a token has no object id (Azure/azure-sdk-for-java#1714).
const NO_OBJECT_ID =
  "The received access token is not valid: at least one of the claims 'puid' or 'altsecid' or 'oid' should be present. If you are accessing as application please make sure service principal is properly created in the tenant.";

/** `11/13/2020 7:42:16 AM`: .NET's en-US general date/time, which ARM's messages use. */
export function armUtcTime(epochMs: number): string {
  const d = new Date(epochMs);
  const hours = d.getUTCHours();
  const hour12 = hours % 12 === 0 ? 12 : hours % 12;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ` +
    `${hour12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${hours < 12 ? 'AM' : 'PM'}`
  );
}

function quoted(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(',');
}

function fail(
  reason: AccessTokenFailure,
  message: string,
  cause?: unknown,
  arm: ArmTokenErrorCode = 'InvalidAuthenticationToken',
): InvalidAccessTokenError {
  return new InvalidAccessTokenError(reason, message, arm, cause);
}

function numeric(payload: JWTPayload, claim: 'exp' | 'nbf' | 'iat'): number {
  const value = payload[claim];
  return typeof value === 'number' ? value * 1000 : 0;
}

function stringClaim(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Creates a verifier of Entra-style access tokens (RFC 7519, RFC 9068 section 4), checking, in
 * this order: compact JWS syntax; `alg` is exactly `RS256` (`none`, `HS256` (including an HMAC
 * keyed with the RSA public key) and every other algorithm are refused before any key is looked
 * up); `kid` present and known to `keys`; the signature; `iss` exactly one of `issuers`; `aud`
 * exactly one of `audiences`; `exp` and `nbf` within `clockSkewSeconds`; `iat` not in the future
 * beyond the skew (and not older than `maxTokenAgeSeconds` if set); `oid` and `tid` present.
 *
 * Fails with an {@link InvalidAccessTokenError} (401; ARM's `InvalidAuthenticationToken`,
 * `ExpiredAuthenticationToken`, `InvalidAuthenticationTokenAudience` or
 * `InvalidAuthenticationTokenTenant`, with ARM's message where ARM has one), or with a 503
 * `ServiceUnavailable` when `keys` rejects. Throws a TypeError at creation on bad options.
 */
export function createAccessTokenVerifier(
  options: AccessTokenVerifierOptions,
): AccessTokenVerifier {
  const issuers = [...options.issuers];
  const audiences = [...options.audiences];
  const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const maxAge = options.maxTokenAgeSeconds;
  if (issuers.length === 0) throw new TypeError('issuers must not be empty');
  if (audiences.length === 0) throw new TypeError('audiences must not be empty');
  if (!Number.isFinite(skew) || skew < 0) throw new TypeError('clockSkewSeconds must be >= 0');
  if (maxAge !== undefined && (!Number.isFinite(maxAge) || maxAge < 0)) {
    throw new TypeError('maxTokenAgeSeconds must be >= 0');
  }

  async function resolveKey(token: string): Promise<KeyObject | CryptoKey> {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch (cause) {
      throw fail('malformed', `${INVALID} It is not a signed JWT.`, cause);
    }
    const { alg, kid } = header;
    if (alg !== ACCESS_TOKEN_ALGORITHM) {
      throw fail(
        'algorithm_not_allowed',
        `${INVALID} Its algorithm '${String(alg)}' is not allowed; only '${ACCESS_TOKEN_ALGORITHM}' is.`,
      );
    }
    if (typeof kid !== 'string' || kid === '') {
      throw fail('missing_kid', `${INVALID} Its header has no 'kid'.`);
    }
    let key;
    try {
      key = await options.keys({ kid, alg });
    } catch (cause) {
      if (isAppError(cause)) throw cause;
      throw serviceUnavailable('The token signing keys could not be retrieved.', cause);
    }
    if (key === undefined) {
      throw fail('unknown_key', `${INVALID} Its signing key '${kid}' is not a published key.`);
    }
    return key;
  }

  function refusal(cause: unknown, now: number): InvalidAccessTokenError {
    if (cause instanceof errors.JWTExpired) {
      if (cause.claim === 'iat') {
        const message = `${INVALID} It was issued at UTC time '${armUtcTime(numeric(cause.payload, 'iat'))}', more than ${String(maxAge)} seconds before current UTC time '${armUtcTime(now)}'.`;
        return fail('too_old', message, cause, 'ExpiredAuthenticationToken');
      }
      const message = `The access token expiry UTC time '${armUtcTime(numeric(cause.payload, 'exp'))}' is earlier than current UTC time '${armUtcTime(now)}'.`;
      return fail('expired', message, cause, 'ExpiredAuthenticationToken');
    }
    if (cause instanceof errors.JWTClaimValidationFailed) {
      const { claim, payload } = cause;
      if (cause.reason === 'missing') {
        return fail('missing_claim', `${INVALID} It has no '${claim}' claim.`, cause);
      }
      if (cause.reason !== 'check_failed') {
        return fail('malformed', `${INVALID} Its '${claim}' claim is not valid.`, cause);
      }
      switch (claim) {
        case 'iss':
          return fail(
            'wrong_issuer',
            `The access token is from the wrong issuer '${String(payload.iss)}'. It must match one of the issuers ${quoted(issuers)}.`,
            cause,
            'InvalidAuthenticationTokenTenant',
          );
        case 'aud': {
          const aud = Array.isArray(payload.aud) ? payload.aud.join(',') : String(payload.aud);
          return fail(
            'wrong_audience',
            `The access token has been obtained for wrong audience or resource '${aud}'. It should exactly match with one of the allowed audiences ${quoted(audiences)}.`,
            cause,
            'InvalidAuthenticationTokenAudience',
          );
        }
        case 'nbf':
          return fail(
            'not_yet_valid',
            `${INVALID} Its not-before UTC time '${armUtcTime(numeric(payload, 'nbf'))}' is later than current UTC time '${armUtcTime(now)}'.`,
            cause,
          );
        case 'iat':
          return issuedInFuture(payload, now, cause);
        default:
          return fail('malformed', `${INVALID} Its '${claim}' claim is not valid.`, cause);
      }
    }
    if (cause instanceof errors.JWSSignatureVerificationFailed) {
      return fail('signature_invalid', `${INVALID} Its signature does not verify.`, cause);
    }
    // Anything but a JOSE error (a resolver returning an unusable key) is Tessera's fault: a 500.
    if (!(cause instanceof errors.JOSEError)) throw cause;
    return fail('malformed', `${INVALID} It is not a well-formed signed JWT.`, cause);
  }

  function issuedInFuture(
    payload: JWTPayload,
    now: number,
    cause?: unknown,
  ): InvalidAccessTokenError {
    const message = `${INVALID} Its issued-at UTC time '${armUtcTime(numeric(payload, 'iat'))}' is later than current UTC time '${armUtcTime(now)}'.`;
    return fail('issued_in_future', message, cause);
  }

  return {
    async verify(token: string): Promise<VerifiedAccessToken> {
      if (typeof token !== 'string' || token === '') {
        throw fail('malformed', `${INVALID} It is empty.`);
      }
      const key = await resolveKey(token);
      const now = options.clock.now();
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: [ACCESS_TOKEN_ALGORITHM],
          issuer: issuers,
          audience: audiences,
          clockTolerance: skew,
          currentDate: new Date(now),
          requiredClaims: ['exp'],
          ...(maxAge === undefined ? {} : { maxTokenAge: maxAge }),
        }));
      } catch (cause) {
        throw refusal(cause, now);
      }
      // jose checks `iat` only together with maxTokenAge; a token from the future is refused always.
      if (typeof payload.iat === 'number' && payload.iat * 1000 > now + skew * 1000) {
        throw issuedInFuture(payload, now);
      }
      return accepted(payload, audiences);
    },
  };
}

function accepted(payload: JWTPayload, audiences: readonly string[]): VerifiedAccessToken {
  const objectId = stringClaim(payload, 'oid');
  if (objectId === undefined) throw fail('missing_claim', NO_OBJECT_ID);
  const tenantId = stringClaim(payload, 'tid');
  if (tenantId === undefined) throw fail('missing_claim', `${INVALID} It has no 'tid' claim.`);
  const tokenAud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const audience = tokenAud.find(
    (a): a is string => typeof a === 'string' && audiences.includes(a),
  );
  const issuer = payload.iss;
  // jose has checked both; these guard the types only.
  if (audience === undefined || issuer === undefined) {
    throw fail('malformed', `${INVALID} It has no matching 'aud' or 'iss'.`);
  }
  const appId = stringClaim(payload, 'appid') ?? stringClaim(payload, 'azp');
  const tokenId = stringClaim(payload, 'uti');
  return {
    claims: payload,
    objectId,
    tenantId,
    ...(appId === undefined ? {} : { appId }),
    audience,
    issuer,
    expiresAt: numeric(payload, 'exp'),
    ...(tokenId === undefined ? {} : { tokenId }),
  };
}

/** Options of {@link remoteJwksResolver}. */
export interface RemoteJwksOptions {
  /** Refetch the whole set after this long even when every `kid` is known; default 24 h. */
  readonly cacheMaxAgeMs?: number | undefined;
  /** Refetch on an unknown `kid` at most this often; default 5 min. */
  readonly cooldownMs?: number | undefined;
  /** Give up on a fetch after this long; default 5 s (jose's). */
  readonly timeoutMs?: number | undefined;
}

function noMatchingKey(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys
  );
}

/**
 * A {@link KeyResolver} over a JWKS URL (jose `createRemoteJWKSet`), following Entra's key
 * rollover guidance (entra-docs signing-key-rollover, PROTOCOL.md section 5.4): the set is cached
 * for `cacheMaxAgeMs`, and an unknown `kid` triggers a refetch at most every `cooldownMs`. Resolves
 * undefined for a `kid` the set does not hold; rejects when the set cannot be fetched or parsed.
 */
export function remoteJwksResolver(url: URL, opts: RemoteJwksOptions = {}): KeyResolver {
  const jwks = createRemoteJWKSet(url, {
    cacheMaxAge: opts.cacheMaxAgeMs ?? 24 * 60 * 60 * 1000,
    cooldownDuration: opts.cooldownMs ?? 5 * 60 * 1000,
    ...(opts.timeoutMs === undefined ? {} : { timeoutDuration: opts.timeoutMs }),
  });
  return async ({ kid, alg }) => {
    try {
      return await jwks({ alg, ...(kid === undefined ? {} : { kid }) });
    } catch (error) {
      if (noMatchingKey(error)) return undefined;
      throw error;
    }
  };
}

/**
 * A {@link KeyResolver} over a JWKS the caller already holds (the server's own signing keys). It
 * calls `getJwks` on every lookup, so the caller decides caching; keys are imported once per JWKS
 * object. Resolves undefined for a `kid` the set does not hold.
 */
export function localJwksResolver(
  getJwks: () => Promise<{ readonly keys: readonly JwkInput[] }>,
): KeyResolver {
  let last: { jwks: object; lookup: ReturnType<typeof createLocalJWKSet> } | undefined;
  return async ({ kid, alg }) => {
    const jwks = await getJwks();
    if (last?.jwks !== jwks) {
      // jose never mutates the set; its types only lack `readonly`.
      last = { jwks, lookup: createLocalJWKSet({ keys: [...jwks.keys] as JWK[] }) };
    }
    try {
      return await last.lookup({ alg, ...(kid === undefined ? {} : { kid }) });
    } catch (error) {
      if (noMatchingKey(error)) return undefined;
      throw error;
    }
  };
}
