// `POST /identities/{principalId}/certificate` and `POST /identities/certificates`: certificates for identities' keys made on a host that runs a VM with them.
import { randomUUID } from 'node:crypto';
import {
  type AppError,
  forbidden,
  invalidParameter,
  isAppError,
  refusalOr,
} from '../../core/errors.js';
import type { Directory, IssuedCertificate } from '../../core/directory/directory.js';
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
 * Issues certificates for up to {@link MAX_CERTIFICATE_BATCH} identities to `host`, each checked
 * as {@link issueIdentityCertificate} checks it and all recorded in one transaction; the answers
 * are in the request's order.
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
  const accepted: { readonly index: number; readonly objectId: string; readonly csrPem: string }[] =
    [];
  for (const [index, { principalId, csr }] of items.entries()) {
    const checked = await refusalOr(() =>
      checkRequest(deps, host, principalId, stringMember({ csr }, 'csr', MAX_CSR_CHARS)),
    );
    if (isAppError(checked)) results[index] = refusedItem(principalId, checked);
    else accepted.push({ index, objectId: principalId, csrPem: checked });
  }
  // Every accepted certificate is recorded in one transaction (one commit, not one per item).
  const issued = await deps.directory.issueCertificates(accepted, { hostId: host.id });
  for (const [k, { index, objectId }] of accepted.entries()) {
    const outcome = issued[k];
    if (outcome === undefined) throw new Error('the directory answered fewer items');
    results[index] = isAppError(outcome)
      ? refusedItem(objectId, outcome)
      : { principalId: objectId, ...answerOf(outcome) };
  }
  return { results };
}

/** A refused item, rendered as the single route renders that refusal. */
function refusedItem(principalId: string, error: AppError): CertificateBatchResult {
  const context = { correlationId: randomUUID() };
  const { status } = renderArmError(error, context);
  const { code, message, target } = armErrorObject(error, context);
  return {
    principalId,
    status,
    error: { code, message, ...(target === undefined ? {} : { target }) },
  };
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
  const csrPem = await checkRequest(deps, host, principalId, csrText);
  return answerOf(await deps.directory.issueCertificate(principalId, csrPem, { hostId: host.id }));
}

/**
 * The CSR of a request to certify a key for `principalId` on `host`, checked: an EC P-256 key;
 * the identity attached on the host (403 otherwise); the identity enabled (Entra's refusal of a
 * disabled identity's tokens otherwise, AADSTS7000112, so the agent's IMDS answers what Azure's
 * does rather than "Identity not found").
 */
async function checkRequest(
  deps: IssueDeps,
  host: Host,
  principalId: string,
  csrText: string,
): Promise<string> {
  const csr = checkP256Csr(csrText);
  if (!(await deps.store.attachments.isAttachedOnHost(principalId, host.id))) {
    throw forbidden(
      `The identity '${principalId}' is not attached to any VM on host '${host.name}'.`,
      principalId,
    );
  }
  const principal = await deps.store.principals.get(principalId);
  if (principal?.enabled === false) {
    throw agentError(entraError('principal_disabled', principal.appId, principal.displayName));
  }
  return csr;
}

function answerOf(issued: IssuedCertificate): CertificateResponse {
  return {
    certificate: issued.certificatePem,
    notBefore: issued.credential.notBefore,
    notAfter: issued.credential.notAfter,
  };
}
