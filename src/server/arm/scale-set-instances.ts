// Scale-set instances on the ARM surface: list, read, place (PUT) and delete; and how capacity changes them.
import { type AppError, methodNotAllowed } from '../../core/errors.js';
import type { EpochMs, Resource } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import { listScaleSetInstances, noteComputeChanged } from '../../core/resources/change-feed.js';
import { deleteResourceTree } from '../../core/resources/identity-lifecycle.js';
import {
  armError,
  checkApiVersion,
  decodeSkipToken,
  encodeSkipToken,
  identityFormat,
  invalidResourceLocation,
  listPage,
  parseJsonObject,
  parseListQuery,
  resourceNotFound,
  validateResourceName,
  validateTags,
} from '../../wire/arm/index.js';
import {
  type ArmRequest,
  type ArmResponse,
  type ArmServices,
  authorize,
  checkPreconditions,
  retryOnConflict,
} from './context.js';
import { checkPlacement, explainPlacement } from './placement.js';
import { normaliseLocation } from './resource-groups.js';
import {
  getScaleSet,
  INSTANCE_TYPE,
  instanceIdOf,
  instanceResourceId,
  locateScaleSet,
  newInstance,
  renderInstance,
  requireGroupExists,
  SCALE_SET_TYPE,
  scaleSetNotFound,
  scaleSetState,
  withState,
} from './scale-set-body.js';
import { parseVmProperties } from './vm-body.js';
import { readVmIdentity } from './vm-identity.js';

const INSTANCE_READ = 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read';
const INSTANCE_WRITE = 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/write';
const INSTANCE_DELETE = 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/delete';
const ACTIONS = new Map([
  ['GET', INSTANCE_READ],
  ['PUT', INSTANCE_WRITE],
  ['DELETE', INSTANCE_DELETE],
]);

/** Instance ids are decimal numbers; anything else names no instance. */
const INSTANCE_ID = /^(0|[1-9][0-9]{0,8})$/;

const byInstanceId = (a: Resource, b: Resource): number =>
  Number(instanceIdOf(a)) - Number(instanceIdOf(b));

/** The instances of scale set `scaleSetId`, in instance-id order (0, 1, 2, … 10). */
export async function readInstances(store: Store, scaleSetId: string): Promise<Resource[]> {
  return (await listScaleSetInstances(store, scaleSetId)).sort(byInstanceId);
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
  services: ArmServices,
  scaleSet: Resource,
  plan: ResizePlan,
  versions: readonly (Resource | undefined)[],
  now: EpochMs,
): Promise<void> {
  for (const instanceId of plan.create) {
    const instance = newInstance(scaleSet, instanceId, services.newId(), now);
    await tx.resources.put(instance, { ifMatch: null });
  }
  await noteComputeChanged(tx, now, versions);
  for (const instance of plan.remove) await deleteResourceTree(tx, instance.id, now);
}

function instanceNotFound(scaleSet: string, instanceId: string, group: string): AppError {
  return resourceNotFound(`${SCALE_SET_TYPE}/${scaleSet}/virtualMachines/${instanceId}`, group);
}

/** The scale set one request is about: its group, its name and its id as requested. */
interface Target {
  readonly groupName: string;
  readonly scaleSetName: string;
  readonly scaleSetId: string;
}

/**
 * `GET …/virtualMachineScaleSets/{name}/virtualMachines` (when `instanceId` is undefined) and
 * `GET`, `PUT`, `DELETE` of `…/virtualMachines/{instanceId}`.
 */
export async function handleInstances(
  services: ArmServices,
  request: ArmRequest,
  subscriptionId: string,
  groupName: string,
  scaleSetName: string,
  instanceId: string | undefined,
): Promise<ArmResponse> {
  const apiVersion = checkApiVersion(INSTANCE_TYPE, request.query);
  const format = identityFormat(apiVersion);
  const where = await locateScaleSet(services, subscriptionId, groupName);
  validateResourceName(SCALE_SET_TYPE, scaleSetName);
  const target: Target = {
    groupName,
    scaleSetName,
    scaleSetId: `${where.groupId}/providers/${SCALE_SET_TYPE}/${scaleSetName}`,
  };
  if (instanceId === undefined) {
    if (request.method !== 'GET') throw methodNotAllowed(request.method);
    // The collection is not a scope of its own: its read is checked at the scale set.
    await authorize(services, request, INSTANCE_READ, target.scaleSetId);
    requireGroupExists(where, groupName);
    return listInstances(services, request, target, format);
  }
  const action = ACTIONS.get(request.method);
  if (action === undefined) throw methodNotAllowed(request.method);
  await authorize(services, request, action, instanceResourceId(target.scaleSetId, instanceId));
  requireGroupExists(where, groupName);
  switch (request.method) {
    case 'GET': {
      const scaleSet = await getScaleSet(services, target.scaleSetId);
      if (scaleSet === undefined) throw scaleSetNotFound(scaleSetName, groupName);
      const instance = await getInstance(services, scaleSet, instanceId);
      if (instance === undefined) throw instanceNotFound(scaleSetName, instanceId, groupName);
      const identity = await readVmIdentity(services.store, scaleSet.id);
      return { status: 200, body: renderInstance(instance, scaleSet, identity, format) };
    }
    case 'PUT':
      return putInstance(services, request, target, instanceId, format);
    default:
      return deleteInstance(services, request, target, instanceId);
  }
}

async function getInstance(
  services: ArmServices,
  scaleSet: Resource,
  instanceId: string,
): Promise<Resource | undefined> {
  if (!INSTANCE_ID.test(instanceId)) return undefined;
  const found = await services.store.resources.get(instanceResourceId(scaleSet.id, instanceId));
  return found?.type.toLowerCase() === INSTANCE_TYPE.toLowerCase() ? found : undefined;
}

/** One page of a scale set's instances in instance-id order; `$skipToken` is the last id. */
async function listInstances(
  services: ArmServices,
  request: ArmRequest,
  target: Target,
  format: ReturnType<typeof identityFormat>,
): Promise<ArmResponse> {
  const { top = 1000, skipToken } = parseListQuery(request.query);
  let after = -1;
  if (skipToken !== undefined) {
    const cursor = decodeSkipToken(skipToken);
    if (!INSTANCE_ID.test(cursor)) {
      throw armError(
        'InvalidParameter',
        `The value '${skipToken}' of query parameter '$skipToken' is invalid.`,
        { target: '$skipToken' },
      );
    }
    after = Number(cursor);
  }
  const scaleSet = await getScaleSet(services, target.scaleSetId);
  if (scaleSet === undefined) throw scaleSetNotFound(target.scaleSetName, target.groupName);
  // A scale set has at most MAX_CAPACITY instances, so reading them all for one page is bounded.
  const remaining = (await readInstances(services.store, scaleSet.id)).filter(
    (instance) => Number(instanceIdOf(instance)) > after,
  );
  const page = remaining.slice(0, top);
  const identity = await readVmIdentity(services.store, scaleSet.id);
  const last = page.at(-1);
  return {
    status: 200,
    body: listPage(
      page.map((instance) => renderInstance(instance, scaleSet, identity, format)),
      {
        requestUrl: request.url,
        ...(remaining.length > top && last !== undefined
          ? { skipToken: encodeSkipToken(instanceIdOf(last)) }
          : {}),
      },
    ),
  };
}

/**
 * `PUT` of an existing instance (it cannot create one: capacity does): `tags` and `properties`
 * replaced, `properties.tessera` checked as a VM's, `vmId` kept. `location` may be left out;
 * another location than the scale set's is `InvalidResourceLocation`. Other members (`identity`,
 * `sku`, `instanceId`) are Compute's to set and ignored.
 */
async function putInstance(
  services: ArmServices,
  request: ArmRequest,
  target: Target,
  instanceId: string,
  format: ReturnType<typeof identityFormat>,
): Promise<ArmResponse> {
  const body = parseJsonObject(request.body);
  const tags = body.tags === undefined || body.tags === null ? {} : validateTags(body.tags);
  const properties = parseVmProperties(body.properties);
  const location =
    typeof body.location === 'string' && body.location.trim() !== ''
      ? normaliseLocation(body.location)
      : undefined;
  return retryOnConflict(async () => {
    const scaleSet = await getScaleSet(services, target.scaleSetId);
    const instance =
      scaleSet === undefined ? undefined : await getInstance(services, scaleSet, instanceId);
    checkPreconditions(request, instance);
    if (scaleSet === undefined) throw scaleSetNotFound(target.scaleSetName, target.groupName);
    if (instance === undefined) {
      throw instanceNotFound(target.scaleSetName, instanceId, target.groupName);
    }
    if (location !== undefined && instance.location !== null && location !== instance.location) {
      throw invalidResourceLocation(
        instance.name,
        instance.location,
        target.groupName,
        location,
        409,
      );
    }
    const now = services.clock.now();
    const next: Resource = {
      ...instance,
      tags,
      properties: { vmId: instance.properties.vmId ?? services.newId(), ...properties },
      updatedAt: now,
    };
    const etag = await explainPlacement(services, request, () =>
      services.store.transaction(async (tx) => {
        // Before and after: a move between hosts is news to both. Recorded first: the feed
        // holds other compute writes back from here to commit, so the check is race-free.
        await noteComputeChanged(tx, now, [instance, next]);
        await checkPlacement(tx, next, instance);
        // Every write to an instance also checks and bumps its scale set's etag, so scale-set
        // writes (identity, scale-in) and instance writes never act on each other's stale view.
        await tx.resources.put(scaleSet, { ifMatch: scaleSet.etag ?? null });
        const written = await tx.resources.put(next, { ifMatch: instance.etag ?? null });
        return written.etag;
      }),
    );
    const identity = await readVmIdentity(services.store, scaleSet.id);
    return { status: 200, body: renderInstance({ ...next, etag }, scaleSet, identity, format) };
  });
}

/** `DELETE` of an instance: it goes, with what is under it, and `sku.capacity` drops by one. */
async function deleteInstance(
  services: ArmServices,
  request: ArmRequest,
  target: Target,
  instanceId: string,
): Promise<ArmResponse> {
  return retryOnConflict(async () => {
    const scaleSet = await getScaleSet(services, target.scaleSetId);
    const instance =
      scaleSet === undefined ? undefined : await getInstance(services, scaleSet, instanceId);
    checkPreconditions(request, instance);
    if (scaleSet === undefined || instance === undefined) return { status: 204 };
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
    return { status: 200 };
  });
}
