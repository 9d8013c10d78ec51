// Subscriptions (read) and resource groups (create, read, list, delete) on the ARM surface.
import { type AppError, methodNotAllowed, notFound } from '../../core/errors.js';
import type { Resource } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import { deleteResourceTree } from '../../core/resources/identity-lifecycle.js';
import {
  armResource,
  checkApiVersion,
  invalidResourceGroupLocation,
  invalidSubscriptionId,
  isGuid,
  listPage,
  locationRequired,
  parseJsonObject,
  validateResourceGroupName,
  validateTags,
} from '../../wire/arm/index.js';
import {
  type ArmRequest,
  type ArmResponse,
  type ArmServices,
  authorize,
  checkPreconditions,
  retryOnConflict,
  type RouteMatcher,
} from './context.js';
import { listReadable } from './list.js';

const SUBSCRIPTIONS = 'Microsoft.Resources/subscriptions';
const GROUPS = 'Microsoft.Resources/resourceGroups';
const GROUP_READ = 'Microsoft.Resources/subscriptions/resourceGroups/read';
const GROUP_WRITE = 'Microsoft.Resources/subscriptions/resourceGroups/write';
const GROUP_DELETE = 'Microsoft.Resources/subscriptions/resourceGroups/delete';
const SUBSCRIPTION_READ = 'Microsoft.Resources/subscriptions/read';

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

function renderSubscription(resource: Resource): unknown {
  const properties = resource.properties as { displayName?: string; tenantId?: string };
  return {
    id: resource.id,
    authorizationSource: 'RoleBased',
    subscriptionId: resource.subscriptionId,
    tenantId: properties.tenantId,
    displayName: properties.displayName ?? resource.name,
    state: 'Enabled',
    subscriptionPolicies: {
      locationPlacementId: 'Public_2014-09-01',
      quotaId: 'Internal_2014-09-01',
      spendingLimit: 'Off',
    },
  };
}

function renderGroup(resource: Resource): unknown {
  return armResource({
    id: resource.id,
    name: resource.name,
    type: GROUPS,
    location: resource.location ?? '',
    ...(Object.keys(resource.tags).length === 0 ? {} : { tags: resource.tags }),
    properties: { provisioningState: 'Succeeded' },
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

/** `GET /subscriptions`: the subscriptions the caller may read. */
export async function listSubscriptions(
  services: ArmServices,
  request: ArmRequest,
): Promise<ArmResponse> {
  checkApiVersion(SUBSCRIPTIONS, request.query);
  const page = await services.store.resources.list({ type: SUBSCRIPTIONS }, { limit: 1000 });
  const visible: unknown[] = [];
  for (const resource of page.items) {
    const { allowed } = await services.rbac.check({
      principalId: request.caller.objectId,
      action: SUBSCRIPTION_READ,
      scope: resource.id,
    });
    if (allowed) visible.push(renderSubscription(resource));
  }
  return { status: 200, body: listPage(visible, { requestUrl: request.url }) };
}

/** `GET /subscriptions/{id}`. */
export async function getSubscription(
  services: ArmServices,
  request: ArmRequest,
  id: string,
): Promise<ArmResponse> {
  checkApiVersion(SUBSCRIPTIONS, request.query);
  const found = await requireSubscription(services, id);
  await authorize(services, request, SUBSCRIPTION_READ, found.id);
  return { status: 200, body: renderSubscription(found) };
}

/** `GET /subscriptions/{id}/resourcegroups`, paged with `$top` and `$skipToken`. */
export async function listGroups(
  services: ArmServices,
  request: ArmRequest,
  subscriptionId: string,
): Promise<ArmResponse> {
  checkApiVersion(GROUPS, request.query);
  const sub = await requireSubscription(services, subscriptionId);
  return listReadable(
    services,
    request,
    { subscriptionId: sub.subscriptionId, type: GROUPS },
    GROUP_READ,
    (group) => renderGroup(group),
  );
}

/** `GET`, `PUT` and `DELETE` of `/subscriptions/{id}/resourcegroups/{name}`. */
export async function handleGroup(
  services: ArmServices,
  request: ArmRequest,
  subscriptionId: string,
  name: string,
): Promise<ArmResponse> {
  checkApiVersion(GROUPS, request.query);
  const sub = await requireSubscription(services, subscriptionId);
  validateResourceGroupName(name);
  const id = `${sub.id}/resourceGroups/${name}`;
  const { store, clock } = services;
  switch (request.method) {
    case 'GET':
    case 'HEAD': {
      await authorize(services, request, GROUP_READ, id);
      const found = await store.resources.get(id);
      if (found?.type !== GROUPS) throw groupNotFound(name);
      return { status: 200, body: request.method === 'HEAD' ? undefined : renderGroup(found) };
    }
    case 'PUT': {
      await authorize(services, request, GROUP_WRITE, id);
      const body = parseJsonObject(request.body);
      const location = body.location;
      if (typeof location !== 'string' || location === '') throw locationRequired();
      const tags = body.tags === undefined || body.tags === null ? {} : validateTags(body.tags);
      return retryOnConflict(async () => {
        const existing = await store.resources.get(id);
        checkPreconditions(request, existing);
        // ARM refuses to move a group (409) rather than keep its location silently.
        if (existing?.location != null && existing.location !== normaliseLocation(location)) {
          throw invalidResourceGroupLocation(location, existing.location);
        }
        const now = clock.now();
        const group: Resource = {
          id: existing?.id ?? id,
          type: GROUPS,
          name: existing?.name ?? name,
          subscriptionId: sub.subscriptionId,
          resourceGroup: existing?.name ?? name,
          location: existing?.location ?? normaliseLocation(location),
          tags,
          properties: {},
          createdAt: existing?.createdAt ?? now,
          updatedAt: now,
        };
        const { created } = await store.resources.put(group, { ifMatch: existing?.etag ?? null });
        return { status: created ? 201 : 200, body: renderGroup(group) };
      });
    }
    case 'DELETE': {
      await authorize(services, request, GROUP_DELETE, id);
      const found = await store.resources.get(id);
      if (found?.type !== GROUPS) throw groupNotFound(name);
      // Everything in the group goes with it, identities' principals included, in one transaction.
      await store.transaction(async (tx) => {
        await deleteResourceTree(tx, found.id, clock.now());
      });
      return { status: 200 };
    }
    default:
      throw methodNotAllowed(request.method);
  }
}

/** `/subscriptions[/{id}[/resourcegroups[/{name}]]]`. */
export const matchResourceGroups: RouteMatcher = (segments) => {
  const [first, sub, groups, group] = segments;
  if (first?.toLowerCase() !== 'subscriptions') return undefined;
  if (segments.length === 1) return listSubscriptions;
  if (sub === undefined) return undefined;
  if (segments.length === 2) return (s, r) => getSubscription(s, r, sub);
  if (groups?.toLowerCase() !== 'resourcegroups') return undefined;
  if (segments.length === 3) return (s, r) => listGroups(s, r, sub);
  if (segments.length === 4 && group !== undefined) {
    return (s, r) => handleGroup(s, r, sub, decodeURIComponent(group));
  }
  return undefined;
};

/** ARM normalises locations: `West Europe` is `westeurope`. */
export const normaliseLocation = (location: string): string =>
  location.toLowerCase().replaceAll(' ', '');

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
