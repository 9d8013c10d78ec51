// VMs and scale sets written, each in one transaction with its identities, placement, instances and change feed.
import type { Resource } from '../model.js';
import type { Store } from '../ports.js';
import { noteComputeChanged } from '../resources/change-feed.js';
import { type LegacyExtensionUse, legacyExtensionAudit } from './extensions.js';
import { applyIdentity, type IdentityPlan } from './identities.js';
import { applyResize, planResize, readInstances } from './instances.js';
import { checkPlacement } from './placement.js';
import { type ScaleSetSku, scaleSetState, withState } from './scale-set-state.js';
import type { ComputeServices } from './services.js';

/** The resource `id` if it is of `type` (any case); a resource of another type is none. */
export async function getTyped(
  store: Store,
  id: string,
  type: string,
): Promise<Resource | undefined> {
  const found = await store.resources.get(id);
  return found?.type.toLowerCase() === type.toLowerCase() ? found : undefined;
}

/** One VM write: the new version over the one read, and its identity change. */
export interface VmWrite {
  readonly vm: Resource;
  readonly existing: Resource | undefined;
  readonly plan: IdentityPlan;
  /** The tenant of the VM's subscription (a new system-assigned identity's). */
  readonly tenantId: string;
}

/**
 * Writes a VM in one transaction: the change recorded for its hosts before and after, its
 * placement checked (`checkPlacement`: `unknown_host`, `address_taken`), the VM put under
 * `If-Match` on the version read (the store's `PreconditionFailed` when another writer got in
 * first), its identities changed (`applyIdentity`). Returns whether it was created and its etag.
 */
export async function writeVm(
  services: ComputeServices,
  write: VmWrite,
): Promise<{ created: boolean; etag: string }> {
  const { vm, existing } = write;
  return services.store.transaction(async (tx) => {
    // Both hosts hear of a move; the VM's host hears of any identity change. Recorded first:
    // the feed holds other compute writes back from here to commit, so the check is race-free.
    await noteComputeChanged(tx, vm.updatedAt, [existing, vm]);
    await checkPlacement(tx, vm, existing);
    const result = await tx.resources.put(vm, { ifMatch: existing?.etag ?? null });
    await applyIdentity(tx, services, vm, write.plan, write.tenantId);
    return result;
  });
}

/** One scale-set write, read and checked by the surface, ready to commit. */
export interface ScaleSetWrite {
  /** The new version without Tessera's state (added once the instances are known). */
  readonly base: Resource;
  readonly existing: Resource | undefined;
  readonly sku: ScaleSetSku;
  readonly plan: IdentityPlan;
  readonly tenantId: string;
  /** Deprecated managed-identity extensions in its profile, each audited. */
  readonly legacy: readonly LegacyExtensionUse[];
  /** The caller's object id, for the audit records. */
  readonly principalId: string;
}

/**
 * Writes a scale set in one transaction: the scale set (only if it is still the version read),
 * its identities, its instances at the new capacity (`planResize`), the change-feed entries and
 * an audit event per deprecated extension. A lost race throws the store's `PreconditionFailed`.
 * Returns whether it was created and the version written, with its etag.
 */
export async function writeScaleSet(
  services: ComputeServices,
  write: ScaleSetWrite,
): Promise<{ created: boolean; written: Resource }> {
  const { base, existing } = write;
  const now = base.updatedAt;
  return services.store.transaction(async (tx) => {
    const instances = existing === undefined ? [] : await readInstances(tx, existing.id);
    const counter = existing === undefined ? 0 : scaleSetState(existing).nextInstanceId;
    const resize = planResize(instances, write.sku.capacity, counter);
    const next = withState(base, { sku: write.sku, nextInstanceId: resize.nextInstanceId });
    const result = await tx.resources.put(next, { ifMatch: existing?.etag ?? null });
    await applyIdentity(tx, services, next, write.plan, write.tenantId);
    await applyResize(tx, services, next, resize, [existing, next], now);
    for (const extension of write.legacy) {
      await tx.audit.append(
        legacyExtensionAudit(services, {
          principalId: write.principalId,
          resourceId: next.id,
          extension,
          at: now,
        }),
      );
    }
    return { created: result.created, written: { ...next, etag: result.etag } };
  });
}
