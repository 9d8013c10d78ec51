// Microsoft.Compute/virtualMachineScaleSets/virtualMachines: a scale set's instances listed, read, placed (PUT) and deleted.
import {
  getTyped,
  instanceIdOf,
  instanceResourceId,
  isInstanceId,
  placeInstance,
  readIdentity,
  readInstances,
  removeInstance,
} from '../../../core/compute/index.js';
import type { Resource } from '../../../core/model.js';
import {
  SCALE_SET_INSTANCE_TYPE,
  SCALE_SET_RESOURCE_TYPE,
} from '../../../core/resources/change-feed.js';
import {
  identityFormat,
  instanceSkipToken,
  instancesAfter,
  listPage,
  optionalLocation,
  parseListQuery,
  parseVmProperties,
  refuseMove,
  renderInstance,
  tagsOf,
  versionsOf,
} from '../../../wire/arm/index.js';
import type { ArmResponse } from '../context.js';
import type { OperationContext, ResourceTypeDeclaration } from '../provider.js';
import { notFoundOf, storedIdOf } from '../tracked-operations.js';
import { answeringComputeProblems } from './compute-writes.js';

const INSTANCE = SCALE_SET_INSTANCE_TYPE;
const SCALE_SET = SCALE_SET_RESOURCE_TYPE;

/** The scale set the path names and, when it has one by the id the path gives, the instance. */
interface Found {
  readonly scaleSet: Resource | undefined;
  readonly instance: Resource | undefined;
}

async function find(context: OperationContext): Promise<Found> {
  const { store } = context.services;
  const scaleSet = await getTyped(store, storedIdOf(context, SCALE_SET, 1), SCALE_SET);
  const instanceId = context.name;
  const instance =
    scaleSet === undefined || !isInstanceId(instanceId)
      ? undefined
      : await getTyped(store, instanceResourceId(scaleSet.id, instanceId), INSTANCE);
  return { scaleSet, instance };
}

/**
 * Runs `attempt` as a read-modify-write of the instance (`If-Match` checked against it) with the
 * scale set read alongside.
 */
function writingInstance(
  context: OperationContext,
  attempt: (found: Found) => Promise<ArmResponse>,
): Promise<ArmResponse> {
  let found: Found = { scaleSet: undefined, instance: undefined };
  return context.writing(
    async () => {
      found = await find(context);
      return found.instance;
    },
    () => attempt(found),
  );
}

/** The scale set and the instance, or `ResourceNotFound` naming the first that is missing. */
function requireBoth(
  context: OperationContext,
  found: Found,
): { scaleSet: Resource; instance: Resource } {
  const { scaleSet, instance } = found;
  if (scaleSet === undefined) throw notFoundOf(context, SCALE_SET, 1);
  if (instance === undefined) throw notFoundOf(context, INSTANCE);
  return { scaleSet, instance };
}

/** GET of one instance, with its scale set's identities. */
async function read(context: OperationContext): Promise<ArmResponse> {
  const { scaleSet, instance } = requireBoth(context, await find(context));
  const identity = await readIdentity(context.services.store, scaleSet.id);
  const format = identityFormat(context.apiVersion);
  return { status: 200, body: renderInstance(instance, scaleSet, identity, format) };
}

/** One page of a scale set's instances in instance-id order; `$skipToken` is the last id. */
async function list(context: OperationContext): Promise<ArmResponse> {
  const { top = 1000, skipToken } = parseListQuery(context.request.query);
  const after = instancesAfter(skipToken);
  const { store } = context.services;
  const scaleSet = await getTyped(store, storedIdOf(context, SCALE_SET), SCALE_SET);
  if (scaleSet === undefined) throw notFoundOf(context, SCALE_SET);
  // A scale set has at most MAX_CAPACITY instances, so reading them all for one page is bounded.
  const remaining = (await readInstances(store, scaleSet.id)).filter(
    (instance) => Number(instanceIdOf(instance)) > after,
  );
  const page = remaining.slice(0, top);
  const identity = await readIdentity(store, scaleSet.id);
  const format = identityFormat(context.apiVersion);
  const last = page.at(-1);
  return {
    status: 200,
    body: listPage(
      page.map((instance) => renderInstance(instance, scaleSet, identity, format)),
      {
        requestUrl: context.request.url,
        ...(remaining.length > top && last !== undefined
          ? { skipToken: instanceSkipToken(last) }
          : {}),
      },
    ),
  };
}

/**
 * PUT of an existing instance (it cannot create one: capacity does): `tags` and `properties`
 * replaced, `properties.tessera` checked as a VM's and its placement by core (`placeInstance`),
 * `vmId` kept. `location` may be left out; another location than the instance's is
 * `InvalidResourceLocation`. Other members (`identity`, `sku`, `instanceId`) are Compute's to
 * set and ignored.
 */
function put(context: OperationContext): Promise<ArmResponse> {
  const { services } = context;
  const body = context.body();
  const tags = tagsOf(body) ?? {};
  const properties = parseVmProperties(body.properties);
  const location = optionalLocation(body);
  return writingInstance(context, async (found) => {
    const { scaleSet, instance } = requireBoth(context, found);
    if (location !== undefined) refuseMove(instance, location, context.target.resourceGroup ?? '');
    const next: Resource = {
      ...instance,
      tags,
      properties: { vmId: instance.properties.vmId ?? services.newId(), ...properties },
      updatedAt: services.clock.now(),
    };
    const etag = await answeringComputeProblems(context, () =>
      placeInstance(services, scaleSet, instance, next),
    );
    const identity = await readIdentity(services.store, scaleSet.id);
    const format = identityFormat(context.apiVersion);
    return { status: 200, body: renderInstance({ ...next, etag }, scaleSet, identity, format) };
  });
}

/** DELETE: the instance goes, with what is under it, and `sku.capacity` drops by one (204: none). */
function remove(context: OperationContext): Promise<ArmResponse> {
  return writingInstance(context, async ({ scaleSet, instance }) => {
    if (scaleSet === undefined || instance === undefined) return { status: 204 };
    await removeInstance(context.services, scaleSet, instance);
    return { status: 200 };
  });
}

/**
 * `…/virtualMachineScaleSets/{name}/virtualMachines[/{instanceId}]`. The collection is not a
 * scope of its own: its read is checked at the scale set. Instance ids are numbers, so any other
 * name is an instance that does not exist (no name rule of its own).
 */
export const scaleSetInstances: ResourceTypeDeclaration = {
  type: INSTANCE,
  apiVersions: versionsOf(INSTANCE),
  placement: ['resourceGroup'],
  validateName: () => undefined,
  operations: {
    read: { run: read },
    list: { run: list, authorizeAt: 'container' },
    put: { run: put },
    delete: { run: remove },
  },
};
