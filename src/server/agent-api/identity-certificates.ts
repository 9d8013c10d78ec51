// `POST /identities/{principalId}/certificate`: a certificate for an identity's key made on a host that runs a VM with it.
import { forbidden } from '../../core/errors.js';
import type { Directory } from '../../core/directory/directory.js';
import type { Host } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import type { CertificateResponse } from '../../wire/agent-api.js';
import { readP256Csr } from './csr.js';
import { bodyObject, stringMember } from './request-body.js';

/**
 * Issues a certificate for the identity `principalId` to `host`, for the EC P-256 key in the
 * request's CSR, bound to the principal (`CN={appId}, DC={tenantId}`) and to the host, with the
 * directory's certificate lifetime. Errors: 400 for a bad body or CSR; 403 `AuthorizationFailed`
 * unless the identity is attached to a VM (or a scale set with an instance) on the host; the
 * directory's 403 for a disabled principal.
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
  const issued = await deps.directory.issueCertificate(principalId, csr, { hostId: host.id });
  return {
    certificate: issued.certificatePem,
    notBefore: issued.credential.notBefore,
    notAfter: issued.credential.notAfter,
  };
}
