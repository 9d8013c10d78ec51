// A user-assigned identity's federated identity credential: its body, its name and its errors on ARM (PROTOCOL-TOOLS.md B.1).
import { AppError } from '../../core/errors.js';
import { isRecord } from '../../core/guards.js';
import type { Resource } from '../../core/model.js';
import { RESOURCE_TYPES } from '../../core/resource-types.js';
import {
  type FederatedCredential,
  federatedCredentialOf,
} from '../../core/resources/federated-credentials.js';
import { armError } from './arm-errors.js';

const TYPE = RESOURCE_TYPES.federatedCredentials;

/** The longest issuer, subject and audience Entra stores. */
export const FEDERATED_FIELD_MAX = 600;

export { type FederatedCredential, federatedCredentialOf };

/** The name rule of the MSI spec: 3 to 120 characters, the first alphanumeric. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$/;

/** The name a path gives: `Federated Identity Credential name '…' is invalid.` (400) otherwise. */
export function validateFederatedCredentialName(name: string): void {
  if (!NAME.test(name)) {
    throw armError('BadRequest', `Federated Identity Credential name '${name}' is invalid.`);
  }
}

const incomplete = (): AppError =>
  armError(
    'BadRequest',
    "The request format was unexpected. Federated Identity Credential must specify 'issuer', 'subject' and 'audience'.",
  );

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw incomplete();
  if (value.length > FEDERATED_FIELD_MAX) {
    throw armError(
      'BadRequest',
      `Federated Identity Credential '${field}' is longer than ${FEDERATED_FIELD_MAX} characters.`,
      { target: `properties.${field}` },
    );
  }
  return value;
}

/** Loopback hosts: an `http://` issuer on one is a local try (`tessera up`), fetched only there. */
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * An issuer Entra can fetch discovery from: an absolute `https` URL with no query, fragment or
 * credentials (OIDC Discovery section 2; Tessera's rule, Azure's text for it is not captured).
 * Tessera also takes `http://` on a loopback host, which only a server that allows loopback
 * issuers (`server.federation.allowLoopbackIssuers`) will fetch from.
 */
function checkIssuer(issuer: string): void {
  const url = URL.canParse(issuer) ? new URL(issuer) : undefined;
  const fetchable = (u: URL): boolean =>
    u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK_HOST.test(u.hostname));
  if (
    url === undefined ||
    !fetchable(url) ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== ''
  ) {
    throw armError(
      'BadRequest',
      `Federated Identity Credential issuer '${issuer}' is not a valid https URL.`,
      { target: 'properties.issuer' },
    );
  }
}

/**
 * Reads a PUT body, in the MSI provider's order: no `properties` ("… has empty properties"), a
 * missing or empty issuer, subject or audience, not exactly one audience, a field over 600
 * characters, an issuer that is not an https URL. All 400.
 */
export function parseFederatedCredential(body: Record<string, unknown>): FederatedCredential {
  const properties = body.properties;
  if (!isRecord(properties) || Object.keys(properties).length === 0) {
    throw armError(
      'BadRequest',
      'Federated Identity Credential from HTTP body has empty properties',
    );
  }
  const { audiences } = properties;
  if (!Array.isArray(audiences) || audiences.length === 0) throw incomplete();
  const issuer = text(properties.issuer, 'issuer');
  const subject = text(properties.subject, 'subject');
  if (audiences.length !== 1) {
    throw armError('BadRequest', 'Federated identity credentials must have exactly one audience.');
  }
  const audience = text(audiences[0], 'audiences');
  checkIssuer(issuer);
  return { issuer, subject, audiences: [audience] };
}

/** The body ARM answers: a proxy resource (no location, no tags). */
export function renderFederatedCredential(resource: Resource): unknown {
  const { issuer, subject, audiences } = federatedCredentialOf(resource);
  return {
    id: resource.id,
    name: resource.name,
    type: TYPE,
    properties: { issuer, subject, audiences },
  };
}

/** 404: the identity the path names does not exist. */
export function parentIdentityNotFound(): AppError {
  return armError('ParentResourceNotFound', "The parent user-assigned identity doesn't exist.", {
    status: 404,
  });
}

/** 400: another credential of the identity has this issuer and subject. */
export function issuerSubjectTaken(): AppError {
  return armError(
    'BadRequest',
    'Issuer and subject combination already exists for this Managed Identity.',
  );
}

/** 400: the identity has its limit of credentials (Tessera's text; Azure's is not captured). */
export function tooManyFederatedCredentials(limit: number): AppError {
  return armError(
    'BadRequest',
    `A managed identity can have at most ${limit} federated identity credentials.`,
  );
}

/**
 * 409: another credential of the same identity was written at the same time. Azure names the
 * identity's id in lower case (as captured in Azure/bicep-registry-modules#1447).
 */
export function concurrentFederatedWrites(identityId: string): AppError {
  return new AppError(
    'Conflict',
    `Too many Federated Identity Credentials are written concurrently for the managed identity '${identityId.toLowerCase()}'. Concurrent Federated Identity Credentials writes under the same managed identity are not supported.`,
    {
      status: 409,
      wire: { arm: 'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity' },
    },
  );
}
