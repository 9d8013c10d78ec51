// Workload identity federation: a foreign OIDC token as a client assertion, matched to a federated identity credential and verified with its issuer's keys.
import type { decodeJwt } from 'jose';
import { jwtVerify } from 'jose';
import type { Principal } from '../model.js';
import type { Clock, Store } from '../ports.js';
import {
  type FederatedCredential,
  federatedCredentialsOf,
} from '../resources/federated-credentials.js';
import { FederatedKeyError, type FederatedKeySource } from './federation-keys.js';
import { type FederatedFacts, refuse } from './refusals.js';

/** The longest a federated token may live, `exp - iat` (Entra's `1.01:00:00`, AADSTS70023). */
export const MAX_FEDERATED_TOKEN_LIFETIME_SECONDS = 25 * 3600;

/** The signature algorithms a federated token may use: Entra documents RS256; ES256 is kept too. */
export const FEDERATED_ALGORITHMS: readonly string[] = ['RS256', 'ES256'];

/**
 * Hosts of Entra's own issuers: their tokens cannot be federated (AADSTS700222), and neither can
 * a token that only claims to come from one.
 */
const ENTRA_ISSUER_HOSTS = [
  'login.microsoftonline.com',
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
];

/**
 * Whether a client assertion is a foreign (federated) token rather than one the client signed
 * itself: its `iss` is an https or http URL. A self-signed assertion names the client id there
 * (RFC 7523 section 3), a GUID; every issuer a federated credential trusts is a URL.
 */
export function isFederatedAssertion(payload: ReturnType<typeof decodeJwt>): boolean {
  const iss = payload.iss;
  return typeof iss === 'string' && /^https?:\/\//i.test(iss) && URL.canParse(iss);
}

/** Why no credential matched, in Entra's order: issuer, then audience, then subject. */
export type FederatedMismatch =
  | 'federated_no_credential'
  | 'federated_issuer'
  | 'federated_audience'
  | 'federated_subject'
  | 'federated_subject_case';

/**
 * The credential that trusts what a token presents, compared as Entra does since August 2024:
 * issuer and subject exactly (case and trailing slash included), the credential's one audience
 * among the token's `aud` values. Without a match, the first field that matched no credential
 * (`federated_no_credential` when the identity has none at all; `federated_subject_case` when
 * a subject matches only ignoring case).
 */
export function matchFederatedCredential(
  credentials: readonly FederatedCredential[],
  presented: { readonly issuer: string; readonly subject: string; readonly audiences: string[] },
): FederatedCredential | FederatedMismatch {
  if (credentials.length === 0) return 'federated_no_credential';
  const byIssuer = credentials.filter((c) => c.issuer === presented.issuer);
  if (byIssuer.length === 0) return 'federated_issuer';
  const byAudience = byIssuer.filter((c) =>
    c.audiences.some((a) => presented.audiences.includes(a)),
  );
  if (byAudience.length === 0) return 'federated_audience';
  const match = byAudience.find((c) => c.subject === presented.subject);
  if (match !== undefined) return match;
  const folded = presented.subject.toLowerCase();
  return byAudience.some((c) => c.subject.toLowerCase() === folded)
    ? 'federated_subject_case'
    : 'federated_subject';
}

/** What {@link checkFederatedAssertion} works with. */
export interface FederationDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly keys: FederatedKeySource;
  /** Tolerance for clock differences, seconds. */
  readonly skewSeconds: number;
}

/** A federated token that passed: who vouched for the client, for the audit trail. */
export type FederatedProof = Readonly<Record<'issuer' | 'subject', string>>;

/** The token's claims that matching reads, or a malformed-assertion refusal. */
function presentedOf(
  pid: string,
  payload: ReturnType<typeof decodeJwt>,
): FederatedFacts & {
  audiences: string[];
} {
  const { iss, sub, aud } = payload;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (typeof iss !== 'string' || typeof sub !== 'string' || audiences.length === 0) {
    refuse('assertion_malformed', pid, {});
  }
  return { issuer: iss, subject: sub, audience: audiences.join(','), audiences };
}

/**
 * Checks a foreign token presented as `principal`'s client assertion (PROTOCOL-TOOLS.md B.2), in
 * this order, refusing with Entra's reason at the first failure:
 * 1. an Entra issuer (`federated_entra_issuer`);
 * 2. a credential of the identity that trusts the token's issuer, audience and subject
 *    ({@link matchFederatedCredential});
 * 3. its algorithm (RS256 or ES256), its time range (`nbf`, `exp`, with `skewSeconds`) and its
 *    lifetime, `exp - iat` at most 25 hours;
 * 4. its signature, with the issuer's key for its `kid` ({@link FederatedKeySource}): keys that
 *    cannot be fetched refuse as `federated_issuer_unreachable`, with why in the audit row only.
 *
 * Claims are compared before any key is fetched, so an unsigned token never makes Tessera call
 * out: only an issuer an operator trusted in a credential is ever fetched from. The token's
 * `jti` is not claimed: Entra allows a federated token to be presented again while it lives.
 */
export async function checkFederatedAssertion(
  deps: FederationDeps,
  principal: Principal,
  assertion: string,
  header: { readonly alg?: string | undefined; readonly kid?: string | undefined },
  payload: ReturnType<typeof decodeJwt>,
): Promise<FederatedProof> {
  const pid = principal.objectId;
  const presented = presentedOf(pid, payload);
  const { issuer, subject } = presented;
  const host = new URL(issuer).hostname.toLowerCase();
  if (ENTRA_ISSUER_HOSTS.some((h) => host === h || host.endsWith(`.${h}`))) {
    refuse('federated_entra_issuer', pid, { issuer });
  }
  // Only a user-assigned identity holds credentials: its principal's alternative name is its id.
  const identityId =
    principal.type === 'ManagedIdentity' ? principal.alternativeNames[0] : undefined;
  const credentials =
    identityId === undefined ? [] : await federatedCredentialsOf(deps.store, identityId);
  const match = matchFederatedCredential(credentials, presented);
  if (typeof match === 'string') refuse(match, pid, presented, { issuer, subject });

  const audit = { issuer, subject };
  const alg = header.alg ?? '';
  if (!FEDERATED_ALGORITHMS.includes(alg)) refuse('assertion_alg_not_allowed', pid, { alg }, audit);
  const now = deps.clock.now();
  const skew = deps.skewSeconds;
  const { exp, nbf, iat } = payload;
  const nowS = now / 1000;
  if (exp === undefined || exp + skew < nowS || (nbf !== undefined && nbf - skew > nowS)) {
    const ms = (s: number | undefined): number | undefined =>
      s === undefined ? undefined : s * 1000;
    refuse('federated_time_range', pid, { now, notBefore: ms(nbf), expiresAt: ms(exp) }, audit);
  }
  const issuedAt = iat ?? nbf ?? Math.floor(nowS);
  if (exp - issuedAt > MAX_FEDERATED_TOKEN_LIFETIME_SECONDS) {
    refuse('federated_lifetime', pid, { issuedAt, expiresAt: exp }, audit);
  }

  let key;
  try {
    key = await deps.keys.keyFor(issuer, { alg, kid: header.kid });
  } catch (error) {
    if (!(error instanceof FederatedKeyError)) throw error;
    const reason =
      error.failure === 'endpoint' ? 'federated_issuer_unreachable' : 'federated_signature';
    refuse(reason, pid, { issuer }, { ...audit, keys: error.detail });
  }
  try {
    await jwtVerify(assertion, key, {
      algorithms: [alg],
      currentDate: new Date(now),
      clockTolerance: skew,
    });
  } catch {
    refuse('federated_signature', pid, { issuer }, audit);
  }
  return audit;
}
