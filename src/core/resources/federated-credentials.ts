// The rules a user-assigned identity's federated identity credentials keep among themselves.

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
