// Records, in the writer's transaction, which VMs changed on which hosts, for agents to catch up from.
import type { EpochMs, Resource } from '../model.js';
import { isRecord } from '../guards.js';
import type { Store } from '../ports.js';
import { RESOURCE_TYPES } from '../resource-types.js';

/** The ARM type of a virtual machine. */
export const VM_RESOURCE_TYPE = RESOURCE_TYPES.virtualMachines;
/** The ARM type of a scale set. */
export const SCALE_SET_RESOURCE_TYPE = RESOURCE_TYPES.scaleSets;
/** The ARM type of a scale-set instance (a VM of a scale set). */
export const SCALE_SET_INSTANCE_TYPE = RESOURCE_TYPES.scaleSetInstances;

const BATCH = 500;

/**
 * Where a compute resource runs and whose identities it has, as the store indexes it: a VM is its
 * own holder, a scale-set instance (`{scaleSetId}/virtualMachines/{n}`) has its scale set's
 * identities; any other type has neither. `holderId` keeps the id's case.
 */
export function placementOf(resource: Pick<Resource, 'id' | 'type' | 'properties'>): {
  readonly hostId: string | null;
  readonly holderId: string | null;
} {
  if (isType(resource, VM_RESOURCE_TYPE))
    return { hostId: hostOf(resource), holderId: resource.id };
  if (isType(resource, SCALE_SET_INSTANCE_TYPE)) {
    return { hostId: hostOf(resource), holderId: resource.id.split('/').slice(0, -2).join('/') };
  }
  return { hostId: null, holderId: null };
}

/** The host a VM or instance is placed on (`properties.tessera.hostId`), if any. */
export function hostOf(resource: Pick<Resource, 'properties'>): string | null {
  const tessera = resource.properties.tessera;
  if (typeof tessera !== 'object' || tessera === null) return null;
  const { hostId } = tessera as { hostId?: unknown };
  return typeof hostId === 'string' ? hostId : null;
}

/** The private addresses a VM or instance is recognised by (`properties.tessera.privateIpAddresses`), the strings only. */
export function privateAddressesOf(resource: Pick<Resource, 'properties'>): string[] {
  const tessera = resource.properties.tessera;
  if (!isRecord(tessera)) return [];
  const { privateIpAddresses } = tessera;
  return Array.isArray(privateIpAddresses)
    ? privateIpAddresses.filter((ip): ip is string => typeof ip === 'string')
    : [];
}

const isType = (resource: Pick<Resource, 'type'>, type: string): boolean =>
  resource.type.toLowerCase() === type.toLowerCase();

/** Every instance of the scale set `scaleSetId`, in id order. */
export async function listScaleSetInstances(store: Store, scaleSetId: string): Promise<Resource[]> {
  const instances: Resource[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.resources.listUnder(scaleSetId, { limit: BATCH, cursor });
    instances.push(...page.items.filter((r) => isType(r, SCALE_SET_INSTANCE_TYPE)));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return instances;
}

/**
 * Records that the compute resources in `versions` changed. Pass every version the change
 * touched, before and after (a VM that moved from host A to B must be reported to both): a VM or
 * an instance gives one entry per distinct host; a scale set gives one per instance (read from
 * `store`, so call it while the instances still exist); other types are ignored. Run it in the
 * write's transaction so the entries commit with the change.
 */
export async function noteComputeChanged(
  store: Store,
  at: EpochMs,
  versions: readonly (Resource | undefined)[],
): Promise<void> {
  const entries = new Map<string, { resourceId: string; hostId: string | null; at: EpochMs }>();
  const add = (resource: Resource): void => {
    const hostId = hostOf(resource);
    entries.set(`${resource.id.toLowerCase()}\n${hostId ?? ''}`, {
      resourceId: resource.id,
      hostId,
      at,
    });
  };
  for (const resource of versions) {
    if (resource === undefined) continue;
    if (isType(resource, VM_RESOURCE_TYPE) || isType(resource, SCALE_SET_INSTANCE_TYPE)) {
      add(resource);
    } else if (isType(resource, SCALE_SET_RESOURCE_TYPE)) {
      for (const instance of await listScaleSetInstances(store, resource.id)) add(instance);
    }
  }
  if (entries.size > 0) await store.changes.append([...entries.values()]);
}

/**
 * Records a change for every VM and scale set `principalId` is attached to: its role assignments
 * changed, or it is about to be detached or deleted (call it before detaching, while the
 * attachments still say where it is). Resources whose lower-case id is in `alreadyNoted` are
 * skipped.
 */
export async function noteIdentityChanged(
  store: Store,
  at: EpochMs,
  principalId: string,
  alreadyNoted: ReadonlySet<string> = new Set(),
): Promise<void> {
  const resources: Resource[] = [];
  for (const attachment of await store.attachments.listForPrincipal(principalId)) {
    if (alreadyNoted.has(attachment.resourceId.toLowerCase())) continue;
    const resource = await store.resources.get(attachment.resourceId);
    if (resource !== undefined) resources.push(resource);
  }
  await noteComputeChanged(store, at, resources);
}
