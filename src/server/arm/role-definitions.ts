// Role definitions (read, list) on the ARM surface, and the scope rules role assignments share.
import { type AppError, methodNotAllowed, notFound } from '../../core/errors.js';
import type { RoleDefinition } from '../../core/model.js';
import { parseScope as parseRbacScope } from '../../core/rbac/index.js';
import {
  armError,
  checkApiVersion,
  isGuid,
  listPage,
  parseScope as parseArmScope,
} from '../../wire/arm/index.js';
import { type ArmRequest, type ArmResponse, type ArmServices, authorize } from './context.js';
import { groupNotFound, requireSubscription } from './resource-groups.js';

const DEFINITIONS = 'Microsoft.Authorization/roleDefinitions';
const DEFINITION_READ = 'Microsoft.Authorization/roleDefinitions/read';
const GROUPS = 'Microsoft.Resources/resourceGroups';
const DEFINITIONS_SEGMENT = '/providers/Microsoft.Authorization/roleDefinitions/';

/**
 * ARM's `RoleDefinitionDoesNotExist`: "The specified role definition with ID '…' does not exist."
 * 404 on a definition read, 400 when an assignment names it. Source:
 * https://github.com/Azure/terraform-azurerm-caf-enterprise-scale (wiki troubleshooting page).
 */
export function roleDefinitionDoesNotExist(id: string, status: 400 | 404): AppError {
  return armError(
    'RoleDefinitionDoesNotExist',
    `The specified role definition with ID '${id}' does not exist.`,
    { status },
  );
}

/** ARM's `UnsupportedQuery` (400) for a `$filter` Tessera does not evaluate. */
export function unsupportedQuery(filter: string, supported: string): AppError {
  return armError(
    'UnsupportedQuery',
    `The filter '${filter}' is not supported. Supported filters are either ${supported}.`,
  );
}

/**
 * Checks that `scope` (from the request path, `/` for the tenant root) names something that
 * exists and returns it in the store's case, without a trailing slash: the root always; a
 * subscription (`InvalidSubscriptionId` 400, `SubscriptionNotFound` 404); a resource group
 * (`ResourceGroupNotFound` 404); a resource (`ResourceNotFound` 404). Tenant-level resources
 * other than the root (management groups) are not served: `ResourceNotFound`.
 */
export async function requireScope(services: ArmServices, scope: string): Promise<string> {
  const parsed = parseArmScope(scope, { validateNames: false });
  if (parsed.kind === 'tenant') return '/';
  const resourceMissing = (): AppError =>
    notFound(
      `The Resource '${parsed.fullType}/${parsed.names.join('/')}' under resource group '${parsed.resourceGroup ?? ''}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      { wire: { arm: 'ResourceNotFound' } },
    );
  if (parsed.subscriptionId === undefined) throw resourceMissing();
  const sub = await requireSubscription(services, parsed.subscriptionId);
  if (parsed.kind === 'subscription') return sub.id;
  const groupName = parsed.resourceGroup ?? '';
  const group = await services.store.resources.get(`${sub.id}/resourceGroups/${groupName}`);
  if (group?.type !== GROUPS) throw groupNotFound(groupName);
  if (parsed.kind === 'resourceGroup') return group.id;
  const resource = await services.store.resources.get(parsed.id);
  if (resource !== undefined) return resource.id;
  // A vault's secret (key, certificate) is a scope though not an ARM resource: its vault must exist.
  const vaultObject =
    /^(.*\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+)\/(secrets|keys|certificates)\/([^/]+)$/i.exec(
      parsed.id,
    );
  const vault =
    vaultObject?.[1] === undefined ? undefined : await services.store.resources.get(vaultObject[1]);
  if (vault?.type !== 'Microsoft.KeyVault/vaults') throw resourceMissing();
  return `${vault.id}/${vaultObject?.[2]?.toLowerCase() ?? ''}/${vaultObject?.[3] ?? ''}`;
}

/** True when `scope` is one of the definition's assignable scopes or below one. */
export function isAssignableAt(definition: RoleDefinition, scope: string): boolean {
  const key = parseRbacScope(scope).key;
  return definition.assignableScopes.some((assignable) => {
    const at = parseRbacScope(assignable).key;
    return at === '/' || key === at || key.startsWith(`${at}/`);
  });
}

/**
 * A definition's id as ARM shows it at `scope`: under a subscription,
 * `/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}`; elsewhere the
 * tenant form `/providers/…` (GetRoleDefinitionById.json, azure-rest-api-specs 2022-04-01).
 */
export function roleDefinitionIdAt(guid: string, scope: string): string {
  const { subscriptionId } = parseRbacScope(scope);
  const prefix = subscriptionId === null ? '' : `/subscriptions/${subscriptionId}`;
  return `${prefix}${DEFINITIONS_SEGMENT}${guid.toLowerCase()}`;
}

function renderDefinition(definition: RoleDefinition, scope: string): unknown {
  return {
    properties: {
      roleName: definition.roleName,
      type: definition.type,
      description: definition.description,
      assignableScopes: definition.assignableScopes,
      permissions: definition.permissions.map((p) => ({
        actions: p.actions,
        notActions: p.notActions,
        dataActions: p.dataActions,
        notDataActions: p.notDataActions,
      })),
      createdOn: new Date(definition.createdAt).toISOString(),
      updatedOn: new Date(definition.updatedAt).toISOString(),
      createdBy: null,
      updatedBy: null,
    },
    id: roleDefinitionIdAt(definition.id, scope),
    type: DEFINITIONS,
    name: definition.id,
  };
}

/**
 * `GET {scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}`: needs
 * `roleDefinitions/read` at the scope; a definition not assignable there does not exist there.
 */
export async function getRoleDefinition(
  services: ArmServices,
  request: ArmRequest,
  scopePath: string,
  name: string,
): Promise<ArmResponse> {
  checkApiVersion(DEFINITIONS, request.query);
  // Custom roles are not written through ARM here (docs/compatibility.md).
  if (request.method !== 'GET') throw methodNotAllowed(request.method);
  await authorize(services, request, DEFINITION_READ, scopePath);
  const scope = await requireScope(services, scopePath);
  const found = isGuid(name)
    ? await services.store.roles.getDefinition(name.toLowerCase())
    : undefined;
  if (found === undefined || !isAssignableAt(found, scope)) {
    throw roleDefinitionDoesNotExist(name, 404);
  }
  return { status: 200, body: renderDefinition(found, scope) };
}

const DEFINITION_FILTERS = "'roleName eq '{value}'' or 'type eq '{value}''";

function readFilter(request: ArmRequest): string | undefined {
  const entry = Object.entries(request.query).find(([k]) => k.toLowerCase() === '$filter');
  const value = entry?.[1];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The `$filter` of a request (name in any case), undefined when absent or empty. */
export function filterOf(request: ArmRequest): string | undefined {
  const value = readFilter(request)?.trim();
  return value === '' ? undefined : value;
}

/**
 * `GET {scope}/providers/Microsoft.Authorization/roleDefinitions[?$filter=roleName eq '…']`:
 * every definition assignable at the scope (built-ins, assignable at `/`, everywhere), optionally
 * by `roleName eq` or `type eq` (case-insensitive); one page.
 */
export async function listRoleDefinitions(
  services: ArmServices,
  request: ArmRequest,
  scopePath: string,
): Promise<ArmResponse> {
  checkApiVersion(DEFINITIONS, request.query);
  if (request.method !== 'GET') throw methodNotAllowed(request.method);
  await authorize(services, request, DEFINITION_READ, scopePath);
  const scope = await requireScope(services, scopePath);
  const filter = filterOf(request);
  let keep: (definition: RoleDefinition) => boolean = () => true;
  if (filter !== undefined) {
    const match = /^(roleName|type)\s+eq\s+'(.*)'$/i.exec(filter);
    if (match === null) throw unsupportedQuery(filter, DEFINITION_FILTERS);
    const field = (match[1] ?? '').toLowerCase() === 'type' ? 'type' : 'roleName';
    const value = (match[2] ?? '').toLowerCase();
    keep = (definition) => definition[field].toLowerCase() === value;
  }
  const definitions = await services.store.roles.listDefinitions();
  const visible = definitions
    .filter((definition) => isAssignableAt(definition, scope) && keep(definition))
    .map((definition) => renderDefinition(definition, scope));
  return { status: 200, body: listPage(visible, { requestUrl: request.url }) };
}
