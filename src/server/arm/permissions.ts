// `GET {scope}/providers/Microsoft.Authorization/permissions`: what the caller's own role assignments grant at a scope.
import { methodNotAllowed, missingApiVersion } from '../../core/errors.js';
import type { RoleAssignment, RoleDefinition } from '../../core/model.js';
import { parseRoleDefinitionId, parseScope as parseRbacScope } from '../../core/rbac/index.js';
import {
  invalidResourceType,
  isSupportedApiVersion,
  listPage,
  readApiVersion,
} from '../../wire/arm/index.js';
import type { ArmRequest, ArmResponse, ArmServices } from './context.js';
import { requireScope } from './role-definitions.js';

/**
 * The versions served: those the other Microsoft.Authorization routes accept (2022-04-01, what
 * @azure/arm-authorization 9 and the .NET SDK send for this operation, among them), in the order
 * ARM lists them.
 */
const PERMISSION_VERSIONS = [
  '2015-07-01',
  '2018-01-01-preview',
  '2018-09-01-preview',
  '2020-04-01-preview',
  '2022-04-01',
  '2022-05-01-preview',
] as const;

/** The Azure types whose versions this operation shares. */
const AUTHORIZATION_TYPES = [
  'Microsoft.Authorization/roleAssignments',
  'Microsoft.Authorization/roleDefinitions',
] as const;

/** One permission block as Azure's `Permission` (2022-04-01) has it. */
interface PermissionBody {
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  readonly dataActions: readonly string[];
  readonly notDataActions: readonly string[];
}

/**
 * Checks `api-version`: absent is `MissingApiVersionParameter` (400); one no Authorization route
 * accepts is `InvalidResourceType` (404) naming the supported ones, as ARM answers its own
 * Authorization types.
 */
function checkPermissionsApiVersion(request: ArmRequest): void {
  const given = readApiVersion(request.query);
  if (given === undefined) throw missingApiVersion();
  const known = AUTHORIZATION_TYPES.some((type) => isSupportedApiVersion(type, given));
  if (!known) {
    throw invalidResourceType('permissions', 'Microsoft.Authorization', given, PERMISSION_VERSIONS);
  }
}

/**
 * `GET {scope}/providers/Microsoft.Authorization/permissions` (Azure's "Permissions - List For
 * Resource Group" and "List For Resource",
 * https://learn.microsoft.com/rest/api/authorization/permissions; the subscription and the root
 * `/` are served the same way). Needs no permission: every signed-in principal may ask what it
 * can do. Answers every permission block of each role definition assigned to the caller (token
 * `oid`) at the scope or above it, each definition once, the assignment nearest the root first;
 * empty when there is none. The scope must exist (`SubscriptionNotFound`,
 * `ResourceGroupNotFound`, `ResourceNotFound`, as other Authorization routes answer). One page.
 */
export async function listPermissions(
  services: ArmServices,
  request: ArmRequest,
  scopePath: string,
): Promise<ArmResponse> {
  checkPermissionsApiVersion(request);
  if (request.method !== 'GET') throw methodNotAllowed(request.method);
  const scope = await requireScope(services, scopePath);
  const { ancestors } = parseRbacScope(scope);
  const { roles } = services.store;
  const assignments = await roles.listAssignmentsForPrincipalAtScopes(
    [request.caller.objectId],
    ancestors,
  );
  const depth = (a: RoleAssignment): number => ancestors.indexOf(parseRbacScope(a.scope).key);
  const ordered = [...assignments].sort(
    (a, b) => depth(a) - depth(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );

  const seen = new Set<string>();
  const definitions: RoleDefinition[] = [];
  for (const assignment of ordered) {
    const guid =
      parseRoleDefinitionId(assignment.roleDefinitionId) ??
      assignment.roleDefinitionId.toLowerCase();
    if (seen.has(guid)) continue;
    seen.add(guid);
    // An assignment whose definition was deleted grants nothing, as in the evaluator.
    const definition = await roles.getDefinition(guid);
    if (definition !== undefined) definitions.push(definition);
  }
  const value: PermissionBody[] = definitions.flatMap((definition) =>
    definition.permissions.map((p) => ({
      actions: p.actions,
      notActions: p.notActions,
      dataActions: p.dataActions,
      notDataActions: p.notDataActions,
    })),
  );
  return { status: 200, body: listPage(value, { requestUrl: request.url }) };
}
