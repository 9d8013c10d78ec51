// `POST /identities/{principalId}/certificate`: a certificate for an identity's key made on a host that runs a VM with it.
import { forbidden } from '../../core/errors.js';
import type { Directory } from '../../core/directory/directory.js';
import type { Host } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import type { CertificateResponse } from '../../wire/agent-api.js';
import { entraError } from '../../wire/oauth/entra-errors.js';
import { readP256Csr } from './csr.js';
import { bodyObject, stringMember } from './request-body.js';
import { agentError } from './token.js';

/**
 * Issues a certificate for the identity `principalId` to `host`, for the EC P-256 key in the
 * request's CSR, bound to the principal (`CN={appId}, DC={tenantId}`) and to the host, with the
 * directory's certificate lifetime. Errors: 400 for a bad body or CSR; 403 `AuthorizationFailed`
 * unless the identity is attached to a VM (or a scale set with an instance) on the host; for a
 * disabled principal, Entra's 400 `unauthorized_client` (AADSTS7000112) in the shape of the token
 * endpoint's refusals (see `agentError`).
 */
export async function issueIdentityCertificate(
  deps: { readonly store: Store; readonly directory: Directory },
  host: Host,
  principalId: string,
  body: unknown,
): Promise<CertificateResponse> {
  const csr = await readP256Csr(stringMember(bodyObject(body), 'csr', 16 * 1024));
  if (!(await deps.store.attachments.isAttachedOnHost(principalId, host.id))) {
    throw forbidden(
      `The identity '${principalId}' is not attached to any VM on host '${host.name}'.`,
      principalId,
    );
  }
  // A disabled identity gets no certificate: refused as Entra refuses its tokens (AADSTS7000112),
  // so the agent's IMDS answers what Azure's does rather than "Identity not found".
  const principal = await deps.store.principals.get(principalId);
  if (principal?.enabled === false) {
    throw agentError(entraError('principal_disabled', principal.appId, principal.displayName));
  }
  const issued = await deps.directory.issueCertificate(principalId, csr, { hostId: host.id });
  return {
    certificate: issued.certificatePem,
    notBefore: issued.credential.notBefore,
    notAfter: issued.credential.notAfter,
  };
}
