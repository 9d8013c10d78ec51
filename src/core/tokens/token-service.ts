// The token issuer: authenticates a client (assertion or secret), mints a v1 access token, audits it.
import type { KeyObject } from 'node:crypto';
import { boundAuditEvent } from '../audit/bounds.js';
import { createRefusalCoalescer } from '../audit/refusal-coalescer.js';
import { verifyClientSecret } from '../directory/client-secret.js';
import type { TenantLookup } from '../directory/known-tenants.js';
import { KeyCache } from './key-cache.js';
import { createCertificateAssertionCheck, decodeAssertion } from './certificate-assertion.js';
import {
  Refusal,
  type RefusalReason,
  refuse,
  type TokenRefusal,
  TokenRefusedError,
} from './refusals.js';
import { createSecretGuard, type SecretFailurePolicy } from './secret-throttle.js';
import { newTokenId } from './token-id.js';
import { signRs256 } from './jws.js';
import {
  checkFederatedAssertion,
  type FederatedProof,
  isFederatedAssertion,
} from './federation.js';
import { FederatedKeyError, type FederatedKeySource } from './federation-keys.js';
import { tooManyRequests } from '../errors.js';
import type { AuditEvent, Credential, Principal } from '../model.js';
import type { Clock, ReplayClaim, Store } from '../ports.js';

/** Azure's managed-identity token lifetime (PROTOCOL.md 5.2: `exp - iat = 86700`). */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 86_700;

/** The default of `audit.refusalWindowSeconds`: repeated refusals become one row per minute. */
export const DEFAULT_REFUSAL_WINDOW_SECONDS = 60;

/** How many (tenant, reason, client, source) keys refusals are counted under at most. */
const REFUSAL_KEYS = 1000;

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
  /** When failed secrets are throttled; default `DEFAULT_SECRET_FAILURES` (secret-throttle.ts). */
  readonly secretFailures?: SecretFailurePolicy;
  /** How long repeated refusals are counted before one row reports them; default 60 s. */
  readonly refusalWindowSeconds?: number;
  /**
   * The `reason` a refusal's audit row carries; default the error's own (neutral) message. The
   * server passes the text its callers are sent, so a row reads as what the client was told.
   */
  readonly describeRefusal?: (refusal: TokenRefusal) => string;
  /** Where foreign issuers' keys come from (workload identity federation); default: nowhere. */
  readonly federatedKeys?: FederatedKeySource;
}

/** Without a key source, every issuer's keys are out of reach. */
const NO_FEDERATION: FederatedKeySource = {
  keyFor: (issuer) =>
    Promise.reject(
      new FederatedKeyError('endpoint', `workload identity federation is not set up (${issuer})`),
    ),
};

/**
 * How a client proves who it is: a client assertion (RFC 7523), a client secret, or (agent API
 * only) the session of the host that holds the identity's key: the host must hold a current
 * certificate for the identity, which the host's session stands for instead of a signature.
 */
export type ClientCredential =
  | { readonly kind: 'assertion'; readonly assertion: string }
  | { readonly kind: 'secret'; readonly secret: string }
  | { readonly kind: 'host'; readonly hostId: string };

/** A client-credentials grant as a surface parsed it: who asks, for what, and its proof. */
export interface ClientCredentialsGrant {
  readonly clientId: string;
  /** The token's audience (`aud`). */
  readonly resource: string;
  readonly auth: ClientCredential;
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
   * requested resource. Fails with a {@link TokenRefusedError} (its `refusal` says why, for the
   * surface to render in its dialect: Entra's RFC 6749 section 5.2 errors on the login surface),
   * or a `TooManyRequests` AppError (429, `retryAfterSeconds`) while the client or the source
   * address has too many failed secrets. Every token issued is one audit row, written before it
   * is released; refusals are counted: the first of a (tenant, reason, principal, source) is a
   * row at once, the rest one row per window (see {@link TokenService.flushRefusals}).
   */
  issue(
    tenantId: string,
    request: ClientCredentialsGrant,
    context?: IssueContext,
  ): Promise<IssuedToken>;
  /**
   * Writes the refusal counts whose window has ended (every count, with `all`, at shutdown):
   * the server calls this periodically. Resolves with the number of rows written.
   */
  flushRefusals(all?: boolean): Promise<number>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createTokenService(options: TokenServiceOptions): TokenService {
  const { store, clock } = options;
  const lifetime = options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
  const skew = options.clockSkewSeconds ?? 300;
  const keyCache = new KeyCache();
  const certificates = createCertificateAssertionCheck({
    store,
    clock,
    keyCache,
    skewSeconds: skew,
    audiencesFor: options.assertionAudiencesFor,
  });
  const tenants: TenantLookup = options.tenants ?? ((id) => store.tenants.get(id));
  const secrets = createSecretGuard(options.secretFailures, clock);
  const federation = {
    store,
    clock,
    skewSeconds: skew,
    keys: options.federatedKeys ?? NO_FEDERATION,
  };
  const refusals = createRefusalCoalescer({
    windowMs: (options.refusalWindowSeconds ?? DEFAULT_REFUSAL_WINDOW_SECONDS) * 1000,
    maxKeys: REFUSAL_KEYS,
  });

  async function findClient(tenantId: string, clientId: string): Promise<Principal> {
    const tenant = GUID.test(tenantId) ? await tenants(tenantId.toLowerCase()) : undefined;
    if (tenant === undefined) refuse('tenant_not_found', null, { tenant: tenantId });
    const principal = await store.principals.getByAppId(clientId.toLowerCase());
    if (principal?.tenantId !== tenant.id)
      refuse('principal_not_found', null, { clientId, tenant: tenantId });
    if (!principal.enabled)
      refuse('principal_disabled', principal.objectId, {
        clientId,
        displayName: principal.displayName,
      });
    return principal;
  }

  /** Refuses (429) while the client or the source address has used up its failed secrets. */
  function checkSecretThrottle(principal: Principal, source: string | undefined): void {
    const wait = secrets.retryAfter(principal.objectId, source);
    if (wait > 0) {
      throw new Refusal(
        'secret_failures_throttled',
        tooManyRequests(
          `Too many invalid client secrets for app '${principal.appId}' or from this address. Try again in ${wait} seconds.`,
          wait,
        ),
        principal.objectId,
      );
    }
  }

  async function checkSecret(
    principal: Principal,
    secret: string,
    source: string | undefined,
  ): Promise<Credential> {
    const pid = principal.objectId;
    if (principal.type !== 'Application')
      refuse('secret_not_allowed_for_managed_identity', pid, { clientId: principal.appId });
    checkSecretThrottle(principal, source);
    const candidates = (await store.credentials.listForPrincipal(pid)).filter(
      (c) => c.kind === 'secret' && !c.revoked && c.secretHash !== null,
    );
    const slot = secrets.turn();
    if (slot === undefined) {
      throw new Refusal(
        'secret_checks_busy',
        tooManyRequests('Too many client secrets are being checked. Try again in 1 second.', 1),
        pid,
      );
    }
    const release = await slot;
    let match: Credential | undefined;
    try {
      // Failures may have reached the limit while this check waited for its turn.
      checkSecretThrottle(principal, source);
      for (const credential of candidates) {
        if (await verifyClientSecret(secret, credential.secretHash ?? '')) {
          match = credential;
          break;
        }
      }
    } finally {
      release();
    }
    if (match === undefined) {
      secrets.failed(pid, source);
      refuse('secret_invalid', pid, { clientId: principal.appId });
    }
    if (match.notAfter <= clock.now()) refuse('secret_expired', pid, { clientId: principal.appId });
    return match;
  }

  /**
   * The host's session stands for the identity's key when the host holds a current certificate
   * for the identity: issued to that host, not revoked (revoked at once when the pair is
   * detached), within its validity. Refused as an unknown certificate otherwise, which tells the
   * agent to certify a key again.
   */
  async function checkHostCertificate(principal: Principal, hostId: string): Promise<void> {
    const now = clock.now();
    const current = await store.credentials.currentOnHost(principal.objectId, hostId, now);
    if (current === undefined) {
      refuse('unknown_certificate', principal.objectId, {
        thumbprint: '(none issued to this host)',
        clientId: principal.appId,
      });
    }
    if (current.notBefore > now + skew * 1000) {
      const { thumbprintSha256, notBefore, notAfter } = current;
      const thumbprint = thumbprintSha256 ?? current.id;
      refuse('certificate_expired', principal.objectId, { thumbprint, notBefore, notAfter });
    }
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
    const accessToken = await signRs256(
      { typ: 'JWT', alg: 'RS256', x5t: key.x5t, kid: key.kid },
      claims,
      key.privateKey,
    );
    return { accessToken, resource, issuedAt, notBefore: issuedAt, expiresOn, tokenId, principal };
  }

  /** A refusal's audit `reason`: in the surface's words when it gave `describeRefusal`. */
  function describe(refusal: Refusal): string {
    const { error } = refusal;
    if (error instanceof TokenRefusedError && options.describeRefusal !== undefined) {
      return options.describeRefusal(error.refusal);
    }
    return error.message;
  }

  function auditEvent(
    tenantId: string,
    request: ClientCredentialsGrant,
    context: IssueContext,
    outcome: AuditEvent['outcome'],
    fields: {
      principalId: string | null;
      tokenId?: string;
      reason?: string;
      /** What the row adds (a federated token's issuer and subject). */
      details?: Readonly<Record<string, string>>;
    },
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
        ...fields.details,
        ...(context.peer === undefined ? {} : { peer: context.peer }),
      },
    };
  }

  return {
    async issue(tenantId, request, context = {}) {
      try {
        const principal = await findClient(tenantId, request.clientId);
        let replay: ReplayClaim | undefined;
        let federated: FederatedProof | undefined;
        if (request.auth.kind === 'assertion') {
          const decoded = decodeAssertion(principal, request.auth.assertion);
          if (isFederatedAssertion(decoded.payload)) {
            const { header, payload } = decoded;
            federated = await checkFederatedAssertion(
              federation,
              principal,
              decoded.assertion,
              header,
              payload,
            );
          } else {
            ({ replay } = await certificates(principal, tenantId, decoded));
          }
        } else if (request.auth.kind === 'host') {
          await checkHostCertificate(principal, request.auth.hostId);
        } else {
          await checkSecret(principal, request.auth.secret, context.peer);
        }
        // `appidacr`: 1 for a secret, 2 for a certificate (the host's session stands for one).
        const acr = request.auth.kind === 'secret' ? '1' : '2';
        const issued = await mint(principal, request.resource, acr, context);
        // The assertion id is claimed and the issue audited together before the token is
        // released; a replayed assertion records nothing and its token is never sent.
        const event = auditEvent(tenantId, request, context, 'issued', {
          principalId: principal.objectId,
          tokenId: issued.tokenId,
          details: federated ?? {},
        });
        if (!(await store.issueLedger.recordIssue(event, replay, clock.now()))) {
          refuse('assertion_replayed', principal.objectId, {});
        }
        return issued;
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        const event = boundAuditEvent(
          auditEvent(tenantId, request, context, 'refused', {
            principalId: error.principalId,
            reason: describe(error),
            details: error.auditDetails,
          }),
        );
        const row = refusals.admit(refusalKey(event, error.reason), event);
        if (row !== undefined) await store.audit.append(row);
        throw error.error;
      }
    },

    async flushRefusals(all = false) {
      const rows = refusals.drain(clock.now(), all);
      for (const row of rows) await store.audit.append(row);
      return rows.length;
    },
  };
}

/**
 * What repeated refusals are counted under: tenant, reason (a closed set), principal and source
 * (address, host, VM). The client id a caller sent is left out when it named no principal, so
 * inventing client ids does not make new keys; the row shows the latest one.
 */
function refusalKey(event: AuditEvent, reason: RefusalReason): string {
  const peer = event.details.peer;
  return [
    event.tenantId ?? '',
    reason,
    event.principalId ?? '',
    typeof peer === 'string' ? peer : '',
    event.hostId ?? '',
    event.vmId ?? '',
  ].join('\n');
}
