// `POST /identities/{principalId}/certificate` and `POST /identities/certificates`: certificates for identities' keys made on a host that runs a VM with them.
import { randomUUID } from 'node:crypto';
import { forbidden, invalidParameter, isAppError } from '../../core/errors.js';
import type { Directory } from '../../core/directory/directory.js';
import { isRecord } from '../../core/guards.js';
import type { Host } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import {
  type CertificateBatchResponse,
  type CertificateBatchResult,
  type CertificateResponse,
  MAX_CERTIFICATE_BATCH,
} from '../../wire/agent-api.js';
import { armErrorObject, renderArmError } from '../../wire/errors/index.js';
import { entraError } from '../../wire/oauth/entra-errors.js';
import { checkP256Csr } from './csr.js';
import { bodyObject, stringMember } from './request-body.js';
import { agentError } from './token.js';

/** What issuing needs. */
interface IssueDeps {
  readonly store: Store;
  readonly directory: Directory;
}

const MAX_CSR_CHARS = 16 * 1024;
/** A principal id is a GUID; anything much longer is refused before a lookup. */
const MAX_PRINCIPAL_ID_CHARS = 128;

/**
 * Issues a certificate for the identity `principalId` to `host`, for the EC P-256 key in the
 * request's CSR, bound to the principal (`CN={appId}, DC={tenantId}`) and to the host, with the
 * directory's certificate lifetime. Errors: 400 for a bad body or CSR; 403 `AuthorizationFailed`
 * unless the identity is attached to a VM (or a scale set with an instance) on the host; for a
 * disabled principal, Entra's 400 `unauthorized_client` (AADSTS7000112) in the shape of the token
 * endpoint's refusals (see `agentError`).
 */
export async function issueIdentityCertificate(
  deps: IssueDeps,
  host: Host,
  principalId: string,
  body: unknown,
): Promise<CertificateResponse> {
  return certify(deps, host, principalId, stringMember(bodyObject(body), 'csr', MAX_CSR_CHARS));
}

/**
 * Issues certificates for up to {@link MAX_CERTIFICATE_BATCH} identities to `host`, one after the
 * other, each as {@link issueIdentityCertificate} does; the answers are in the request's order.
 * A body that is not `{"requests":[{"principalId","csr"}, ...]}` with 1 to the maximum items,
 * each principal once, is refused whole (400). Any refusal of one identity (a bad or missing CSR,
 * an identity not attached on the host, a disabled one) is that item's `status` and `error`, as
 * the single route renders it; the others are still issued.
 */
export async function issueIdentityCertificates(
  deps: IssueDeps,
  host: Host,
  body: unknown,
): Promise<CertificateBatchResponse> {
  const items = batchItems(body);
  const results: CertificateBatchResult[] = [];
  for (const { principalId, csr } of items) {
    try {
      const csrText = stringMember({ csr }, 'csr', MAX_CSR_CHARS);
      results.push({ principalId, ...(await certify(deps, host, principalId, csrText)) });
    } catch (error) {
      // Anything but a refusal (a fault of the store, say) fails the request: logged, a 500.
      if (!isAppError(error)) throw error;
      const context = { correlationId: randomUUID() };
      const { status } = renderArmError(error, context);
      const { code, message, target } = armErrorObject(error, context);
      results.push({
        principalId,
        status,
        error: { code, message, ...(target === undefined ? {} : { target }) },
      });
    }
  }
  return { results };
}

function batchItems(body: unknown): { principalId: string; csr: unknown }[] {
  const requests = bodyObject(body).requests;
  if (
    !Array.isArray(requests) ||
    requests.length === 0 ||
    requests.length > MAX_CERTIFICATE_BATCH
  ) {
    throw invalidParameter(
      'requests',
      `The value of 'requests' must be a list of 1 to ${MAX_CERTIFICATE_BATCH} certificate requests.`,
    );
  }
  const seen = new Set<string>();
  return requests.map((item: unknown) => {
    const principalId = isRecord(item) ? item.principalId : undefined;
    if (
      !isRecord(item) ||
      typeof principalId !== 'string' ||
      principalId === '' ||
      principalId.length > MAX_PRINCIPAL_ID_CHARS ||
      seen.has(principalId)
    ) {
      throw invalidParameter(
        'requests',
        "Each of 'requests' must be an object with a 'principalId' (each principal once) and a 'csr'.",
      );
    }
    seen.add(principalId);
    return { principalId, csr: item.csr };
  });
}

async function certify(
  deps: IssueDeps,
  host: Host,
  principalId: string,
  csrText: string,
): Promise<CertificateResponse> {
  const csr = checkP256Csr(csrText);
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
