// A user-assigned identity's federated identity credentials: what each holds, how they are read, and the rules they keep among themselves.
import type { Resource } from '../model.js';
import type { Store } from '../ports.js';
import { RESOURCE_TYPES } from '../resource-types.js';

/** At most this many credentials on one identity (Entra's limit, PROTOCOL-TOOLS.md B.1.4). */
export const MAX_FEDERATED_CREDENTIALS = 20;

/** One credential as the rules see it. */
export interface FederatedCredentialKey {
  readonly name: string;
  readonly issuer: string;
  readonly subject: string;
}

/** Why a credential cannot be written next to the others. */
export type FederatedConflict = 'duplicate' | 'limit';

/**
 * Whether `candidate` may be written among `existing` (all of the identity's credentials):
 * `duplicate` when another credential (by name, compared case-insensitively) has the same issuer
 * and subject (compared exactly, as Entra matches them), `limit` when a new one would exceed
 * {@link MAX_FEDERATED_CREDENTIALS}. A PUT of an existing name replaces it, so it neither counts
 * twice nor collides with itself (PROTOCOL-TOOLS.md B.1.5, the Bicep re-deployment quirk).
 */
export function federatedConflict(
  existing: readonly FederatedCredentialKey[],
  candidate: FederatedCredentialKey,
): FederatedConflict | undefined {
  const name = candidate.name.toLowerCase();
  const others = existing.filter((credential) => credential.name.toLowerCase() !== name);
  const duplicate = others.some(
    (credential) =>
      credential.issuer === candidate.issuer && credential.subject === candidate.subject,
  );
  if (duplicate) return 'duplicate';
  return others.length >= MAX_FEDERATED_CREDENTIALS ? 'limit' : undefined;
}

/** What a federated identity credential holds. */
export interface FederatedCredential {
  readonly issuer: string;
  readonly subject: string;
  readonly audiences: readonly string[];
}

/** The credential a stored resource holds. */
export function federatedCredentialOf(resource: Resource): FederatedCredential {
  const { issuer, subject, audiences } = resource.properties as Partial<FederatedCredential>;
  return { issuer: issuer ?? '', subject: subject ?? '', audiences: audiences ?? [] };
}

/**
 * The federated identity credentials of the identity with ARM id `identityId` (any case), in
 * one read: none for an id that is not a user-assigned identity's.
 */
export async function federatedCredentialsOf(
  store: Store,
  identityId: string,
): Promise<FederatedCredential[]> {
  // One page holds them all: an identity has at most MAX_FEDERATED_CREDENTIALS.
  const page = await store.resources.listUnder(identityId, {
    limit: 4 * MAX_FEDERATED_CREDENTIALS,
  });
  return page.items
    .filter((resource) => resource.type === RESOURCE_TYPES.federatedCredentials)
    .map(federatedCredentialOf);
}
