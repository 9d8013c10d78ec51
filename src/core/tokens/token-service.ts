// The token issuer: authenticates a client (assertion or secret), mints a v1 access token, audits it.
import { type KeyObject, randomFillSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import {
  entraError,
  type EntraErrorArgs,
  type EntraReason,
} from '../../wire/oauth/entra-errors.js';
import type { TokenRequest } from '../../wire/oauth/token-request.js';
import { verifyClientSecret } from '../directory/client-secret.js';
import type { TenantLookup } from '../directory/known-tenants.js';
import { type JwsAlgorithm, KeyCache } from './key-cache.js';
import type { AppError } from '../errors.js';
import type { AuditEvent, Credential, Principal } from '../model.js';
import type { Clock, ReplayClaim, Store } from '../ports.js';

/** Azure's managed-identity token lifetime (PROTOCOL.md 5.2: `exp - iat = 86700`). */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 86_700;
/** The longest a client assertion may live (`exp` at most this far ahead). */
export const MAX_ASSERTION_LIFETIME_SECONDS = 600;

/** The signing key the issuer uses now. */
export interface ActiveSigningKey {
  readonly kid: string;
  readonly x5t: string;
  readonly privateKey: KeyObject;
}

export interface TokenServiceOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly signingKey: () => Promise<ActiveSigningKey>;
  /** The `iss` (and `idp`) of tokens for a tenant, e.g. `https://login.example/{tid}/`. */
  readonly issuerFor: (tenantId: string) => string;
  /** Every URL a client assertion's `aud` may name for a tenant (the v1 and v2 token endpoints). */
  readonly assertionAudiencesFor: (tenantId: string) => readonly string[];
  readonly tokenLifetimeSeconds?: number;
  /** How tenants are read (e.g. `knownTenants`); default: the store on every token. */
  readonly tenants?: TenantLookup;
  /** Tolerance for clock differences when checking assertion times. Default 300 s. */
  readonly clockSkewSeconds?: number;
}

/** Who is asking, beyond the request itself: known when the agent asks for a VM. */
export interface IssueContext {
  /** ARM id of the VM the token is for (`xms_az_rid`, audit). */
  readonly vmId?: string | undefined;
  readonly hostId?: string | undefined;
  /** Client address, for the audit trail. */
  readonly peer?: string | undefined;
}

export interface IssuedToken {
  readonly accessToken: string;
  readonly resource: string;
  /** Unix seconds. */
  readonly issuedAt: number;
  readonly notBefore: number;
  readonly expiresOn: number;
  readonly tokenId: string;
  readonly principal: Principal;
}

export interface TokenService {
  /**
   * Authenticates the client of `request` in `tenantId` and mints an access token for the
   * requested resource. Fails with an Entra-dialect AppError (RFC 6749 section 5.2); every
   * outcome, issued or refused, is written to the audit log.
   */
  issue(tenantId: string, request: TokenRequest, context?: IssueContext): Promise<IssuedToken>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALLOWED_ASSERTION_ALGS = new Set(['RS256', 'PS256', 'ES256']);

class Refusal extends Error {
  constructor(
    readonly error: AppError,
    readonly principalId: string | null,
  ) {
    super(error.message);
  }
}

function refuse<R extends EntraReason>(
  reason: R,
  principalId: string | null,
  ...args: EntraErrorArgs<R>
): never {
  throw new Refusal(entraError(reason, ...args), principalId);
}

/**
 * Random bytes for ids, drawn from the CSPRNG 4 KiB at a time (as `crypto.randomUUID` pools its
 * entropy): one fill serves 256 ids, where a fill per id cost more than the id's other work.
 * Every byte is used once.
 */
const entropy = Buffer.alloc(4096);
let entropyUsed = entropy.length;

/** A v1 `uti`: 16 random bytes, base64url (22 characters), as Entra's. */
function newTokenId(): string {
  if (entropyUsed + 16 > entropy.length) {
    randomFillSync(entropy);
    entropyUsed = 0;
  }
  const id = entropy.toString('base64url', entropyUsed, entropyUsed + 16);
  entropyUsed += 16;
  return id;
}

export function createTokenService(options: TokenServiceOptions): TokenService {
  const { store, clock } = options;
  const lifetime = options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
  const skew = options.clockSkewSeconds ?? 300;
  const keyCache = new KeyCache();
  const tenants: TenantLookup = options.tenants ?? ((id) => store.tenants.get(id));

  async function findClient(tenantId: string, clientId: string): Promise<Principal> {
    const tenant = GUID.test(tenantId) ? await tenants(tenantId.toLowerCase()) : undefined;
    if (tenant === undefined) refuse('tenant_not_found', null, tenantId);
    const principal = await store.principals.getByAppId(clientId.toLowerCase());
    if (principal?.tenantId !== tenant.id) refuse('principal_not_found', null, clientId, tenantId);
    if (!principal.enabled)
      refuse('principal_disabled', principal.objectId, clientId, principal.displayName);
    return principal;
  }

  async function checkAssertion(
    principal: Principal,
    tenantId: string,
    assertion: string,
  ): Promise<{ credential: Credential; replay: ReplayClaim }> {
    const pid = principal.objectId;
    let header: ReturnType<typeof decodeProtectedHeader>;
    let payload: ReturnType<typeof decodeJwt>;
    try {
      header = decodeProtectedHeader(assertion);
      payload = decodeJwt(assertion);
    } catch {
      refuse('assertion_malformed', pid);
    }
    const alg = header.alg ?? '';
    if (!ALLOWED_ASSERTION_ALGS.has(alg)) refuse('assertion_alg_not_allowed', pid, alg);
    const sha256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
    const sha1 = typeof header.x5t === 'string' ? header.x5t : undefined;
    // PS256 names its certificate by SHA-256 (x5t#S256); RS256 by SHA-1 (x5t), as Entra documents.
    const byThumbprint =
      sha256 !== undefined
        ? (['sha256', sha256] as const)
        : sha1 !== undefined
          ? (['sha1', sha1] as const)
          : undefined;
    if (byThumbprint === undefined) refuse('unknown_certificate', pid, '(none)', principal.appId);
    const credential = await store.credentials.getByThumbprint(
      byThumbprint[0],
      pid,
      byThumbprint[1],
    );
    if (credential?.kind !== 'certificate' || credential.certificate === null) {
      refuse('unknown_certificate', pid, byThumbprint[1], principal.appId);
    }
    const now = clock.now();
    if (credential.revoked) refuse('certificate_revoked', pid, byThumbprint[1]);
    if (credential.notAfter <= now || credential.notBefore > now + skew * 1000) {
      refuse(
        'certificate_expired',
        pid,
        byThumbprint[1],
        credential.notBefore,
        credential.notAfter,
      );
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
      if (error instanceof joseErrors.JWTExpired) refuse('assertion_expired', pid);
      if (error instanceof joseErrors.JWTClaimValidationFailed) {
        if (error.claim === 'nbf' || error.claim === 'iat') refuse('assertion_not_yet_valid', pid);
        refuse('assertion_malformed', pid);
      }
      refuse('invalid_assertion_signature', pid, byThumbprint[1]);
    }
    const audiences = options.assertionAudiencesFor(tenantId);
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.some((a) => typeof a === 'string' && audiences.includes(a))) {
      refuse('assertion_audience', pid);
    }
    if (payload.iss !== payload.sub) refuse('assertion_subject_not_issuer', pid);
    if (payload.iss !== principal.appId) refuse('assertion_issuer_subject', pid);
    const exp = payload.exp ?? 0;
    if (exp * 1000 - now > (MAX_ASSERTION_LIFETIME_SECONDS + skew) * 1000) {
      refuse('assertion_lifetime_too_long', pid, MAX_ASSERTION_LIFETIME_SECONDS);
    }
    const jti = typeof payload.jti === 'string' ? payload.jti : '';
    if (jti === '' || jti.length > 256) refuse('assertion_malformed', pid);
    return { credential, replay: { clientId: principal.appId, jti, expiresAt: exp * 1000 } };
  }

  async function checkSecret(principal: Principal, secret: string): Promise<Credential> {
    const pid = principal.objectId;
    if (principal.type !== 'Application')
      refuse('secret_not_allowed_for_managed_identity', pid, principal.appId);
    const now = clock.now();
    const secrets = (await store.credentials.listForPrincipal(pid)).filter(
      (c) => c.kind === 'secret' && !c.revoked && c.secretHash !== null,
    );
    for (const credential of secrets) {
      if (await verifyClientSecret(secret, credential.secretHash ?? '')) {
        if (credential.notAfter <= now) refuse('secret_expired', pid, principal.appId);
        return credential;
      }
    }
    refuse('secret_invalid', pid, principal.appId);
  }

  async function mint(
    principal: Principal,
    resource: string,
    acr: '1' | '2',
    context: IssueContext,
  ): Promise<IssuedToken> {
    const key = await options.signingKey();
    const issuedAt = Math.floor(clock.now() / 1000);
    const expiresOn = issuedAt + lifetime;
    const tokenId = newTokenId();
    const issuer = options.issuerFor(principal.tenantId);
    const mirid = principal.type === 'ManagedIdentity' ? principal.alternativeNames[0] : undefined;
    const claims: Record<string, unknown> = {
      aud: resource,
      iss: issuer,
      iat: issuedAt,
      nbf: issuedAt,
      exp: expiresOn,
      appid: principal.appId,
      appidacr: acr,
      idp: issuer,
      idtyp: 'app',
      oid: principal.objectId,
      sub: principal.objectId,
      tid: principal.tenantId,
      uti: tokenId,
      ver: '1.0',
      ...(mirid === undefined ? {} : { xms_mirid: mirid }),
      ...(context.vmId === undefined || context.vmId === mirid ? {} : { xms_az_rid: context.vmId }),
    };
    const accessToken = await new SignJWT(claims)
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', x5t: key.x5t, kid: key.kid })
      .sign(await keyCache.signKey(key.kid, key.privateKey));
    return { accessToken, resource, issuedAt, notBefore: issuedAt, expiresOn, tokenId, principal };
  }

  function auditEvent(
    tenantId: string,
    request: TokenRequest,
    context: IssueContext,
    outcome: AuditEvent['outcome'],
    fields: { principalId: string | null; tokenId?: string; reason?: string },
  ): AuditEvent {
    return {
      id: newTokenId(),
      at: clock.now(),
      kind: 'token',
      outcome,
      tenantId: GUID.test(tenantId) ? tenantId.toLowerCase() : null,
      principalId: fields.principalId,
      resource: request.resource,
      vmId: context.vmId ?? null,
      hostId: context.hostId ?? null,
      tokenId: fields.tokenId ?? null,
      reason: fields.reason ?? null,
      details: {
        clientId: request.clientId,
        auth: request.auth.kind,
        ...(context.peer === undefined ? {} : { peer: context.peer }),
      },
    };
  }

  return {
    async issue(tenantId, request, context = {}) {
      try {
        const principal = await findClient(tenantId, request.clientId);
        let replay: ReplayClaim | undefined;
        if (request.auth.kind === 'assertion') {
          ({ replay } = await checkAssertion(principal, tenantId, request.auth.assertion));
        } else {
          await checkSecret(principal, request.auth.secret);
        }
        const issued = await mint(
          principal,
          request.resource,
          request.auth.kind === 'assertion' ? '2' : '1',
          context,
        );
        // The assertion id is claimed and the issue audited together before the token is
        // released; a replayed assertion records nothing and its token is never sent.
        const event = auditEvent(tenantId, request, context, 'issued', {
          principalId: principal.objectId,
          tokenId: issued.tokenId,
        });
        if (!(await store.issueLedger.recordIssue(event, replay, clock.now()))) {
          refuse('assertion_replayed', principal.objectId);
        }
        return issued;
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        await store.audit.append(
          auditEvent(tenantId, request, context, 'refused', {
            principalId: error.principalId,
            reason: error.error.message,
          }),
        );
        throw error.error;
      }
    },
  };
}
