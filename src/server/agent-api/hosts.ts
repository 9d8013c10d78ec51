// Agent hosts: names, one-time join tokens (only a slow hash kept), registration and renewal of host certificates.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type AppError,
  authenticationRequired,
  invalidParameter,
  isAppError,
  notFound,
} from '../../core/errors.js';
import type { CertificateAuthorityService } from '../../core/directory/certificate-authority.js';
import { hashClientSecret, verifyClientSecret } from '../../core/directory/client-secret.js';
import type { Host } from '../../core/model.js';
import type { Clock, Store } from '../../core/ports.js';
import { issueCertificateFromCsr, parseCertificate } from '../../core/keys/x509.js';
import type { CreatedHost, HostView, RegisterResponse } from '../../wire/agent-api.js';
import { certificatePem, readP256Csr } from './csr.js';
import { bodyObject, stringMember } from './request-body.js';

const DAY_MS = 86_400_000;
/** How long a host certificate lives; the agent renews it before (`POST /renew`). */
export const HOST_CERTIFICATE_LIFETIME_MS = 30 * DAY_MS;
/** Issued certificates start this far back, so replicas whose clocks lag accept them at once. */
const BACKDATE_MS = 5 * 60_000;
/** Host names: 1-63 letters, digits, `-`, `_`, `.` (a DNS label's length). */
export const HOST_NAME_PATTERN = /^[A-Za-z0-9._-]{1,63}$/;
/** Random bytes in a join token's secret part (base64url: 43 characters). */
const JOIN_SECRET_BYTES = 32;
const JOIN_TOKEN_PATTERN = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43,128})$/;
const MAX_JOIN_TOKEN_CHARS = 512;
/**
 * The `DC` of a host certificate's subject (`CN=tessera-host:{hostId}, DC=tessera`). Identity
 * certificates from the same CA carry a tenant GUID there, so the two never look alike.
 */
export const HOST_CERTIFICATE_DC = 'tessera';

/** What registering and renewing need: the store, the time and the directory's CA. */
export interface HostServices {
  readonly store: Store;
  readonly clock: Clock;
  readonly ca: CertificateAuthorityService;
  readonly newId?: () => string;
}

/** Fails with `InvalidParameter` (400, target `name`) unless `name` is a valid host name. */
export function checkHostName(name: string): void {
  if (!HOST_NAME_PATTERN.test(name)) {
    throw invalidParameter(
      'name',
      `The host name '${name.slice(0, 80)}' is not valid: use 1-63 letters, digits, '-', '_' or '.'.`,
    );
  }
}

/**
 * Gives host `name` a new one-time join token `{hostId}.{secret}` (32 random bytes, base64url),
 * creating the host (random GUID id) when there is none. Only a scrypt hash of the secret is
 * stored; a new token replaces the previous one, which stops working. The host's certificate is
 * untouched: it keeps working until the new token is used to register. `created` tells which.
 */
export async function issueJoinToken(
  services: Pick<HostServices, 'store' | 'clock' | 'newId'>,
  name: string,
): Promise<{ created: boolean; host: CreatedHost }> {
  checkHostName(name);
  const { store, clock } = services;
  const secret = randomBytes(JOIN_SECRET_BYTES).toString('base64url');
  const joinTokenHash = await hashClientSecret(secret);
  const issued = (host: Host, created: boolean) => ({
    created,
    host: { id: host.id, name: host.name, joinToken: `${host.id}.${secret}` },
  });
  const existing = await store.hosts.getByName(name);
  if (existing !== undefined) {
    await store.hosts.update(existing.id, { joinTokenHash });
    return issued(existing, false);
  }
  const host: Host = {
    id: (services.newId ?? randomUUID)(),
    name,
    joinTokenHash,
    certificateThumbprint: null,
    registeredAt: null,
    lastSeenAt: null,
    createdAt: clock.now(),
  };
  try {
    await store.hosts.create(host);
    return issued(host, true);
  } catch (error) {
    // Created concurrently by another request: give that host the token instead.
    const raced = isAppError(error) && error.code === 'Conflict';
    const winner = raced ? await store.hosts.getByName(name) : undefined;
    if (winner === undefined) throw error;
    await store.hosts.update(winner.id, { joinTokenHash });
    return issued(winner, false);
  }
}

/**
 * `POST /register`: checks the CSR (EC P-256, signature), then the join token (constant time),
 * issues the host certificate and, in one transaction, clears the token's hash and records the
 * certificate's SHA-256 thumbprint and the registration time, so a token works once even when
 * two registrations race. Errors: 400 for a bad body or CSR; 401 `AuthenticationFailed` for a
 * join token that is malformed, unknown, wrong or already used (one message for all).
 */
export async function registerHost(
  services: HostServices,
  body: unknown,
): Promise<RegisterResponse> {
  const request = bodyObject(body);
  const joinToken = stringMember(request, 'joinToken', MAX_JOIN_TOKEN_CHARS);
  const csr = await readP256Csr(stringMember(request, 'csr', 16 * 1024));
  const { store, clock } = services;

  const match = JOIN_TOKEN_PATTERN.exec(joinToken);
  const host = match?.[1] === undefined ? undefined : await store.hosts.get(match[1]);
  // The hash is checked even when there is none to check, so timing does not tell them apart.
  const hash = host?.joinTokenHash ?? (await placeholderHash());
  const valid = (await verifyClientSecret(match?.[2] ?? '', hash)) && host?.joinTokenHash === hash;
  if (host === undefined || !valid) throw joinTokenRefused();

  const now = clock.now();
  const issued = await issueHostCertificate(services, host.id, csr);
  await store.transaction(async (tx) => {
    // Writing first takes the row's lock (PostgreSQL); the read after it sees any concurrent
    // registration that committed meanwhile, and this one then fails and rolls back.
    await tx.hosts.update(host.id, { registeredAt: now });
    const current = await tx.hosts.get(host.id);
    if (current?.joinTokenHash !== hash) throw joinTokenRefused();
    await tx.hosts.update(host.id, {
      joinTokenHash: null,
      certificateThumbprint: issued.thumbprint,
      certificateNotAfter: issued.notAfter,
      registeredAt: now,
      lastSeenAt: now,
    });
  });
  return registerResponse(services, host, issued);
}

/**
 * `POST /renew` for an authenticated `host`: a new host certificate for the key in the CSR; the
 * recorded thumbprint is replaced, so the previous certificate stops authenticating at once.
 */
export async function renewHost(
  services: HostServices,
  host: Host,
  body: unknown,
): Promise<RegisterResponse> {
  const csr = await readP256Csr(stringMember(bodyObject(body), 'csr', 16 * 1024));
  const issued = await issueHostCertificate(services, host.id, csr);
  const recorded = await services.store.hosts.update(host.id, {
    certificateThumbprint: issued.thumbprint,
    certificateNotAfter: issued.notAfter,
  });
  if (!recorded) {
    throw authenticationRequired('The host is no longer registered.');
  }
  return registerResponse(services, host, issued);
}

interface IssuedHostCertificate {
  readonly pem: string;
  readonly thumbprint: string;
  readonly notAfter: number;
}

async function issueHostCertificate(
  services: HostServices,
  hostId: string,
  csrPem: string,
): Promise<IssuedHostCertificate> {
  const authority = await services.ca.current();
  const now = services.clock.now();
  const issued = await issueCertificateFromCsr({
    csrPem,
    ca: authority,
    clientId: `tessera-host:${hostId}`,
    tenantId: HOST_CERTIFICATE_DC,
    notBefore: now - BACKDATE_MS,
    notAfter: Math.min(now + HOST_CERTIFICATE_LIFETIME_MS, authority.notAfter),
  });
  const parsed = parseCertificate(issued.der);
  return { pem: issued.pem, thumbprint: parsed.sha256, notAfter: parsed.notAfter };
}

async function registerResponse(
  services: HostServices,
  host: Host,
  issued: IssuedHostCertificate,
): Promise<RegisterResponse> {
  const anchors = await services.ca.trustAnchors();
  return {
    hostId: host.id,
    hostName: host.name,
    certificate: issued.pem,
    certificateNotAfter: issued.notAfter,
    caCertificates: anchors.map(certificatePem),
  };
}

const isoOrNull = (at: number | null | undefined): string | null =>
  at === null || at === undefined ? null : new Date(at).toISOString();

function hostView(host: Host, vmCounts: ReadonlyMap<string, number>): HostView {
  return {
    id: host.id,
    name: host.name,
    createdAt: new Date(host.createdAt).toISOString(),
    registeredAt: isoOrNull(host.registeredAt),
    lastSeenAt: isoOrNull(host.lastSeenAt),
    certificateNotAfter: isoOrNull(host.certificateNotAfter),
    vmCount: vmCounts.get(host.id) ?? 0,
  };
}

/** `GET /hosts`: every host, sorted by name (code-unit order), with one aggregate VM count read. */
export async function listHosts(services: Pick<HostServices, 'store'>): Promise<HostView[]> {
  const [hosts, counts] = await Promise.all([
    services.store.hosts.list(),
    services.store.hosts.countVms(),
  ]);
  return [...hosts]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((host) => hostView(host, counts));
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The host named `nameOrId`, else the host whose id it is (a name wins: a host may be named like
 * a GUID). Fails with `InvalidParameter` (400) for a value that is neither a valid name nor an id
 * and `NotFound` (404) when there is no such host.
 */
async function findHost(store: Store, nameOrId: string): Promise<Host> {
  checkHostName(nameOrId);
  const host =
    (await store.hosts.getByName(nameOrId)) ??
    (GUID.test(nameOrId) ? await store.hosts.get(nameOrId) : undefined);
  if (host === undefined) throw notFound(`The host '${nameOrId}' does not exist.`);
  return host;
}

/** `GET /hosts/{nameOrId}`: one host, by name or id; errors as {@link findHost}. */
export async function getHost(
  services: Pick<HostServices, 'store'>,
  nameOrId: string,
): Promise<HostView> {
  const host = await findHost(services.store, nameOrId);
  return hostView(host, await services.store.hosts.countVms());
}

/**
 * `DELETE /hosts/{nameOrId}`: deletes the host, by name or id, in one transaction with the
 * revocation of the identity certificates issued to it (the store does both). Its certificate
 * stops authenticating at once (host auth reads the host on every request); the VMs and
 * instances that name it in `properties.tessera.hostId` keep that id and are not placed on any
 * host any more. False when another request deleted it first; errors as {@link findHost}.
 */
export async function deleteHost(
  services: Pick<HostServices, 'store'>,
  nameOrId: string,
): Promise<boolean> {
  const host = await findHost(services.store, nameOrId);
  return services.store.transaction((tx) => tx.hosts.delete(host.id));
}

function joinTokenRefused(): AppError {
  return authenticationRequired('The join token is not valid or has already been used.');
}

let placeholder: Promise<string> | undefined;

/** A hash of a secret nobody knows: what an unknown host's token is checked against. */
function placeholderHash(): Promise<string> {
  placeholder ??= hashClientSecret(randomBytes(JOIN_SECRET_BYTES).toString('base64url'));
  return placeholder;
}
