// Where an ARM path points: its subscription and resource group, checked as ARM checks them.
import { type AppError, notFound } from '../../core/errors.js';
import type { Resource } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import { invalidSubscriptionId, isGuid, validateResourceGroupName } from '../../wire/arm/index.js';
import type { ArmServices } from './context.js';
import { OWN_TYPES } from '../../wire/arm/target.js';

const SUBSCRIPTIONS = OWN_TYPES.subscriptions;
const GROUPS = OWN_TYPES.resourceGroups;

const subscriptionPath = (id: string): string => `/subscriptions/${id}`;

function subscriptionNotFound(id: string): AppError {
  return notFound(`The subscription '${id}' could not be found.`, {
    wire: { arm: 'SubscriptionNotFound' },
  });
}

/** ARM's `ResourceGroupNotFound` (404). */
export function groupNotFound(name: string): AppError {
  return notFound(`Resource group '${name}' could not be found.`, {
    wire: { arm: 'ResourceGroupNotFound' },
  });
}

/**
 * The subscription `id`: `InvalidSubscriptionId` (400) if it is not a GUID,
 * `SubscriptionNotFound` (404) if there is none.
 */
export async function requireSubscription(services: ArmServices, id: string): Promise<Resource> {
  if (!isGuid(id)) throw invalidSubscriptionId(id);
  const found = await services.store.resources.get(subscriptionPath(id));
  if (found?.type !== SUBSCRIPTIONS) throw subscriptionNotFound(id);
  return found;
}

/** ARM normalises locations (`src/wire/arm/tracked-body.ts`). */
export { normaliseLocation } from '../../wire/arm/index.js';

/** The resource group `name` of subscription `sub`, or ARM's `ResourceGroupNotFound`. */
export async function requireGroup(store: Store, sub: Resource, name: string): Promise<Resource> {
  const group = await store.resources.get(`${sub.id}/resourceGroups/${name}`);
  if (group?.type !== GROUPS) throw groupNotFound(name);
  return group;
}

/** Where a resource of a group lives: its subscription's tenant and its group. */
export interface GroupLocation {
  readonly subscriptionId: string;
  readonly tenantId: string;
  /** The group's id as stored (original case), or as requested when the group is missing. */
  readonly groupId: string;
  readonly groupName: string;
  readonly groupExists: boolean;
}

/**
 * Finds the subscription (`InvalidSubscriptionId`, `SubscriptionNotFound`) and, when
 * `groupName` is given, checks its name (`InvalidResourceGroup`) and whether it exists. A missing
 * group is reported by the caller after authorization ({@link requireGroupExists}).
 */
export async function locateGroup(
  services: ArmServices,
  subscriptionId: string,
  groupName?: string,
): Promise<GroupLocation> {
  const sub = await requireSubscription(services, subscriptionId);
  const tenantId = (sub.properties as { tenantId?: string }).tenantId ?? '';
  const base = { subscriptionId: sub.subscriptionId, tenantId };
  if (groupName === undefined) {
    return { ...base, groupId: sub.id, groupName: '', groupExists: false };
  }
  validateResourceGroupName(groupName);
  const group = await services.store.resources.get(`${sub.id}/resourceGroups/${groupName}`);
  const exists = group?.type === GROUPS;
  return {
    ...base,
    groupId: exists ? group.id : `${sub.id}/resourceGroups/${groupName}`,
    groupName: exists ? group.name : groupName,
    groupExists: exists,
  };
}
