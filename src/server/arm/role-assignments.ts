// Role assignments (create, read, list, delete) at any scope, and the Microsoft.Authorization routes.
import { noteIdentityChanged } from '../../core/resources/change-feed.js';
import {
  type AppError,
  conflict,
  isAppError,
  methodNotAllowed,
  notFound,
} from '../../core/errors.js';
import type { RoleAssignment } from '../../core/model.js';
import { parseRoleDefinitionId, parseScope as parseRbacScope } from '../../core/rbac/index.js';
import {
  armError,
  checkApiVersion,
  isGuid,
  listPage,
  parseJsonObject,
  parseListQuery,
} from '../../wire/arm/index.js';
import {
  type ArmHandler,
  type ArmRequest,
  type ArmResponse,
  type ArmServices,
  authorize,
  decodeSegments,
  isKeyword,
  type RouteMatcher,
} from './context.js';
import { listPermissions } from './permissions.js';
import {
  filterOf,
  getRoleDefinition,
  isAssignableAt,
  listRoleDefinitions,
  requireScope,
  roleDefinitionDoesNotExist,
  roleDefinitionIdAt,
  unsupportedQuery,
} from './role-definitions.js';

const ASSIGNMENTS = 'Microsoft.Authorization/roleAssignments';
const ASSIGNMENT_READ = 'Microsoft.Authorization/roleAssignments/read';
const ASSIGNMENT_WRITE = 'Microsoft.Authorization/roleAssignments/write';
const ASSIGNMENT_DELETE = 'Microsoft.Authorization/roleAssignments/delete';
/** Every Tessera principal is a service principal (an application or a managed identity). */
const SERVICE_PRINCIPAL = 'ServicePrincipal';
const ASSIGNMENT_FILTERS = "'atScope()' or 'principalId eq '{value}' or assignedTo('{value}')'";
/** Assignments read per scope above the listed one: far more than any real scope holds. */
const ABOVE_LIMIT = 1000;

/**
 * `InvalidRoleAssignmentId` (400). Source:
 * https://github.com/Azure/azure-service-operator/issues/2586 (a DELETE answered this way).
 */
function invalidRoleAssignmentId(name: string): AppError {
  return armError(
    'InvalidRoleAssignmentId',
    `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`,
  );
}

/** `RoleAssignmentNotFound` (404). Source: terraform-azurerm-caf-enterprise-scale wiki. */
function roleAssignmentNotFound(name: string): AppError {
  return notFound(`The role assignment '${name}' is not found.`, {
    wire: { arm: 'RoleAssignmentNotFound' },
  });
}

/** `RoleAssignmentExists` (409). Source: Azure-Samples/azure-search-openai-demo#1091. */
function roleAssignmentExists(cause?: unknown): AppError {
  return conflict('The role assignment already exists.', {
    wire: { arm: 'RoleAssignmentExists' },
    cause,
  });
}

/**
 * `RoleAssignmentUpdateNotPermitted` (400, as deployments report it). Source:
 * https://github.com/Azure/Azure-Landing-Zones/issues/2040.
 */
function updateNotPermitted(): AppError {
  return armError(
    'RoleAssignmentUpdateNotPermitted',
    'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.',
  );
}

/** `InvalidPrincipalId` (400). Source: https://github.com/Azure/azure-powershell/issues/16627. */
function invalidPrincipalId(id: string): AppError {
  return armError(
    'InvalidPrincipalId',
    `The Principal ID '${id}' is not valid. Principal ID must be a GUID.`,
  );
}

/** `PrincipalNotFound` (400). Source: https://github.com/Azure/avdaccelerator/issues/99. */
function principalNotFound(id: string, tenantId: string): AppError {
  return armError(
    'PrincipalNotFound',
    `Principal ${id.replaceAll('-', '')} does not exist in the directory ${tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
  );
}

/**
 * `UnmatchedPrincipalType` (400), ARM's text with its typo and stray space kept. Source:
 * https://github.com/Azure/azure-dev/issues/5814.
 */
function unmatchedPrincipalType(id: string, given: string): AppError {
  return armError(
    'UnmatchedPrincipalType',
    `The PrincipalId '${id}' has type '${SERVICE_PRINCIPAL}' , which is different from specified PrinciaplType '${given}'.`,
  );
}

const assignmentId = (scope: string, name: string): string =>
  `${scope === '/' ? '' : scope}/providers/${ASSIGNMENTS}/${name}`;

const scopeKey = (scope: string): string => parseRbacScope(scope).key;

function render(assignment: RoleAssignment): unknown {
  const at = new Date(assignment.createdAt).toISOString();
  return {
    properties: {
      roleDefinitionId: roleDefinitionIdAt(assignment.roleDefinitionId, assignment.scope),
      principalId: assignment.principalId,
      principalType: assignment.principalType,
      scope: assignment.scope,
      condition: null,
      conditionVersion: null,
      createdOn: at,
      updatedOn: at,
      createdBy: assignment.createdBy,
      updatedBy: assignment.createdBy,
      delegatedManagedIdentityResourceId: null,
      description: null,
    },
    id: assignmentId(assignment.scope, assignment.id),
    type: ASSIGNMENTS,
    name: assignment.id,
  };
}

/**
 * `InvalidRoleDefinitionId` (400): `properties.roleDefinitionId` is not a role definition id.
 * Source: https://github.com/hashicorp/terraform-provider-azurerm/issues/8547 (code and text).
 */
function invalidRoleDefinitionId(id: string): AppError {
  return armError('InvalidRoleDefinitionId', `The role definition ID '${id}' is not valid.`);
}

/** The assignment `name` if it sits at exactly `scope`. */
async function findAt(
  services: ArmServices,
  scope: string,
  name: string,
): Promise<RoleAssignment | undefined> {
  const found = await services.store.roles.getAssignment(name.toLowerCase());
  return found !== undefined && scopeKey(found.scope) === scopeKey(scope) ? found : undefined;
}

function stringProperty(properties: Record<string, unknown>, name: string): string | undefined {
  const value = properties[name];
  return typeof value === 'string' ? value : undefined;
}

async function putAssignment(
  services: ArmServices,
  request: ArmRequest,
  scope: string,
  name: string,
): Promise<ArmResponse> {
  const body = parseJsonObject(request.body);
  const raw = body.properties;
  const properties =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? (raw as Record<string, unknown>)
      : {};
  const roleText = stringProperty(properties, 'roleDefinitionId') ?? '';
  const guid = parseRoleDefinitionId(roleText);
  // An id that is no role definition id at all is refused before any lookup.
  if (guid === undefined) throw invalidRoleDefinitionId(roleText);
  const definition = await services.store.roles.getDefinition(guid);
  if (definition === undefined || !isAssignableAt(definition, scope)) {
    throw roleDefinitionDoesNotExist(roleText, 400);
  }
  const principalId = stringProperty(properties, 'principalId') ?? '';
  if (!isGuid(principalId)) throw invalidPrincipalId(principalId);
  const principal = await services.store.principals.get(principalId.toLowerCase());
  if (principal === undefined) throw principalNotFound(principalId, request.caller.tenantId);
  const principalType = properties.principalType;
  if (
    principalType !== undefined &&
    principalType !== null &&
    principalType !== SERVICE_PRINCIPAL
  ) {
    throw unmatchedPrincipalType(
      principal.objectId,
      JSON.stringify(principalType).replaceAll('"', ''),
    );
  }
  if (properties.condition !== undefined && properties.condition !== null) {
    // Tessera's evaluator has no ABAC: granting without the condition would grant too much.
    throw armError(
      'InvalidRoleAssignmentRequest',
      'Role assignment conditions are not supported by Tessera.',
    );
  }

  const existing = await services.store.roles.getAssignment(name.toLowerCase());
  if (existing !== undefined) {
    const same =
      scopeKey(existing.scope) === scopeKey(scope) &&
      existing.principalId === principal.objectId &&
      existing.roleDefinitionId.toLowerCase() === definition.id.toLowerCase();
    if (!same) throw updateNotPermitted();
    return { status: 200, body: render(existing) };
  }
  const duplicate = await services.store.roles.listAssignments(
    { principalId: principal.objectId, scope, roleDefinitionId: definition.id },
    { limit: 1 },
  );
  if (duplicate.items.length > 0) throw roleAssignmentExists();
  const assignment: RoleAssignment = {
    id: name.toLowerCase(),
    scope,
    roleDefinitionId: definition.id,
    principalId: principal.objectId,
    principalType: SERVICE_PRINCIPAL,
    createdAt: services.clock.now(),
    createdBy: request.caller.objectId,
  };
  try {
    await services.store.transaction(async (tx) => {
      await tx.roles.createAssignment(assignment);
      // Agents drop tokens cached for the principal's VMs when its roles change.
      await noteIdentityChanged(tx, assignment.createdAt, assignment.principalId);
    });
  } catch (error) {
    // A concurrent PUT won the race: same answer as a duplicate found above.
    if (isAppError(error) && error.code === 'Conflict') throw roleAssignmentExists(error);
    throw error;
  }
  return { status: 201, body: render(assignment) };
}

/**
 * `PUT`, `GET` and `DELETE` of `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`
 * (PROTOCOL.md 4.5). The name must be a GUID (`InvalidRoleAssignmentId`); the caller needs
 * `roleAssignments/write`, `/read` or `/delete` at the scope. PUT answers 201 on create, 200 for
 * an identical repeat, `RoleAssignmentUpdateNotPermitted` for a changed one, `RoleAssignmentExists`
 * (409) for the same principal, role and scope under another name. DELETE answers 200 with the
 * deleted assignment, or 204 when there is none.
 */
export async function handleRoleAssignment(
  services: ArmServices,
  request: ArmRequest,
  scopePath: string,
  name: string,
): Promise<ArmResponse> {
  checkApiVersion(ASSIGNMENTS, request.query);
  if (!isGuid(name)) throw invalidRoleAssignmentId(name);
  switch (request.method) {
    case 'GET': {
      await authorize(services, request, ASSIGNMENT_READ, scopePath);
      const scope = await requireScope(services, scopePath);
      const found = await findAt(services, scope, name);
      if (found === undefined) throw roleAssignmentNotFound(name);
      return { status: 200, body: render(found) };
    }
    case 'PUT': {
      await authorize(services, request, ASSIGNMENT_WRITE, scopePath);
      const scope = await requireScope(services, scopePath);
      return putAssignment(services, request, scope, name);
    }
    case 'DELETE': {
      await authorize(services, request, ASSIGNMENT_DELETE, scopePath);
      // No existence check on the scope: assignments left on a deleted resource stay removable.
      const found = await findAt(services, parseRbacScope(scopePath).scope, name);
      const deleted =
        found !== undefined &&
        (await services.store.transaction(async (tx) => {
          if (!(await tx.roles.deleteAssignment(found.id))) return false;
          await noteIdentityChanged(tx, services.clock.now(), found.principalId);
          return true;
        }));
      if (!deleted) return { status: 204 };
      return { status: 200, body: render(found) };
    }
    default:
      throw methodNotAllowed(request.method);
  }
}

interface AssignmentFilter {
  readonly atScope: boolean;
  readonly principalId?: string;
}

/**
 * ARM's filters: `atScope()` (at or above the scope), `principalId eq '{id}'` and
 * `assignedTo('{id}')` (at, above or below, for one principal; Tessera has no groups, so the
 * two are the same), and `atScope() and assignedTo('{id}')`. Anything else is `UnsupportedQuery`
 * (https://learn.microsoft.com/rest/api/authorization/role-assignments/list-for-scope;
 * the text as captured in turbot/steampipe-plugin-azure).
 */
function parseAssignmentFilter(filter: string | undefined): AssignmentFilter {
  if (filter === undefined) return { atScope: false };
  let atScope = false;
  let principalId: string | undefined;
  let byPrincipalEq = false;
  for (const term of filter.split(/\s+and\s+/i)) {
    const eq = /^principalId\s+eq\s+'([^']*)'$/i.exec(term);
    const to = /^assignedTo\('([^']*)'\)$/i.exec(term);
    if (/^atScope\(\)$/i.test(term) && !atScope) atScope = true;
    else if (eq !== null && principalId === undefined) {
      principalId = eq[1];
      byPrincipalEq = true;
    } else if (to !== null && principalId === undefined) principalId = to[1];
    else throw unsupportedQuery(filter, ASSIGNMENT_FILTERS);
  }
  // ARM refuses `atScope() and principalId eq` (azure-powershell PR 20433).
  if (atScope && byPrincipalEq) throw unsupportedQuery(filter, ASSIGNMENT_FILTERS);
  return { atScope, ...(principalId === undefined ? {} : { principalId }) };
}

/**
 * `GET {scope}/providers/Microsoft.Authorization/roleAssignments[?$filter=…]`: needs
 * `roleAssignments/read` at the scope. Without a filter, the assignments at, above and below the
 * scope. The first page holds those above the scope; the rest pages through the scope and below
 * with the store's cursor as `$skipToken`.
 */
export async function listRoleAssignments(
  services: ArmServices,
  request: ArmRequest,
  scopePath: string,
): Promise<ArmResponse> {
  checkApiVersion(ASSIGNMENTS, request.query);
  if (request.method !== 'GET') throw methodNotAllowed(request.method);
  const filter = parseAssignmentFilter(filterOf(request));
  const { top, skipToken } = parseListQuery(request.query);
  await authorize(services, request, ASSIGNMENT_READ, scopePath);
  const scope = await requireScope(services, scopePath);
  const { roles } = services.store;
  const ancestors = parseRbacScope(scope).ancestors;
  const items: RoleAssignment[] = [];
  if (skipToken === undefined) {
    const above = filter.atScope ? ancestors : ancestors.slice(0, -1);
    if (filter.principalId !== undefined) {
      items.push(...(await roles.listAssignmentsForPrincipalAtScopes([filter.principalId], above)));
    } else {
      for (const at of above) {
        items.push(...(await roles.listAssignments({ scope: at }, { limit: ABOVE_LIMIT })).items);
      }
    }
  }
  let next: string | undefined;
  if (!filter.atScope) {
    const page = await roles.listAssignments(
      {
        scopeUnder: scope,
        ...(filter.principalId === undefined ? {} : { principalId: filter.principalId }),
      },
      { limit: top ?? 1000, ...(skipToken === undefined ? {} : { cursor: skipToken }) },
    );
    items.push(...page.items);
    next = page.nextCursor;
  }
  return {
    status: 200,
    body: listPage(items.map(render), {
      requestUrl: request.url,
      ...(next === undefined ? {} : { skipToken: next }),
    }),
  };
}

/**
 * `{scope}/providers/Microsoft.Authorization/{roleAssignments|roleDefinitions}[/{name}]` and
 * `{scope}/providers/Microsoft.Authorization/permissions` for any scope, the tenant root included
 * (keywords in any case).
 */
export const matchRoleAuthorization: RouteMatcher = (segments) => {
  const decoded = decodeSegments(segments);
  if (decoded === undefined) return undefined;
  for (const tail of [3, 4]) {
    const at = decoded.length - tail;
    if (
      at < 0 ||
      !isKeyword(decoded[at], 'providers') ||
      !isKeyword(decoded[at + 1], 'Microsoft.Authorization')
    ) {
      continue;
    }
    const scope = at === 0 ? '/' : `/${decoded.slice(0, at).join('/')}`;
    const kind = decoded[at + 2]?.toLowerCase();
    const name = decoded[at + 3];
    let handler: ArmHandler | undefined;
    if (kind === 'roleassignments') {
      handler =
        name === undefined
          ? (s, r) => listRoleAssignments(s, r, scope)
          : (s, r) => handleRoleAssignment(s, r, scope, name);
    } else if (kind === 'roledefinitions') {
      handler =
        name === undefined
          ? (s, r) => listRoleDefinitions(s, r, scope)
          : (s, r) => getRoleDefinition(s, r, scope, name);
    } else if (kind === 'permissions' && name === undefined) {
      handler = (s, r) => listPermissions(s, r, scope);
    }
    if (handler !== undefined) return handler;
  }
  return undefined;
};
