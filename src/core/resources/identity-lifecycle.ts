// What goes with a managed identity or a resource when it is deleted: attachments, role assignments, principals.
import type { EpochMs, Resource } from '../model.js';
import type { Store } from '../ports.js';
import { noteComputeChanged, noteIdentityChanged } from './change-feed.js';

/** How many rows one store read returns while clearing up. */
const BATCH = 500;

/**
 * Removes a principal and everything that refers to it: its attachments to VMs and scale sets,
 * every role assignment of it at any scope, and the principal itself (its credentials go by
 * cascade). The hosts of the VMs it was attached to learn of it through the change feed, at
 * `at` (except those whose lower-case id is in `alreadyNoted`). Doing nothing for an unknown
 * principal, it is safe to repeat. Run it inside
 * `store.transaction` and pass the transaction's store, so the removal is all-or-nothing; store
 * failures propagate.
 */
export async function deletePrincipalEverywhere(
  store: Store,
  principalId: string,
  at: EpochMs,
  alreadyNoted: ReadonlySet<string> = new Set(),
): Promise<void> {
  await noteIdentityChanged(store, at, principalId, alreadyNoted);
  for (const attachment of await store.attachments.listForPrincipal(principalId)) {
    await store.attachments.detach(attachment.resourceId, principalId);
  }
  // Each round deletes what it read, so the next round starts from the beginning again.
  for (;;) {
    const page = await store.roles.listAssignments({ principalId }, { limit: BATCH });
    for (const assignment of page.items) await store.roles.deleteAssignment(assignment.id);
    if (page.nextCursor === undefined) break;
  }
  await store.principals.delete(principalId);
}

/**
 * Deletes the resource `id` (if any) and every resource under it (a group's contents, a VM's
 * extensions), first removing, with {@link deletePrincipalEverywhere}, each managed-identity
 * principal one of them owns: a user-assigned identity's, or a VM's or scale set's
 * system-assigned one, found by the resource id among the principals' alternative names. Role
 * assignments whose scope is in the tree are kept, as are principals of other kinds. A key
 * vault's secrets are purged with it. Every VM and
 * scale-set instance in the tree is reported to its host through the change feed, at `at`. Run
 * it inside `store.transaction` and pass the transaction's store; store failures propagate.
 */
export async function deleteResourceTree(store: Store, id: string, at: EpochMs): Promise<void> {
  const tree: Resource[] = [];
  const root = await store.resources.get(id);
  if (root !== undefined) tree.push(root);
  let cursor: string | undefined;
  do {
    const page = await store.resources.listUnder(id, { limit: BATCH, cursor });
    tree.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);

  await noteComputeChanged(store, at, tree);
  const noted = new Set(tree.map((resource) => resource.id.toLowerCase()));
  for (const owner of tree) {
    // A vault's secrets go with it: a vault made again under the same id starts empty.
    if (owner.type.toLowerCase() === 'microsoft.keyvault/vaults') {
      await store.vaultSecrets.purgeVault(owner.id);
    }
    const principal = await store.principals.getByAlternativeName(owner.id);
    if (principal?.type === 'ManagedIdentity') {
      await deletePrincipalEverywhere(store, principal.objectId, at, noted);
    }
  }
  await store.resources.deleteUnder(id);
  if (root !== undefined) await store.resources.delete(root.id);
}
