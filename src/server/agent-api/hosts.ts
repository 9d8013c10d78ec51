// Agent host registration and renewal: a join token (core/hosts) exchanged for a host certificate, renewed before it expires.
import { authenticationRequired } from '../../core/errors.js';
import type { CertificateAuthorityService } from '../../core/directory/certificate-authority.js';
import { joinTokenRefused, verifyJoinToken } from '../../core/hosts/join-tokens.js';
import type { Host } from '../../core/model.js';
import type { Clock, Store } from '../../core/ports.js';
import { issueCertificateFromCsr, parseCertificate } from '../../core/keys/x509.js';
import type { RegisterResponse } from '../../wire/agent-api.js';
import { certificatePem, readP256Csr } from './csr.js';
import { bodyObject, stringMember } from './request-body.js';

const DAY_MS = 86_400_000;
/** How long a host certificate lives; the agent renews it before (`POST /renew`). */
export const HOST_CERTIFICATE_LIFETIME_MS = 30 * DAY_MS;
/** Issued certificates start this far back, so replicas whose clocks lag accept them at once. */
const BACKDATE_MS = 5 * 60_000;
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
  const { host, hash } = await verifyJoinToken(store, joinToken);

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
