// Managed identities' service principals: one per identity, known by the identity's ARM resource id.
import type { EpochMs, Principal } from '../model.js';
import type { Store } from '../ports.js';
import { deletePrincipalEverywhere } from '../resources/identity-lifecycle.js';

/** What {@link createManagedIdentityPrincipal} needs. */
export interface NewManagedIdentityPrincipal {
  readonly tenantId: string;
  /**
   * The identity's ARM id: a user-assigned identity's own, or the VM's or scale set's for its
   * system-assigned identity. It is the principal's alternative name, how tokens and lookups find it.
   */
  readonly resourceId: string;
  /** The identity's name (a user-assigned identity's, or the VM's). */
  readonly displayName: string;
  /** Makes the new object id, then the new app id. */
  readonly newId: () => string;
  readonly now: EpochMs;
}

/**
 * Creates the enabled `ManagedIdentity` principal of an identity, with new object and app ids,
 * and returns it. A principal left behind under the same alternative name (a half-finished
 * delete) is removed everywhere first ({@link deletePrincipalEverywhere}), so it is never reused.
 * Run it inside `store.transaction` and pass the transaction's store; store failures propagate.
 */
export async function createManagedIdentityPrincipal(
  tx: Store,
  input: NewManagedIdentityPrincipal,
): Promise<Principal> {
  const stale = await tx.principals.getByAlternativeName(input.resourceId);
  if (stale !== undefined) await deletePrincipalEverywhere(tx, stale.objectId, input.now);
  const principal: Principal = {
    objectId: input.newId(),
    appId: input.newId(),
    tenantId: input.tenantId,
    displayName: input.displayName,
    type: 'ManagedIdentity',
    alternativeNames: [input.resourceId],
    enabled: true,
    createdAt: input.now,
    updatedAt: input.now,
  };
  await tx.principals.create(principal);
  return principal;
}
