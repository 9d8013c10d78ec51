// A user-assigned identity's service principal: made with the identity, in its subscription's tenant.
import { createManagedIdentityPrincipal } from '../directory/managed-identity.js';
import type { EpochMs, Principal } from '../model.js';
import type { Store } from '../ports.js';

/** What a new user-assigned identity's principal is made from. */
export interface NewIdentityPrincipal {
  /** The tenant of the identity's subscription; `''` when it has none recorded. */
  readonly tenantId: string;
  /** The identity's ARM id, the principal's alternative name. */
  readonly resourceId: string;
  readonly name: string;
  readonly newId: () => string;
  readonly now: EpochMs;
}

/**
 * Creates the principal of a new user-assigned identity (`createManagedIdentityPrincipal`) in
 * the tenant of its subscription, or the default tenant when the subscription records none.
 * Run it in the transaction that writes the identity, with the transaction's store.
 */
export async function createIdentityPrincipal(
  tx: Store,
  input: NewIdentityPrincipal,
): Promise<Principal> {
  const tenantId =
    input.tenantId !== '' ? input.tenantId : ((await tx.tenants.getDefault())?.id ?? '');
  return createManagedIdentityPrincipal(tx, {
    tenantId,
    resourceId: input.resourceId,
    displayName: input.name,
    newId: input.newId,
    now: input.now,
  });
}
