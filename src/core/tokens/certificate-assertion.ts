// The self-signed client assertion (RFC 7523): a certificate credential of the client signs a JWT naming the client as issuer and subject.
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { Credential, Principal } from '../model.js';
import type { Clock, ReplayClaim, Store } from '../ports.js';
import type { JwsAlgorithm, KeyCache } from './key-cache.js';
import { refuse } from './refusals.js';

/** The longest a client assertion may live (`exp` at most this far ahead). */
export const MAX_ASSERTION_LIFETIME_SECONDS = 600;

const ALLOWED_ASSERTION_ALGS = new Set(['RS256', 'PS256', 'ES256']);

/** A client assertion read without trusting it. */
export interface DecodedAssertion {
  readonly assertion: string;
  readonly header: ReturnType<typeof decodeProtectedHeader>;
  readonly payload: ReturnType<typeof decodeJwt>;
}

/** The header and claims of a client assertion, read without trusting them. */
export function decodeAssertion(principal: Principal, assertion: string): DecodedAssertion {
  try {
    return { assertion, header: decodeProtectedHeader(assertion), payload: decodeJwt(assertion) };
  } catch {
    refuse('assertion_malformed', principal.objectId, {});
  }
}

/**
 * A certificate thumbprint from a JOSE header, base64url as RFC 7515 section 4.1.7 writes it.
 * MSAL for Python (az 2.45) pads it with `=`, which Entra accepts; the padding is dropped here.
 */
function thumbprintOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value.replace(/=+$/, '') : undefined;
}

/** What {@link createCertificateAssertionCheck} works with. */
export interface CertificateAssertionDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly keyCache: KeyCache;
  /** Tolerance for clock differences, seconds. */
  readonly skewSeconds: number;
  /** Every URL the assertion's `aud` may name for a tenant (the token endpoints). */
  readonly audiencesFor: (tenantId: string) => readonly string[];
}

/**
 * The check of a self-signed assertion: its certificate (by `x5t` or `x5t#S256`) registered on
 * the client, not revoked, attached and within its validity; the signature; `exp`, `nbf`, `aud`
 * (a token endpoint of the tenant), `iss` = `sub` = the client id; a lifetime of at most
 * {@link MAX_ASSERTION_LIFETIME_SECONDS}; a `jti`, returned as the replay claim to record.
 */
export function createCertificateAssertionCheck(
  deps: CertificateAssertionDeps,
): (
  principal: Principal,
  tenantId: string,
  decoded: DecodedAssertion,
) => Promise<{ credential: Credential; replay: ReplayClaim }> {
  const { store, clock, keyCache, skewSeconds: skew } = deps;
  return async function check(
    principal: Principal,
    tenantId: string,
    { assertion, header, payload }: DecodedAssertion,
  ): Promise<{ credential: Credential; replay: ReplayClaim }> {
    const pid = principal.objectId;
    const alg = header.alg ?? '';
    if (!ALLOWED_ASSERTION_ALGS.has(alg)) refuse('assertion_alg_not_allowed', pid, { alg });
    const sha256 = thumbprintOf(header['x5t#S256']);
    const sha1 = thumbprintOf(header.x5t);
    // PS256 names its certificate by SHA-256 (x5t#S256); RS256 by SHA-1 (x5t), as Entra documents.
    const byThumbprint =
      sha256 !== undefined
        ? (['sha256', sha256] as const)
        : sha1 !== undefined
          ? (['sha1', sha1] as const)
          : undefined;
    if (byThumbprint === undefined)
      refuse('unknown_certificate', pid, { thumbprint: '(none)', clientId: principal.appId });
    const found = await store.credentials.getForAssertion(byThumbprint[0], pid, byThumbprint[1]);
    const credential = found?.credential;
    if (credential?.kind !== 'certificate' || credential.certificate === null) {
      refuse('unknown_certificate', pid, {
        thumbprint: byThumbprint[1],
        clientId: principal.appId,
      });
    }
    const now = clock.now();
    // A certificate issued to a host stands for an (identity, host) attachment and dies with it:
    // revoked when the pair is detached, and checked here too (read with it), so no window opens.
    if (credential.revoked || found?.attached !== true) {
      refuse('certificate_revoked', pid, { thumbprint: byThumbprint[1] });
    }
    if (credential.notAfter <= now || credential.notBefore > now + skew * 1000) {
      refuse('certificate_expired', pid, {
        thumbprint: byThumbprint[1],
        notBefore: credential.notBefore,
        notAfter: credential.notAfter,
      });
    }
    const publicKey = await keyCache.verifyKey(
      credential.id,
      credential.certificate,
      alg as JwsAlgorithm,
    );
    try {
      await jwtVerify(assertion, publicKey, {
        algorithms: [alg],
        currentDate: new Date(now),
        clockTolerance: skew,
        requiredClaims: ['exp', 'jti', 'aud', 'iss', 'sub'],
      });
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) refuse('assertion_expired', pid, {});
      if (error instanceof joseErrors.JWTClaimValidationFailed) {
        if (error.claim === 'nbf' || error.claim === 'iat')
          refuse('assertion_not_yet_valid', pid, {});
        refuse('assertion_malformed', pid, {});
      }
      refuse('invalid_assertion_signature', pid, { thumbprint: byThumbprint[1] });
    }
    const audiences = deps.audiencesFor(tenantId);
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.some((a) => typeof a === 'string' && audiences.includes(a))) {
      refuse('assertion_audience', pid, {});
    }
    if (payload.iss !== payload.sub) refuse('assertion_subject_not_issuer', pid, {});
    if (payload.iss !== principal.appId) refuse('assertion_issuer_subject', pid, {});
    const exp = payload.exp ?? 0;
    if (exp * 1000 - now > (MAX_ASSERTION_LIFETIME_SECONDS + skew) * 1000) {
      refuse('assertion_lifetime_too_long', pid, { maxSeconds: MAX_ASSERTION_LIFETIME_SECONDS });
    }
    const jti = typeof payload.jti === 'string' ? payload.jti : '';
    if (jti === '' || jti.length > 256) refuse('assertion_malformed', pid, {});
    return { credential, replay: { clientId: principal.appId, jti, expiresAt: exp * 1000 } };
  };
}
