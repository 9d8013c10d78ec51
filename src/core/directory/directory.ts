// The directory: tenants, service principals and their credentials (secrets and certificates).
import { randomUUID } from 'node:crypto';
import {
  type AppError,
  conflict,
  forbidden,
  invalidParameter,
  invalidRequest,
  isAppError,
  notFound,
  refusalOr,
} from '../errors.js';
import type { Credential, Principal, PrincipalType, Tenant } from '../model.js';
import type { Clock, Store } from '../ports.js';
import {
  issueCertificateFromCsr,
  parseCertificate,
  type ParsedCertificate,
  unacceptableKey,
  verifyIssuedBy,
} from '../keys/x509.js';
import type { CertificateAuthorityService } from './certificate-authority.js';
import { generateClientSecret, hashClientSecret, secretHint } from './client-secret.js';

const DAY_MS = 86_400_000;
/** Default lifetime of a certificate the CA issues to an agent: 7 days. */
export const DEFAULT_CERTIFICATE_LIFETIME_MS = 7 * DAY_MS;
/** Default lifetime of a client secret: 180 days, the Entra portal's recommended choice. */
export const DEFAULT_CLIENT_SECRET_LIFETIME_MS = 180 * DAY_MS;
/** Issued certificates start this far in the past, so replicas whose clocks lag accept them. */
const BACKDATE_MS = 5 * 60_000;
const MAX_DISPLAY_NAME = 256;

/** What {@link Directory.createPrincipal} needs. */
export interface NewPrincipal {
  readonly tenantId: string;
  readonly displayName: string;
  readonly type: PrincipalType;
  /** For a managed identity: its ARM resource id. */
  readonly alternativeNames?: readonly string[];
}

/** A certificate issued by the directory's CA, and the credential that records it. */
export interface IssuedCertificate {
  readonly credential: Credential;
  readonly certificatePem: string;
  readonly certificateDer: Buffer;
}

/** The directory, as {@link createDirectory} builds it. Every failure is an AppError. */
export interface Directory {
  /** The default tenant, created ('Default Directory', random GUID) on first use. */
  ensureDefaultTenant(): Promise<Tenant>;
  /** Creates an enabled principal with new object and app ids. NotFound if the tenant is unknown. */
  createPrincipal(input: NewPrincipal): Promise<Principal>;
  /** NotFound if there is no such principal. */
  getPrincipal(objectId: string): Promise<Principal>;
  /** Enables or disables a principal; returns it updated. NotFound if there is none. */
  setEnabled(objectId: string, enabled: boolean): Promise<Principal>;
  /**
   * Adds a client secret to an application; the secret is returned this once and only its hash
   * and hint are stored. InvalidRequest for a managed identity, NotFound for an unknown principal.
   */
  addClientSecret(
    objectId: string,
    opts?: { lifetimeMs?: number },
  ): Promise<{ credential: Credential; secret: string }>;
  /**
   * Has the CA issue a certificate for the key in `csrPem` (see `issueCertificateFromCsr`), bound to
   * the principal (`CN={appId}, DC={tenantId}`) and, when given, a host. InvalidParameter for a bad
   * CSR, NotFound for an unknown principal or host, Forbidden for a disabled principal.
   */
  issueCertificate(
    objectId: string,
    csrPem: string,
    opts: { hostId?: string | null; lifetimeMs?: number },
  ): Promise<IssuedCertificate>;
  /**
   * {@link Directory.issueCertificate} for several principals, their credentials recorded in one
   * transaction: each item's certificate, or the AppError it alone was refused with (the others
   * are still issued). Any other failure (the store's, an unknown host) fails them all.
   */
  issueCertificates(
    requests: readonly { readonly objectId: string; readonly csrPem: string }[],
    opts: { hostId?: string | null; lifetimeMs?: number },
  ): Promise<(IssuedCertificate | AppError)[]>;
  /**
   * Registers a public certificate made elsewhere (Entra `keyCredentials`). Applications take any
   * unexpired RSA (2048+) or EC P-256 certificate; a managed identity only one issued by the
   * directory's CA for that identity. Conflict if it is already registered on the principal.
   */
  addCertificate(objectId: string, certificatePemOrDer: Buffer | string): Promise<Credential>;
  /** Marks a credential revoked: it no longer authenticates. NotFound if there is none. */
  revokeCredential(id: string): Promise<void>;
}

/**
 * Builds the directory over `store`. Writes that read and then write (check the principal, add a
 * credential) run in one `store.transaction`; slow work (hashing, signing) happens before it.
 */
export function createDirectory(options: {
  store: Store;
  clock: Clock;
  ca: CertificateAuthorityService;
  certificateLifetimeMs?: number;
  clientSecretLifetimeMs?: number;
  newId?: () => string;
}): Directory {
  const { store, clock, ca } = options;
  const newId = options.newId ?? randomUUID;
  const certificateLifetimeMs = lifetime(
    options.certificateLifetimeMs ?? DEFAULT_CERTIFICATE_LIFETIME_MS,
    'certificateLifetimeMs',
  );
  const clientSecretLifetimeMs = lifetime(
    options.clientSecretLifetimeMs ?? DEFAULT_CLIENT_SECRET_LIFETIME_MS,
    'clientSecretLifetimeMs',
  );

  async function principalOrFail(tx: Store, objectId: string): Promise<Principal> {
    const principal = await tx.principals.get(objectId);
    if (principal === undefined) throw principalNotFound(objectId);
    return principal;
  }

  async function enabledPrincipal(tx: Store, objectId: string): Promise<Principal> {
    const principal = await principalOrFail(tx, objectId);
    if (!principal.enabled) {
      throw forbidden(`The service principal '${objectId}' is disabled.`, objectId);
    }
    return principal;
  }

  const issueCertificates: Directory['issueCertificates'] = async (requests, opts) => {
    const lifetimeMs = lifetime(opts.lifetimeMs ?? certificateLifetimeMs, 'lifetimeMs');
    const hostId = opts.hostId ?? null;
    const authority = await ca.current();
    const now = clock.now();
    const sign = async ({ objectId, csrPem }: (typeof requests)[number]) => {
      const principal = await enabledPrincipal(store, objectId);
      const issued = await issueCertificateFromCsr({
        csrPem,
        ca: authority,
        clientId: principal.appId,
        tenantId: principal.tenantId,
        notBefore: now - BACKDATE_MS,
        notAfter: Math.min(now + lifetimeMs, authority.notAfter),
      });
      const parsed = parseCertificate(issued.der);
      const credential = certificateCredential(newId(), objectId, parsed, hostId, now);
      return { credential, certificatePem: issued.pem, certificateDer: issued.der };
    };
    const results: (IssuedCertificate | AppError)[] = [];
    for (const request of requests) results.push(await refusalOr(() => sign(request)));
    await store.transaction(async (tx) => {
      if (hostId !== null && (await tx.hosts.get(hostId)) === undefined) {
        throw notFound(`The host '${hostId}' was not found.`, { target: hostId });
      }
      for (const [i, result] of results.entries()) {
        if (isAppError(result)) continue;
        // Disabled or deleted while its certificate was made: refused, and nothing recorded.
        const refused = await refusalOr(() => enabledPrincipal(tx, result.credential.principalId));
        if (isAppError(refused)) results[i] = refused;
        else await tx.credentials.add(result.credential);
      }
    });
    return results;
  };

  async function defaultTenant(): Promise<Tenant | undefined> {
    // Deterministic even if racing replicas each created one: oldest first, then smallest id.
    return (await store.tenants.list()).find((tenant) => tenant.isDefault);
  }

  return {
    async ensureDefaultTenant() {
      const existing = await defaultTenant();
      if (existing !== undefined) return existing;
      const tenant: Tenant = {
        id: newId(),
        displayName: 'Default Directory',
        isDefault: true,
        createdAt: clock.now(),
      };
      try {
        await store.tenants.create(tenant);
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
      return (await defaultTenant()) ?? tenant;
    },

    async createPrincipal(input) {
      const displayName = input.displayName.trim();
      if (displayName.length === 0 || displayName.length > MAX_DISPLAY_NAME) {
        throw invalidParameter(
          'displayName',
          `The display name must have between 1 and ${MAX_DISPLAY_NAME} characters.`,
        );
      }
      const now = clock.now();
      const principal: Principal = {
        objectId: newId(),
        appId: newId(),
        tenantId: input.tenantId,
        displayName,
        type: input.type,
        alternativeNames: [...(input.alternativeNames ?? [])],
        enabled: true,
        createdAt: now,
        updatedAt: now,
      };
      await store.transaction(async (tx) => {
        if ((await tx.tenants.get(input.tenantId)) === undefined) {
          throw notFound(`The tenant '${input.tenantId}' was not found.`, {
            target: input.tenantId,
          });
        }
        await tx.principals.create(principal);
      });
      return principal;
    },

    async getPrincipal(objectId) {
      return principalOrFail(store, objectId);
    },

    async setEnabled(objectId, enabled) {
      const updated = await store.principals.update(objectId, { enabled }, clock.now());
      if (updated === undefined) throw principalNotFound(objectId);
      return updated;
    },

    async addClientSecret(objectId, opts = {}) {
      const lifetimeMs = lifetime(opts.lifetimeMs ?? clientSecretLifetimeMs, 'lifetimeMs');
      const found = await principalOrFail(store, objectId);
      assertApplication(found);
      const secret = generateClientSecret();
      const secretHash = await hashClientSecret(secret);
      const now = clock.now();
      const credential: Credential = {
        id: newId(),
        principalId: objectId,
        kind: 'secret',
        thumbprintSha1: null,
        thumbprintSha256: null,
        certificate: null,
        secretHash,
        hint: secretHint(secret),
        hostId: null,
        notBefore: now,
        notAfter: now + lifetimeMs,
        revoked: false,
        createdAt: now,
      };
      await store.transaction(async (tx) => {
        assertApplication(await principalOrFail(tx, objectId));
        await tx.credentials.add(credential);
      });
      return { credential, secret };
    },

    async issueCertificate(objectId, csrPem, opts) {
      const [issued] = await issueCertificates([{ objectId, csrPem }], opts);
      if (issued === undefined || isAppError(issued)) throw issued ?? new Error('not issued');
      return issued;
    },

    issueCertificates,

    async addCertificate(objectId, certificatePemOrDer) {
      const parsed = parseCertificate(certificatePemOrDer);
      const principal = await principalOrFail(store, objectId);
      const keyProblem = unacceptableKey(parsed.publicKey);
      if (keyProblem !== undefined) {
        throw invalidParameter('certificate', `The certificate is not valid: ${keyProblem}.`);
      }
      const now = clock.now();
      if (parsed.notAfter <= now) {
        throw invalidParameter('certificate', 'The certificate is not valid: it has expired.');
      }
      if (principal.type === 'ManagedIdentity') {
        await assertIssuedForIdentity(principal, parsed.der, parsed.subject);
      }
      const credential = certificateCredential(newId(), objectId, parsed, null, now);
      await store.transaction(async (tx) => {
        await principalOrFail(tx, objectId);
        if (
          (await tx.credentials.getByThumbprint('sha256', objectId, parsed.sha256)) !== undefined
        ) {
          throw conflict(`The certificate is already registered on '${objectId}'.`, {
            target: 'certificate',
          });
        }
        await tx.credentials.add(credential);
      });
      return credential;
    },

    async revokeCredential(id) {
      if (!(await store.credentials.revoke(id))) {
        throw notFound(`The credential '${id}' was not found.`, { target: id });
      }
    },
  };

  async function assertIssuedForIdentity(
    principal: Principal,
    der: Buffer,
    subject: string,
  ): Promise<void> {
    const anchors = await ca.trustAnchors();
    const results = await Promise.all(anchors.map((anchor) => verifyIssuedBy(der, anchor)));
    if (!results.includes(true)) {
      throw invalidRequest(
        "Certificates for a managed identity must be issued by the directory's certificate authority.",
        'certificate',
      );
    }
    // A certificate our CA issued to another identity must not become a key to this one.
    if (subject !== `CN=${principal.appId}, DC=${principal.tenantId}`) {
      throw invalidRequest(
        `The certificate was issued to another identity than '${principal.objectId}'.`,
        'certificate',
      );
    }
  }
}

function assertApplication(principal: Principal): void {
  if (principal.type === 'ManagedIdentity') {
    throw invalidRequest('Client secrets cannot be added to a managed identity.');
  }
}

function principalNotFound(objectId: string): AppError {
  return notFound(`The service principal '${objectId}' was not found.`, { target: objectId });
}

function isConflict(error: unknown): boolean {
  return isAppError(error) && error.code === 'Conflict';
}

function lifetime(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw invalidParameter(name, `'${name}' must be a positive whole number of milliseconds.`);
  }
  return value;
}

/** The credential that records a certificate of `principalId` (issued to `hostId`, if any). */
function certificateCredential(
  id: string,
  principalId: string,
  parsed: ParsedCertificate,
  hostId: string | null,
  now: number,
): Credential {
  return {
    id,
    principalId,
    kind: 'certificate',
    thumbprintSha1: parsed.sha1,
    thumbprintSha256: parsed.sha256,
    certificate: parsed.der.toString('base64'),
    secretHash: null,
    hint: null,
    hostId,
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    revoked: false,
    createdAt: now,
  };
}
