// Microsoft.Authorization/roleAssignments at any scope: granted, read, listed and revoked.
import { isRecord } from '../../../core/guards.js';
import type { RoleAssignment } from '../../../core/model.js';
import { assignmentsAt } from '../../../core/rbac/assignments-at.js';
import { grantRole, isGrantProblem } from '../../../core/rbac/grant.js';
import { parseScope as parseRbacScope, removeRoleAssignment } from '../../../core/rbac/index.js';
import { RESOURCE_TYPES } from '../../../core/resource-types.js';
import {
  grantRefusal,
  invalidRoleAssignmentId,
  isGuid,
  listPage,
  parseAssignmentFilter,
  parseListQuery,
  queryFilter,
  renderRoleAssignment as render,
  roleAssignmentNotFound,
  versionsOf,
} from '../../../wire/arm/index.js';
import { existingScope } from '../authorization.js';
import type { ArmResponse, ArmServices } from '../context.js';
import type { OperationContext, ResourceTypeDeclaration } from '../provider.js';

const ASSIGNMENTS = RESOURCE_TYPES.roleAssignments;

const scopeKey = (scope: string): string => parseRbacScope(scope).key;

/** The assignment `name` if it sits at exactly `scope`. */
async function findAt(
  services: ArmServices,
  scope: string,
  name: string,
): Promise<RoleAssignment | undefined> {
  const found = await services.store.roles.getAssignment(name.toLowerCase());
  return found !== undefined && scopeKey(found.scope) === scopeKey(scope) ? found : undefined;
}

/** The string member `name` of the body's `properties`, `''` when it is not a string. */
function stringProperty(properties: Record<string, unknown>, name: string): string {
  const value = properties[name];
  return typeof value === 'string' ? value : '';
}

/**
 * PUT: core grants the role (`grantRole`: the role assignable at the scope, the principal known,
 * no condition) and creates the assignment (201), or answers 200 for an identical repeat; its
 * refusals are answered in ARM's words (`grantRefusal`).
 */
async function put(context: OperationContext): Promise<ArmResponse> {
  const { services, request } = context;
  const scope = await existingScope(context);
  const raw = context.body().properties;
  const properties = isRecord(raw) ? raw : {};
  try {
    const { created, assignment } = await grantRole(services.store, {
      name: context.name,
      scope,
      roleDefinitionId: stringProperty(properties, 'roleDefinitionId'),
      principalId: stringProperty(properties, 'principalId'),
      principalType: properties.principalType,
      condition: properties.condition,
      createdBy: request.caller.objectId,
      at: services.clock.now(),
    });
    return { status: created ? 201 : 200, body: render(assignment) };
  } catch (error) {
    if (!isGrantProblem(error)) throw error;
    throw grantRefusal(error.problem, request.caller.tenantId, error.cause);
  }
}

/**
 * The list (`assignmentsAt`): without a filter, the assignments at, above and below the scope.
 * The first page holds those above the scope; the rest pages through the scope and below with
 * the store's cursor as `$skipToken`.
 */
async function list(context: OperationContext): Promise<ArmResponse> {
  const { request } = context;
  const filter = parseAssignmentFilter(queryFilter(request.query));
  const { top, skipToken } = parseListQuery(request.query);
  const scope = await existingScope(context);
  const page = await assignmentsAt(context.services.store, scope, filter, {
    limit: top ?? 1000,
    cursor: skipToken,
  });
  return {
    status: 200,
    body: listPage(page.items.map(render), { requestUrl: request.url, skipToken: page.next }),
  };
}

/**
 * `{scope}/providers/Microsoft.Authorization/roleAssignments[/{guid}]` at any scope, the tenant
 * root included (PROTOCOL.md 4.5): PUT, GET, DELETE and the list (`$filter` `atScope()`,
 * `principalId eq`, `assignedTo()`). The name must be a GUID (`InvalidRoleAssignmentId`); every
 * operation needs `roleAssignments/read`, `/write` or `/delete` at the scope, not the item. The
 * scope must exist, except for DELETE: assignments left on a deleted group or resource stay
 * removable. DELETE answers 200 with the deleted assignment, or 204 when there is none.
 */
export const roleAssignments: ResourceTypeDeclaration = {
  type: ASSIGNMENTS,
  apiVersions: versionsOf(ASSIGNMENTS),
  placement: ['tenant', 'subscription', 'resourceGroup', 'resource'],
  validateName: (name) => {
    if (!isGuid(name)) throw invalidRoleAssignmentId(name);
  },
  groupMayBeGone: true,
  operations: {
    read: {
      authorizeAt: 'container',
      run: async (context) => {
        const scope = await existingScope(context);
        const found = await findAt(context.services, scope, context.name);
        if (found === undefined) throw roleAssignmentNotFound(context.name);
        return { status: 200, body: render(found) };
      },
    },
    list: { run: list, authorizeAt: 'container' },
    put: { run: put, authorizeAt: 'container' },
    delete: {
      authorizeAt: 'container',
      run: async (context) => {
        const { services } = context;
        // No existence check on the scope: its group or resource may be gone.
        const found = await findAt(
          services,
          parseRbacScope(context.target.scope).scope,
          context.name,
        );
        const deleted =
          found !== undefined &&
          (await removeRoleAssignment(services.store, found, services.clock.now()));
        return deleted ? { status: 200, body: render(found) } : { status: 204 };
      },
    },
  },
};
