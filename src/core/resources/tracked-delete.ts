// A tracked resource deleted with everything under it, after any write in flight.
import type { Resource } from '../model.js';
import type { Clock, Store } from '../ports.js';
import { deleteResourceTree } from './identity-lifecycle.js';

/**
 * Deletes a tracked resource (`existing`, as read: a VM, scale set, user-assigned identity or
 * key vault) and everything under it (`deleteResourceTree`: instances, extensions, the
 * managed-identity principals the tree owns everywhere, the attachments of user-assigned
 * identities, which stay; a vault's secrets). Writing it back unchanged first, only if it is
 * still the version read, orders the delete after any write in flight (instance writes check
 * the scale set's etag too); a lost race is the store's `PreconditionFailed`.
 */
export async function deleteTracked(
  services: { readonly store: Store; readonly clock: Clock },
  existing: Resource,
): Promise<void> {
  await services.store.transaction(async (tx) => {
    await tx.resources.put(existing, { ifMatch: existing.etag ?? null });
    await deleteResourceTree(tx, existing.id, services.clock.now());
  });
}
