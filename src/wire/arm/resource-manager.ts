// The bodies of ARM's own types (Microsoft.Resources): subscriptions, tenants, groups, generic resources, providers.
import type { Resource, Tenant } from '../../core/model.js';
import { RESOURCE_TYPES } from '../../core/resource-types.js';
import { armResource } from './envelope.js';
import type { ResourceExpand } from './resource-filter.js';

/** A subscription as `az login` reads it (PROTOCOL-TOOLS.md 3.2). */
export function renderSubscription(resource: Resource): unknown {
  const properties = resource.properties as { displayName?: string; tenantId?: string };
  return {
    id: resource.id,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
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

/** A tenant of `GET /tenants` (TenantIdDescription). */
export function renderTenant(tenant: Tenant): unknown {
  return {
    id: `/tenants/${tenant.id}`,
    tenantId: tenant.id,
    tenantCategory: 'Home',
    displayName: tenant.displayName,
    defaultDomain: `${tenant.id}.tessera.local`,
    domains: [],
  };
}

/** A resource group; `tags` only when it has some, as ARM shows it. */
export function renderResourceGroup(resource: Resource): unknown {
  return armResource({
    id: resource.id,
    name: resource.name,
    type: RESOURCE_TYPES.resourceGroups,
    location: resource.location ?? '',
    ...(Object.keys(resource.tags).length === 0 ? {} : { tags: resource.tags }),
    properties: { provisioningState: 'Succeeded' },
  });
}

/** One `GenericResourceExpanded` of `GET …/resources`, with what `$expand` asks. */
export function renderGenericResource(
  resource: Resource,
  expand: ResourceExpand,
  withTags: boolean,
): unknown {
  return {
    id: resource.id,
    name: resource.name,
    type: resource.type,
    ...(resource.location === null ? {} : { location: resource.location }),
    ...(withTags ? { tags: resource.tags } : {}),
    ...(expand.createdTime ? { createdTime: new Date(resource.createdAt).toISOString() } : {}),
    ...(expand.changedTime ? { changedTime: new Date(resource.updatedAt).toISOString() } : {}),
    ...(expand.provisioningState ? { provisioningState: 'Succeeded' } : {}),
  };
}

/** What `/providers` says of one type below a namespace. */
export interface ProviderTypeInput {
  /** Below the namespace: `virtualMachines/extensions`. */
  readonly resourceType: string;
  readonly apiVersions: readonly string[];
  readonly capabilities?: string | undefined;
}

/** ARM's api-version order in `/providers`: newest first (az takes the first non-preview). */
const newestFirst = (versions: readonly string[]): string[] =>
  [...versions].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));

/**
 * One provider as ARM shows it (PROTOCOL-TOOLS.md 4.2) at `scope` (`/` or a subscription): each
 * type with its api-versions newest first, the newest non-preview as `defaultApiVersion`, no
 * locations (Tessera serves every location name; see docs/compatibility.md), and a registration
 * state at a subscription only.
 */
export function renderProvider(
  namespace: string,
  scope: string,
  types: readonly ProviderTypeInput[],
): unknown {
  return {
    id: `${scope === '/' ? '' : scope}/providers/${namespace}`,
    namespace,
    ...(scope === '/'
      ? {}
      : { registrationState: 'Registered', registrationPolicy: 'RegistrationRequired' }),
    resourceTypes: types.map((type) => {
      const apiVersions = newestFirst(type.apiVersions);
      const stable = apiVersions.find((version) => !version.toLowerCase().includes('preview'));
      return {
        resourceType: type.resourceType,
        locations: [],
        apiVersions,
        ...(stable === undefined ? {} : { defaultApiVersion: stable }),
        ...(type.capabilities === undefined ? {} : { capabilities: type.capabilities }),
      };
    }),
  };
}
