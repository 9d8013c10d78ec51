// User-assigned managed identities (Microsoft.ManagedIdentity/userAssignedIdentities) on the ARM surface.
import { methodNotAllowed } from '../../core/errors.js';
import type { Principal, Resource } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import {
  deletePrincipalEverywhere,
  deleteResourceTree,
} from '../../core/resources/identity-lifecycle.js';
import {
  armError,
  armResource,
  checkApiVersion,
  invalidResourceLocation,
  locationRequired,
  resourceNotFound,
  parseJsonObject,
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
  type RouteMatcher,
} from './context.js';
import { listReadable } from './list.js';
import { normaliseLocation, requireGroup, requireSubscription } from './resource-groups.js';

const NAMESPACE = 'Microsoft.ManagedIdentity';
const KIND = 'userAssignedIdentities';
const UAI = `${NAMESPACE}/${KIND}`;
const READ = `${UAI}/read`;
const WRITE = `${UAI}/write`;
const DELETE = `${UAI}/delete`;
/** `properties.isolationScope` exists from this api-version on (MSI spec 2024-11-30). */
const ISOLATION_SCOPE_SINCE = '2024-11-30';
const ISOLATION_SCOPES = ['None', 'Regional'] as const;

/** What Tessera keeps in a user-assigned identity's `properties`. */
interface IdentityProperties {
  readonly tenantId: string;
  readonly principalId: string;
  readonly clientId: string;
  readonly isolationScope: string;
}

const hasIsolationScope = (apiVersion: string): boolean => apiVersion >= ISOLATION_SCOPE_SINCE;

/** Reads `properties.isolationScope` of a body, where the api-version has it; else `fallback`. */
function isolationScopeOf(
  body: Record<string, unknown>,
  apiVersion: string,
  fallback: string,
): string {
  const properties = body.properties;
  if (!hasIsolationScope(apiVersion) || typeof properties !== 'object' || properties === null) {
    return fallback;
  }
  const given = (properties as Record<string, unknown>).isolationScope;
  if (given === undefined || given === null) return fallback;
  const match = ISOLATION_SCOPES.find(
    (scope) => typeof given === 'string' && scope.toLowerCase() === given.toLowerCase(),
  );
  if (match === undefined) {
    const shown = typeof given === 'string' ? given : JSON.stringify(given);
    throw armError(
      'InvalidParameter',
      `The value '${shown}' of property 'properties.isolationScope' is invalid. Allowed values are 'None' and 'Regional'.`,
      { target: 'properties.isolationScope' },
    );
  }
  return match;
}

function propertiesOf(resource: Resource): IdentityProperties {
  const p = resource.properties as Partial<IdentityProperties>;
  return {
    tenantId: p.tenantId ?? '',
    principalId: p.principalId ?? '',
    clientId: p.clientId ?? '',
    isolationScope: p.isolationScope ?? 'None',
  };
}

/** The identity body (PROTOCOL.md 4.2); `isolationScope` only at api-versions that define it. */
function render(resource: Resource, apiVersion: string): unknown {
  const { tenantId, principalId, clientId, isolationScope } = propertiesOf(resource);
  return armResource({
    id: resource.id,
    name: resource.name,
    type: UAI,
    location: resource.location ?? '',
    tags: resource.tags,
    properties: {
      tenantId,
      principalId,
      clientId,
      ...(hasIsolationScope(apiVersion) ? { isolationScope } : {}),
    },
  });
}

/** The identity's service principal: a managed identity named after it, known by its id. */
async function createPrincipal(
  services: ArmServices,
  tx: Store,
  tenantId: string,
  id: string,
  name: string,
): Promise<Principal> {
  // A principal left behind under this id (a half-finished delete) must not be reused.
  const now = services.clock.now();
  const stale = await tx.principals.getByAlternativeName(id);
  if (stale !== undefined) await deletePrincipalEverywhere(tx, stale.objectId, now);
  const principal: Principal = {
    objectId: services.newId(),
    appId: services.newId(),
    tenantId,
    displayName: name,
    type: 'ManagedIdentity',
    alternativeNames: [id],
    enabled: true,
    createdAt: now,
    updatedAt: now,
  };
  await tx.principals.create(principal);
  return principal;
}

async function putIdentity(
  services: ArmServices,
  request: ArmRequest,
  ctx: { sub: Resource; group: string; name: string; apiVersion: string },
): Promise<ArmResponse> {
  const { sub, name, apiVersion } = ctx;
  const body = parseJsonObject(request.body);
  if (typeof body.location !== 'string' || body.location.trim() === '') throw locationRequired();
  const location = normaliseLocation(body.location);
  const tags = body.tags === undefined || body.tags === null ? {} : validateTags(body.tags);
  return retryOnConflict(() =>
    services.store.transaction(async (tx) => {
      const group = await requireGroup(tx, sub, ctx.group);
      const id = `${group.id}/providers/${UAI}/${name}`;
      const existing = await tx.resources.get(id);
      checkPreconditions(request, existing);
      if (existing !== undefined && existing.location !== location) {
        throw invalidResourceLocation(existing.name, existing.location ?? '', group.name, location);
      }
      const now = services.clock.now();
      let properties: IdentityProperties;
      if (existing === undefined) {
        const tenantId =
          (sub.properties as { tenantId?: string }).tenantId ??
          (await tx.tenants.getDefault())?.id ??
          '';
        const principal = await createPrincipal(services, tx, tenantId, id, name);
        properties = {
          tenantId: principal.tenantId,
          principalId: principal.objectId,
          clientId: principal.appId,
          isolationScope: isolationScopeOf(body, apiVersion, 'None'),
        };
      } else {
        const kept = propertiesOf(existing);
        properties = {
          ...kept,
          isolationScope: isolationScopeOf(body, apiVersion, kept.isolationScope),
        };
      }
      const identity: Resource = {
        id: existing?.id ?? id,
        type: UAI,
        name: existing?.name ?? name,
        subscriptionId: sub.subscriptionId,
        resourceGroup: group.name,
        location,
        tags,
        properties: { ...properties },
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      };
      const { created } = await tx.resources.put(identity, { ifMatch: existing?.etag ?? null });
      return { status: created ? 201 : 200, body: render(identity, apiVersion) };
    }),
  );
}

async function patchIdentity(
  services: ArmServices,
  request: ArmRequest,
  ctx: { sub: Resource; group: string; name: string; apiVersion: string },
): Promise<ArmResponse> {
  const body = parseJsonObject(request.body);
  const tags = body.tags === undefined || body.tags === null ? undefined : validateTags(body.tags);
  return retryOnConflict(() =>
    services.store.transaction(async (tx) => {
      const group = await requireGroup(tx, ctx.sub, ctx.group);
      const existing = await tx.resources.get(`${group.id}/providers/${UAI}/${ctx.name}`);
      checkPreconditions(request, existing?.type === UAI ? existing : undefined);
      if (existing?.type !== UAI) throw resourceNotFound(`${UAI}/${ctx.name}`, ctx.group);
      const kept = propertiesOf(existing);
      const identity: Resource = {
        ...existing,
        tags: tags ?? existing.tags,
        properties: {
          ...kept,
          isolationScope: isolationScopeOf(body, ctx.apiVersion, kept.isolationScope),
        },
        updatedAt: services.clock.now(),
      };
      await tx.resources.put(identity, { ifMatch: existing.etag ?? null });
      return { status: 200, body: render(identity, ctx.apiVersion) };
    }),
  );
}

/**
 * `GET`, `PUT`, `PATCH` and `DELETE` of
 * `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`
 * (PROTOCOL.md 4.2). PUT creates the identity and its service principal in one transaction (201),
 * or replaces its tags (200); DELETE removes the principal, its role assignments and attachments
 * with the identity (200), or answers 204 when there was none. Fails with ARM's codes:
 * `ResourceGroupNotFound`, `ResourceNotFound`, `InvalidResourceName`, `LocationRequired`,
 * `InvalidResourceLocation`, `InvalidRequestContent`, `AuthorizationFailed`.
 */
export async function handleIdentity(
  services: ArmServices,
  request: ArmRequest,
  route: { subscriptionId: string; group: string; name: string },
): Promise<ArmResponse> {
  const apiVersion = checkApiVersion(UAI, request.query);
  const sub = await requireSubscription(services, route.subscriptionId);
  const { group, name } = route;
  validateResourceName(UAI, name);
  const id = `${sub.id}/resourceGroups/${group}/providers/${UAI}/${name}`;
  const ctx = { sub, group, name, apiVersion };
  const { store } = services;
  switch (request.method) {
    case 'GET': {
      await authorize(services, request, READ, id);
      await requireGroup(store, sub, group);
      const found = await store.resources.get(id);
      if (found?.type !== UAI) throw resourceNotFound(`${UAI}/${name}`, group);
      return { status: 200, body: render(found, apiVersion) };
    }
    case 'PUT':
      await authorize(services, request, WRITE, id);
      await requireGroup(store, sub, group);
      return putIdentity(services, request, ctx);
    case 'PATCH':
      await authorize(services, request, WRITE, id);
      return patchIdentity(services, request, ctx);
    case 'DELETE': {
      await authorize(services, request, DELETE, id);
      const deleted = await store.transaction(async (tx) => {
        await requireGroup(tx, sub, group);
        const found = await tx.resources.get(id);
        if (found?.type !== UAI) return false;
        const { principalId } = propertiesOf(found);
        const now = services.clock.now();
        if (principalId !== '') await deletePrincipalEverywhere(tx, principalId, now);
        await deleteResourceTree(tx, found.id, now);
        return true;
      });
      return { status: deleted ? 200 : 204 };
    }
    default:
      throw methodNotAllowed(request.method);
  }
}

/**
 * `GET` of the identities of a subscription, or of one of its resource groups when `group` is
 * given, paged with `$top` and `$skipToken`; only those the caller may read are listed.
 */
export async function listIdentities(
  services: ArmServices,
  request: ArmRequest,
  route: { subscriptionId: string; group?: string },
): Promise<ArmResponse> {
  const apiVersion = checkApiVersion(UAI, request.query);
  if (request.method !== 'GET') throw methodNotAllowed(request.method);
  const sub = await requireSubscription(services, route.subscriptionId);
  const group =
    route.group === undefined ? undefined : await requireGroup(services.store, sub, route.group);
  return listReadable(
    services,
    request,
    {
      subscriptionId: sub.subscriptionId,
      type: UAI,
      ...(group === undefined ? {} : { resourceGroup: group.name }),
    },
    READ,
    (identity) => render(identity, apiVersion),
  );
}

const isIdentityType = (namespace: string | undefined, kind: string | undefined): boolean =>
  namespace?.toLowerCase() === NAMESPACE.toLowerCase() &&
  kind?.toLowerCase() === KIND.toLowerCase();

/**
 * `/subscriptions/{s}/providers/Microsoft.ManagedIdentity/userAssignedIdentities` and
 * `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.ManagedIdentity/userAssignedIdentities[/{name}]`.
 */
export const matchUserAssignedIdentities: RouteMatcher = (segments) => {
  const [first, sub, second, group, providers, namespace, kind, name] = segments;
  if (first?.toLowerCase() !== 'subscriptions' || sub === undefined) return undefined;
  const subscriptionId = decodeURIComponent(sub);
  if (segments.length === 5 && isIdentityType(group, providers)) {
    if (second?.toLowerCase() !== 'providers') return undefined;
    return (s, r) => listIdentities(s, r, { subscriptionId });
  }
  if (second?.toLowerCase() !== 'resourcegroups' || group === undefined) return undefined;
  if (providers?.toLowerCase() !== 'providers' || !isIdentityType(namespace, kind))
    return undefined;
  const groupName = decodeURIComponent(group);
  if (segments.length === 7)
    return (s, r) => listIdentities(s, r, { subscriptionId, group: groupName });
  if (segments.length === 8 && name !== undefined) {
    const route = { subscriptionId, group: groupName, name: decodeURIComponent(name) };
    return (s, r) => handleIdentity(s, r, route);
  }
  return undefined;
};
