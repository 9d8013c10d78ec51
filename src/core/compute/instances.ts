// Scale-set instances: their ids, how capacity creates and removes them, how one is placed or deleted.
import type { EpochMs, Resource } from '../model.js';
import type { Store } from '../ports.js';
import {
  listScaleSetInstances,
  noteComputeChanged,
  SCALE_SET_INSTANCE_TYPE,
} from '../resources/change-feed.js';
import { deleteResourceTree } from '../resources/identity-lifecycle.js';
import { checkPlacement } from './placement.js';
import { scaleSetState, withState } from './scale-set-state.js';
import type { ComputeServices, ComputeSources } from './services.js';

/** Instance ids are decimal numbers; anything else names no instance. */
const INSTANCE_ID = /^(0|[1-9][0-9]{0,8})$/;

/** Whether `instanceId` can name an instance (a decimal number, no leading zero). */
export const isInstanceId = (instanceId: string): boolean => INSTANCE_ID.test(instanceId);

/** The id of instance `instanceId` of the scale set `scaleSetId`. */
export const instanceResourceId = (scaleSetId: string, instanceId: string): string =>
  `${scaleSetId}/virtualMachines/${instanceId}`;

/** An instance's `instanceId`: the last segment of its id, a decimal number. */
export const instanceIdOf = (instance: Resource): string => instance.id.split('/').at(-1) ?? '';

const byInstanceId = (a: Resource, b: Resource): number =>
  Number(instanceIdOf(a)) - Number(instanceIdOf(b));

/** The instances of scale set `scaleSetId`, in instance-id order (0, 1, 2, … 10). */
export async function readInstances(store: Store, scaleSetId: string): Promise<Resource[]> {
  return (await listScaleSetInstances(store, scaleSetId)).sort(byInstanceId);
}

/**
 * A new instance `instanceId` of `scaleSet`: named `{scaleSet}_{instanceId}` as Compute names
 * them (a real list response shows `"name": "dashdemo_0", "instanceId": "0"`:
 * https://github.com/msleal/asciivmssdashboard, `VMSSVMS_DEMO`), in the scale set's location,
 * with a new `vmId` and no host yet.
 */
export function newInstance(
  scaleSet: Resource,
  instanceId: number,
  vmId: string,
  now: EpochMs,
): Resource {
  const id = String(instanceId);
  return {
    id: instanceResourceId(scaleSet.id, id),
    type: SCALE_SET_INSTANCE_TYPE,
    name: `${scaleSet.name}_${id}`,
    subscriptionId: scaleSet.subscriptionId,
    resourceGroup: scaleSet.resourceGroup,
    location: scaleSet.location,
    tags: {},
    properties: { vmId },
    createdAt: now,
    updatedAt: now,
  };
}

/** What a new capacity does to a scale set's instances. */
export interface ResizePlan {
  /** Ids of the instances to create, ascending. */
  readonly create: readonly number[];
  /** Instances to delete: the highest instance ids. */
  readonly remove: readonly Resource[];
  /** The scale set's next instance id afterwards. */
  readonly nextInstanceId: number;
}

/**
 * Plans a scale to `capacity` from `instances` (in instance-id order). Scale-out takes new ids
 * from `nextInstanceId` up, so an id is never used twice (a deleted instance's id included).
 * Scale-in removes the highest instance ids first, as Azure's default scale-in policy does
 * ("Delete virtual machine with the highest instance ID":
 * https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-scale-in-policy;
 * Tessera has no zones or fault domains to balance first).
 */
export function planResize(
  instances: readonly Resource[],
  capacity: number,
  nextInstanceId: number,
): ResizePlan {
  const highest = instances.reduce((max, i) => Math.max(max, Number(instanceIdOf(i)) + 1), 0);
  const first = Math.max(nextInstanceId, highest);
  const missing = Math.max(0, capacity - instances.length);
  const create = Array.from({ length: missing }, (_, i) => first + i);
  return {
    create,
    remove: instances.slice(capacity),
    nextInstanceId: first + missing,
  };
}

/**
 * Carries out `plan` for `scaleSet` (already written) with `tx`, and records the change for
 * agents: new instances are created, then every instance (new and about to go) is noted through
 * `versions` (the scale set before and after), then the removed ones are deleted with what is
 * under them.
 */
export async function applyResize(
  tx: Store,
  sources: ComputeSources,
  scaleSet: Resource,
  plan: ResizePlan,
  versions: readonly (Resource | undefined)[],
  now: EpochMs,
): Promise<void> {
  for (const instanceId of plan.create) {
    const instance = newInstance(scaleSet, instanceId, sources.newId(), now);
    await tx.resources.put(instance, { ifMatch: null });
  }
  await noteComputeChanged(tx, now, versions);
  for (const instance of plan.remove) await deleteResourceTree(tx, instance.id, now);
}

/**
 * Writes `next` over `instance` of `scaleSet` in one transaction and returns its new etag: the
 * change is recorded for both hosts of a move, the placement checked (`checkPlacement`), and the
 * scale set's etag checked and bumped, so scale-set writes (identity, scale-in) and instance
 * writes never act on each other's stale view. A lost race is the store's `PreconditionFailed`.
 */
export async function placeInstance(
  services: ComputeServices,
  scaleSet: Resource,
  instance: Resource,
  next: Resource,
): Promise<string> {
  return services.store.transaction(async (tx) => {
    // Recorded first: the feed holds other compute writes back from here to commit, so the
    // placement check is race-free.
    await noteComputeChanged(tx, next.updatedAt, [instance, next]);
    await checkPlacement(tx, next, instance);
    await tx.resources.put(scaleSet, { ifMatch: scaleSet.etag ?? null });
    const written = await tx.resources.put(next, { ifMatch: instance.etag ?? null });
    return written.etag;
  });
}

/**
 * Deletes `instance` of `scaleSet`, with what is under it, and lowers `sku.capacity` by one, in
 * one transaction that checks the scale set is still the version read.
 */
export async function removeInstance(
  services: ComputeServices,
  scaleSet: Resource,
  instance: Resource,
): Promise<void> {
  const now = services.clock.now();
  const state = scaleSetState(scaleSet);
  const next = withState(
    { ...scaleSet, updatedAt: now },
    { ...state, sku: { ...state.sku, capacity: Math.max(0, state.sku.capacity - 1) } },
  );
  await services.store.transaction(async (tx) => {
    await tx.resources.put(next, { ifMatch: scaleSet.etag ?? null });
    await deleteResourceTree(tx, instance.id, now);
  });
}
