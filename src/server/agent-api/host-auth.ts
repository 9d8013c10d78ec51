// Authenticates an agent's host: `Authorization: TesseraHost <ES256 JWS>` signed with the key of its host certificate.
import { createHash, webcrypto } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { type AppError, authenticationRequired } from '../../core/errors.js';
import type { Host } from '../../core/model.js';
import type { Clock, Store } from '../../core/ports.js';
import { parseCertificate, thumbprintsOf, verifyIssuedBy } from '../../core/keys/x509.js';
import { HOST_ASSERTION_MAX_LIFETIME_SECONDS, HOST_AUTH_SCHEME } from '../../wire/agent-api.js';

/** Tolerance for clock differences between host and server when checking times, in seconds. */
export const HOST_CLOCK_SKEW_SECONDS = 60;
/** `lastSeenAt` is written at most this often per host. */
export const LAST_SEEN_INTERVAL_MS = 60_000;
/** A header far above any real assertion (one certificate and a few claims), far below a risk. */
const MAX_HEADER_LENGTH = 16 * 1024;
const DEFAULT_CACHE_SIZE = 10_000;
const HEADER_PATTERN = new RegExp(
  `^${HOST_AUTH_SCHEME} +([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+) *$`,
  'i',
);
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Verifies host assertions; see {@link createHostAuthenticator}. */
export interface HostAuthenticator {
  /**
   * The host that signed the assertion in `header` (the request's `Authorization`). Fails with a
   * 401 `AuthenticationFailed` whose message says what was wrong, never quoting the assertion.
   */
  authenticate(header: string | string[] | undefined): Promise<Host>;
}

/** What the authenticator is built from. */
export interface HostAuthOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** The directory CA's certificates (DER) valid now. */
  readonly trustAnchors: () => Promise<readonly Buffer[]>;
  /** Every `aud` accepted: `hostAssertionAudience` of each URL the server answers at. */
  readonly audiences: readonly string[];
  /** Most certificates kept verified in memory; the oldest goes first. */
  readonly cacheSize?: number;
}

/**
 * An assertion whose signature and claims verified: the agent reuses one assertion for up to
 * {@link HOST_ASSERTION_MAX_LIFETIME_SECONDS}, so it is verified once and then recognised by its
 * SHA-256 digest (a map lookup on a digest, not a comparison of the bearer string itself).
 */
interface VerifiedAssertion {
  readonly sub: string;
  readonly thumbprint: string;
  readonly certificate: CheckedCertificate;
  /** `exp` in epoch ms. */
  readonly expiresAt: number;
}

/** A host certificate that was checked once: issued by the CA, an ES256 key, its validity. */
interface CheckedCertificate {
  readonly key: webcrypto.CryptoKey;
  readonly notBefore: number;
  readonly notAfter: number;
}

/**
 * Builds the authenticator. A request is accepted when, in this order: the header is
 * `TesseraHost <compact JWS>`; the JWS header has `alg` ES256 and one `x5c` certificate; that
 * certificate was issued by the directory's CA and is current (its checks and key import are
 * cached by SHA-256 thumbprint, so a known certificate costs one ES256 verification); the
 * signature verifies; `aud` is one of `audiences`; `iat`, `exp` are present, `exp - iat` is at
 * most {@link HOST_ASSERTION_MAX_LIFETIME_SECONDS} and the times hold within
 * {@link HOST_CLOCK_SKEW_SECONDS}; `sub` names a host whose recorded thumbprint is that
 * certificate's (read on every request, so a renewal or re-registration takes effect at once).
 * `lastSeenAt` is then updated, at most once per {@link LAST_SEEN_INTERVAL_MS}.
 *
 * An assertion that verified is remembered (by digest) until its `exp`: the same header again
 * skips the ES256 verification and the claim checks, which cannot change for the same bytes,
 * while the times, the certificate's validity and the host's recorded thumbprint are checked on
 * every request as before. This is the agent's host session: one signature check per assertion
 * lifetime instead of one per token.
 */
export function createHostAuthenticator(options: HostAuthOptions): HostAuthenticator {
  const { store, clock } = options;
  const capacity = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  const checked = new Map<string, Promise<CheckedCertificate>>();
  const verified = new Map<string, VerifiedAssertion>();

  function certificateFor(thumbprint: string, der: Buffer): Promise<CheckedCertificate> {
    const hit = checked.get(thumbprint);
    if (hit !== undefined) return hit;
    const loading = checkCertificate(der, options.trustAnchors);
    // A certificate that failed is not remembered: a bad one costs its own checks every time.
    loading.catch(() => checked.delete(thumbprint));
    if (checked.size >= capacity) {
      const oldest = checked.keys().next().value;
      if (oldest !== undefined) checked.delete(oldest);
    }
    checked.set(thumbprint, loading);
    return loading;
  }

  return {
    async authenticate(header) {
      const jws = readHeader(header);
      const digest = createHash('sha256').update(jws).digest('base64');
      const now = clock.now();
      const known = verified.get(digest);
      const assertion =
        known !== undefined && now < known.expiresAt + HOST_CLOCK_SKEW_SECONDS * 1000
          ? known
          : await verifyAssertion(jws, now);
      if (known === undefined) remember(digest, assertion, now);
      const { certificate, thumbprint } = assertion;
      if (
        now + HOST_CLOCK_SKEW_SECONDS * 1000 < certificate.notBefore ||
        now >= certificate.notAfter
      ) {
        throw refused('The host certificate is not valid now: register the host again.');
      }
      const host = await store.hosts.get(assertion.sub);
      if (host?.certificateThumbprint !== thumbprint) {
        throw refused('The host certificate is not the one registered for this host.');
      }
      if (host.lastSeenAt === null || now - host.lastSeenAt >= LAST_SEEN_INTERVAL_MS) {
        await store.hosts.update(host.id, { lastSeenAt: now });
        return { ...host, lastSeenAt: now };
      }
      return host;
    },
  };

  /** Keeps a verified assertion; when full, drops the expired ones, then the oldest. */
  function remember(digest: string, assertion: VerifiedAssertion, now: number): void {
    if (verified.size >= capacity) {
      for (const [key, entry] of verified) {
        if (now >= entry.expiresAt + HOST_CLOCK_SKEW_SECONDS * 1000) verified.delete(key);
      }
      const oldest = verified.size >= capacity ? verified.keys().next().value : undefined;
      if (oldest !== undefined) verified.delete(oldest);
    }
    verified.set(digest, assertion);
  }

  async function verifyAssertion(jws: string, now: number): Promise<VerifiedAssertion> {
    let protectedHeader: ReturnType<typeof decodeProtectedHeader>;
    try {
      protectedHeader = decodeProtectedHeader(jws);
    } catch {
      throw refused('The host assertion is not a valid JWS.');
    }
    if (protectedHeader.alg !== 'ES256') throw refused("The host assertion's 'alg' must be ES256.");
    const x5c = protectedHeader.x5c;
    if (
      !Array.isArray(x5c) ||
      x5c.length !== 1 ||
      typeof x5c[0] !== 'string' ||
      !BASE64.test(x5c[0])
    ) {
      throw refused(
        "The host assertion's header must carry the host certificate as its one 'x5c' element.",
      );
    }
    const der = Buffer.from(x5c[0], 'base64');
    const thumbprint = thumbprintsOf(der).sha256;
    const certificate = await certificateFor(thumbprint, der);
    if (
      now + HOST_CLOCK_SKEW_SECONDS * 1000 < certificate.notBefore ||
      now >= certificate.notAfter
    ) {
      throw refused('The host certificate is not valid now: register the host again.');
    }
    const claims = await verifyClaims(jws, certificate.key, options.audiences, now);
    return { sub: claims.sub, thumbprint, certificate, expiresAt: claims.exp * 1000 };
  }
}

function readHeader(header: string | string[] | undefined): string {
  if (header === undefined || header === '') {
    throw refused("Authentication failed. The 'Authorization' header is missing.");
  }
  const match =
    Array.isArray(header) || header.length > MAX_HEADER_LENGTH ? null : HEADER_PATTERN.exec(header);
  if (match?.[1] === undefined) {
    throw refused(
      `Authentication failed. The 'Authorization' header must be '${HOST_AUTH_SCHEME} <compact JWS>'.`,
    );
  }
  return match[1];
}

async function checkCertificate(
  der: Buffer,
  trustAnchors: () => Promise<readonly Buffer[]>,
): Promise<CheckedCertificate> {
  let parsed: ReturnType<typeof parseCertificate>;
  try {
    parsed = parseCertificate(der);
  } catch {
    throw refused('The host certificate cannot be read.');
  }
  const details = parsed.publicKey.asymmetricKeyDetails;
  if (parsed.publicKey.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') {
    throw refused('The host certificate must hold an EC P-256 key.');
  }
  const anchors = await trustAnchors();
  const issued = await Promise.all(anchors.map((anchor) => verifyIssuedBy(parsed.der, anchor)));
  if (!issued.includes(true)) {
    throw refused("The host certificate was not issued by the directory's certificate authority.");
  }
  const key = await webcrypto.subtle.importKey(
    'spki',
    parsed.publicKey.export({ type: 'spki', format: 'der' }),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['verify'],
  );
  return { key, notBefore: parsed.notBefore, notAfter: parsed.notAfter };
}

async function verifyClaims(
  jws: string,
  key: webcrypto.CryptoKey,
  audiences: readonly string[],
  now: number,
): Promise<{ sub: string; exp: number }> {
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(jws, key, {
      algorithms: ['ES256'],
      audience: [...audiences],
      currentDate: new Date(now),
      clockTolerance: HOST_CLOCK_SKEW_SECONDS,
      requiredClaims: ['sub', 'aud', 'iat', 'exp'],
    }));
  } catch (error) {
    throw refused(joseFailure(error));
  }
  const { iat, exp, sub } = payload;
  if (typeof iat !== 'number' || typeof exp !== 'number' || typeof sub !== 'string') {
    throw refused("The host assertion's 'sub', 'iat' and 'exp' are required.");
  }
  if (iat * 1000 > now + HOST_CLOCK_SKEW_SECONDS * 1000) {
    throw refused("The host assertion's 'iat' is in the future.");
  }
  if (exp - iat > HOST_ASSERTION_MAX_LIFETIME_SECONDS) {
    throw refused(
      `The host assertion lives longer than ${HOST_ASSERTION_MAX_LIFETIME_SECONDS} seconds ('exp' - 'iat').`,
    );
  }
  return { sub, exp };
}

function joseFailure(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The host assertion has expired.';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return error.claim === 'aud'
      ? "The host assertion's 'aud' is not this server's agent API."
      : `The host assertion's '${error.claim}' claim is not valid.`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return "The host assertion's signature does not verify.";
  }
  return 'The host assertion is not valid.';
}

function refused(message: string): AppError {
  return authenticationRequired(message);
}
