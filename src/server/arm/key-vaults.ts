// Key vaults (Microsoft.KeyVault/vaults) on the ARM surface: RBAC-only vaults with their data-plane URI.
import { AppError, isAppError, methodNotAllowed } from '../../core/errors.js';
import type { Resource } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import { deleteResourceTree } from '../../core/resources/identity-lifecycle.js';
import {
  armError,
  armResource,
  checkApiVersion,
  invalidResourceLocation,
  locationRequired,
  parseJsonObject,
  resourceNotFound,
  validateTags,
} from '../../wire/arm/index.js';
import {
  type ArmRequest,
  type ArmResponse,
  type ArmServices,
  authorize,
  checkPreconditions,
  decodeSegments,
  isKeyword,
  retryOnConflict,
  type RouteMatcher,
} from './context.js';
import { listReadable } from './list.js';
import { normaliseLocation, requireGroup, requireSubscription } from './resource-groups.js';

const NAMESPACE = 'Microsoft.KeyVault';
const KIND = 'vaults';
const VAULTS = `${NAMESPACE}/${KIND}`;
const READ = `${VAULTS}/read`;
const WRITE = `${VAULTS}/write`;
const DELETE = `${VAULTS}/delete`;
const SKU_NAMES = ['standard', 'premium'] as const;
/** 3-24 alphanumerics and hyphens, a letter first, a letter or digit last, no `--`. */
const VAULT_NAME = /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;

/** A vault's `sku`. */
interface VaultSku {
  readonly family: string;
  readonly name: string;
}

/** What Tessera keeps in a vault's `properties`. */
interface VaultProperties {
  readonly tenantId: string;
  readonly sku: VaultSku;
}

/**
 * ARM's `VaultNameNotValid` (400), word for word.
 * Source: https://github.com/cristianoag/microsoft-teams-apps-company-communicator/issues/28,
 * https://github.com/Azure-Samples/azure-django-postgres-flexible-aca/pull/30.
 */
export function vaultNameNotValid(name: string): AppError {
  return armError(
    'VaultNameNotValid',
    `The vault name '${name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens. Follow this link for more information: https://go.microsoft.com/fwlink/?linkid=2147742`,
  );
}

/** `InvalidParameter` (400) at `target`, with Tessera's text. */
const invalidParameter = (target: string, message: string): AppError =>
  armError('InvalidParameter', message, { target });

/** Tessera's refusal of access-policy vaults: every vault authorizes with Azure RBAC. */
const accessPoliciesUnsupported = (target: string): AppError =>
  invalidParameter(
    target,
    `Access policies are not supported: Tessera's key vaults always use Azure RBAC ('properties.enableRbacAuthorization' is true).`,
  );

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The body's `properties` ({} when absent), or `InvalidParameter`. */
function bodyProperties(body: Record<string, unknown>): Record<string, unknown> {
  const { properties } = body;
  if (properties === undefined || properties === null) return {};
  if (!isObject(properties)) {
    throw invalidParameter('properties', `The value of property 'properties' must be an object.`);
  }
  return properties;
}

/** Refuses `enableRbacAuthorization: false` and any access policy. */
function requireRbac(properties: Record<string, unknown>): void {
  const rbac = properties.enableRbacAuthorization;
  if (rbac !== undefined && rbac !== null && rbac !== true) {
    throw accessPoliciesUnsupported('properties.enableRbacAuthorization');
  }
  const policies = properties.accessPolicies;
  if (policies !== undefined && policies !== null) {
    if (!Array.isArray(policies) || policies.length > 0) {
      throw accessPoliciesUnsupported('properties.accessPolicies');
    }
  }
}

/** `properties.sku` as sent (name case-normalised), else `fallback`. */
function skuOf(properties: Record<string, unknown>, fallback: VaultSku): VaultSku {
  const { sku } = properties;
  if (sku === undefined || sku === null) return fallback;
  const given = isObject(sku) ? sku.name : undefined;
  const name = SKU_NAMES.find(
    (known) => typeof given === 'string' && known === given.toLowerCase(),
  );
  if (!isObject(sku) || name === undefined) {
    throw invalidParameter(
      'properties.sku.name',
      `The value of property 'properties.sku.name' is invalid. Allowed values are 'standard' and 'premium'.`,
    );
  }
  if (sku.family !== undefined && sku.family !== null && sku.family !== 'A') {
    throw invalidParameter(
      'properties.sku.family',
      `The value of property 'properties.sku.family' is invalid. The only allowed value is 'A'.`,
    );
  }
  return { family: 'A', name };
}

/** `properties.tenantId` as sent, else `fallback`. */
function tenantOf(properties: Record<string, unknown>, fallback: string): string {
  const { tenantId } = properties;
  if (tenantId === undefined || tenantId === null) return fallback;
  if (typeof tenantId !== 'string' || tenantId.trim() === '') {
    throw invalidParameter(
      'properties.tenantId',
      `The value of property 'properties.tenantId' must be a tenant id.`,
    );
  }
  return tenantId;
}

function propertiesOf(resource: Resource): VaultProperties {
  const p = resource.properties as Partial<VaultProperties>;
  return { tenantId: p.tenantId ?? '', sku: p.sku ?? { family: 'A', name: 'standard' } };
}

const vaultUri = (services: ArmServices, name: string): string =>
  services.vaultUriFor?.(name) ?? `https://${name.toLowerCase()}.vault.azure.net/`;

/** The vault body: RBAC authorization always, the data-plane URI, provisioned. */
function render(services: ArmServices, resource: Resource): unknown {
  const { tenantId, sku } = propertiesOf(resource);
  return armResource({
    id: resource.id,
    name: resource.name,
    type: VAULTS,
    location: resource.location ?? '',
    tags: resource.tags,
    properties: {
      sku,
      tenantId,
      accessPolicies: [],
      enableRbacAuthorization: true,
      vaultUri: vaultUri(services, resource.name),
      provisioningState: 'Succeeded',
    },
  });
}

interface VaultContext {
  readonly sub: Resource;
  readonly group: string;
  readonly name: string;
}

async function putVault(
  services: ArmServices,
  request: ArmRequest,
  ctx: VaultContext,
): Promise<ArmResponse> {
  const { sub, name } = ctx;
  const body = parseJsonObject(request.body);
  if (typeof body.location !== 'string' || body.location.trim() === '') throw locationRequired();
  const location = normaliseLocation(body.location);
  const tags = body.tags === undefined || body.tags === null ? {} : validateTags(body.tags);
  const given = bodyProperties(body);
  requireRbac(given);
  return retryOnConflict(() =>
    services.store.transaction(async (tx) => {
      const group = await requireGroup(tx, sub, ctx.group);
      const id = `${group.id}/providers/${VAULTS}/${name}`;
      const existing = await tx.resources.get(id);
      checkPreconditions(request, existing);
      if (existing !== undefined && existing.location !== location) {
        throw invalidResourceLocation(existing.name, existing.location ?? '', group.name, location);
      }
      if (existing === undefined) await requireFreeName(tx, name);
      const kept = existing === undefined ? undefined : propertiesOf(existing);
      const properties: VaultProperties = {
        tenantId: tenantOf(given, kept?.tenantId ?? request.caller.tenantId),
        sku: skuOf(given, kept?.sku ?? { family: 'A', name: 'standard' }),
      };
      const now = services.clock.now();
      const vault: Resource = {
        id: existing?.id ?? id,
        type: VAULTS,
        name: existing?.name ?? name,
        subscriptionId: sub.subscriptionId,
        resourceGroup: group.name,
        location,
        tags,
        properties: { ...properties },
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      };
      const { created } = await putNewVault(tx, vault, existing?.etag ?? null);
      return { status: created ? 201 : 200, body: render(services, vault) };
    }),
  );
}

/**
 * Vault names are global (they are DNS names under the data plane's suffix): a new vault may not
 * take a name any vault has, in any subscription, whatever its case: 409 `VaultAlreadyExists` in
 * ARM's words (recorded in an ARM deployment error, Azure/ARO-HCP e2e logs, and in Microsoft's
 * dev center docs). One indexed seek; the store's unique index on the name settles a race
 * between replicas, which {@link putNewVault} reports the same way.
 */
async function requireFreeName(store: Store, name: string): Promise<void> {
  const taken = await store.resources.list({ type: VAULTS, name }, { limit: 1 });
  if (taken.items.length > 0) throw vaultNameTaken(name);
}

function vaultNameTaken(name: string): AppError {
  return new AppError(
    'Conflict',
    `The vault name '${name}' is already in use. Vault names are globally unique so it is possible that the name is already taken.`,
    { status: 409, wire: { arm: 'VaultAlreadyExists' } },
  );
}

/** Writes a vault; a new one whose name another writer took meanwhile is `VaultAlreadyExists`. */
async function putNewVault(
  store: Store,
  vault: Resource,
  etag: string | null,
): Promise<{ created: boolean }> {
  try {
    return await store.resources.put(vault, { ifMatch: etag });
  } catch (error) {
    if (etag === null && isAppError(error) && error.code === 'Conflict') {
      throw vaultNameTaken(vault.name);
    }
    throw error;
  }
}

async function patchVault(
  services: ArmServices,
  request: ArmRequest,
  ctx: VaultContext,
): Promise<ArmResponse> {
  const body = parseJsonObject(request.body);
  const tags = body.tags === undefined || body.tags === null ? undefined : validateTags(body.tags);
  const given = bodyProperties(body);
  requireRbac(given);
  return retryOnConflict(() =>
    services.store.transaction(async (tx) => {
      const group = await requireGroup(tx, ctx.sub, ctx.group);
      const existing = await tx.resources.get(`${group.id}/providers/${VAULTS}/${ctx.name}`);
      checkPreconditions(request, existing?.type === VAULTS ? existing : undefined);
      if (existing?.type !== VAULTS) throw resourceNotFound(`${VAULTS}/${ctx.name}`, ctx.group);
      const kept = propertiesOf(existing);
      const properties: VaultProperties = {
        tenantId: tenantOf(given, kept.tenantId),
        sku: skuOf(given, kept.sku),
      };
      const vault: Resource = {
        ...existing,
        tags: tags ?? existing.tags,
        properties: { ...properties },
        updatedAt: services.clock.now(),
      };
      await tx.resources.put(vault, { ifMatch: existing.etag ?? null });
      return { status: 200, body: render(services, vault) };
    }),
  );
}

/**
 * `GET`, `PUT`, `PATCH` and `DELETE` of
 * `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.KeyVault/vaults/{name}`. PUT creates
 * the vault (201) or replaces its tags, tenant and sku (200); PATCH updates them; DELETE answers
 * 200, or 204 when there was none. Vaults always use Azure RBAC. Fails with ARM's codes:
 * `ResourceGroupNotFound`, `ResourceNotFound`, `VaultNameNotValid`, `LocationRequired`,
 * `InvalidResourceLocation`, `InvalidParameter`, `InvalidRequestContent`, `AuthorizationFailed`.
 */
export async function handleVault(
  services: ArmServices,
  request: ArmRequest,
  route: { subscriptionId: string; group: string; name: string },
): Promise<ArmResponse> {
  checkApiVersion(VAULTS, request.query);
  const sub = await requireSubscription(services, route.subscriptionId);
  const { group, name } = route;
  const id = `${sub.id}/resourceGroups/${group}/providers/${VAULTS}/${name}`;
  const ctx = { sub, group, name };
  const { store } = services;
  switch (request.method) {
    case 'GET': {
      await authorize(services, request, READ, id);
      await requireGroup(store, sub, group);
      const found = await store.resources.get(id);
      if (found?.type !== VAULTS) throw resourceNotFound(`${VAULTS}/${name}`, group);
      return { status: 200, body: render(services, found) };
    }
    case 'PUT':
      if (!VAULT_NAME.test(name)) throw vaultNameNotValid(name);
      await authorize(services, request, WRITE, id);
      await requireGroup(store, sub, group);
      return putVault(services, request, ctx);
    case 'PATCH':
      await authorize(services, request, WRITE, id);
      return patchVault(services, request, ctx);
    case 'DELETE': {
      await authorize(services, request, DELETE, id);
      const deleted = await store.transaction(async (tx) => {
        await requireGroup(tx, sub, group);
        const found = await tx.resources.get(id);
        if (found?.type !== VAULTS) return false;
        await deleteResourceTree(tx, found.id, services.clock.now());
        return true;
      });
      return { status: deleted ? 200 : 204 };
    }
    default:
      throw methodNotAllowed(request.method);
  }
}

/**
 * `GET` of the vaults of a subscription, or of one of its resource groups when `group` is given,
 * paged with `$top` and `$skipToken`; only those the caller may read are listed.
 */
export async function listVaults(
  services: ArmServices,
  request: ArmRequest,
  route: { subscriptionId: string; group?: string },
): Promise<ArmResponse> {
  checkApiVersion(VAULTS, request.query);
  if (request.method !== 'GET') throw methodNotAllowed(request.method);
  const sub = await requireSubscription(services, route.subscriptionId);
  const group =
    route.group === undefined ? undefined : await requireGroup(services.store, sub, route.group);
  return listReadable(
    services,
    request,
    {
      subscriptionId: sub.subscriptionId,
      type: VAULTS,
      ...(group === undefined ? {} : { resourceGroup: group.name }),
    },
    READ,
    (vault) => render(services, vault),
  );
}

/**
 * `/subscriptions/{s}/providers/Microsoft.KeyVault/vaults` and
 * `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.KeyVault/vaults[/{name}]`.
 */
export const matchKeyVaults: RouteMatcher = (segments) => {
  const decoded = decodeSegments(segments);
  if (decoded === undefined) return undefined;
  const [first, subscriptionId, third, group] = decoded;
  if (!isKeyword(first, 'subscriptions') || subscriptionId === undefined) return undefined;
  const vaultType = (offset: number): boolean =>
    isKeyword(decoded[offset], 'providers') &&
    isKeyword(decoded[offset + 1], NAMESPACE) &&
    isKeyword(decoded[offset + 2], KIND);
  if (decoded.length === 5 && vaultType(2)) return (s, r) => listVaults(s, r, { subscriptionId });
  if (!isKeyword(third, 'resourceGroups') || group === undefined || !vaultType(4)) {
    return undefined;
  }
  if (decoded.length === 7) return (s, r) => listVaults(s, r, { subscriptionId, group });
  const name = decoded[7];
  if (decoded.length === 8 && name !== undefined) {
    return (s, r) => handleVault(s, r, { subscriptionId, group, name });
  }
  return undefined;
};
