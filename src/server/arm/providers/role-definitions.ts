// Microsoft.Authorization/roleDefinitions: every role read and listed where it is seen; custom roles written and deleted.
import {
  deleteCustomRole,
  isCustomRoleProblem,
  isVisibleAt,
  parseScope as parseRbacScope,
  putCustomRole,
  type ScopeAuthorizer,
} from '../../../core/rbac/index.js';
import { findResourceScope } from '../../../core/rbac/resource-scope.js';
import { RESOURCE_TYPES } from '../../../core/resource-types.js';
import {
  customRoleRefusal,
  invalidRoleDefinitionId,
  invalidRoleDefinitionScope,
  isGuid,
  linkedAuthorizationFailed,
  listPage,
  parseCustomRole,
  parseDefinitionFilter,
  queryFilter,
  renderRoleDefinition as render,
  roleDefinitionDoesNotExist,
  versionsOf,
} from '../../../wire/arm/index.js';
import { existingScope } from '../authorization.js';
import type { ArmResponse } from '../context.js';
import type { OperationContext, ResourceTypeDeclaration } from '../provider.js';

const DEFINITIONS = RESOURCE_TYPES.roleDefinitions;
const WRITE = `${DEFINITIONS}/write`;
const DELETE = `${DEFINITIONS}/delete`;

/** GET of one definition: one not seen at the scope does not exist there (404). */
async function read(context: OperationContext): Promise<ArmResponse> {
  const scope = await existingScope(context);
  const { name } = context;
  const found = isGuid(name)
    ? await context.services.store.roles.getDefinition(name.toLowerCase())
    : undefined;
  if (found === undefined || !isVisibleAt(found, scope)) {
    throw roleDefinitionDoesNotExist(name, 404);
  }
  return { status: 200, body: render(found, scope) };
}

/**
 * The list: every definition seen at the scope (built-ins, assignable at `/`, everywhere; a custom
 * role at, above and below its assignable scopes), optionally by `roleName eq` or `type eq`
 * (case-insensitive); one page. Another `$filter` is `UnsupportedQuery` (400).
 */
async function list(context: OperationContext): Promise<ArmResponse> {
  const scope = await existingScope(context);
  const keep = parseDefinitionFilter(queryFilter(context.request.query));
  const definitions = await context.services.store.roles.listDefinitions();
  const visible = definitions
    .filter((definition) => isVisibleAt(definition, scope) && keep(definition))
    .map((definition) => render(definition, scope));
  return { status: 200, body: listPage(visible, { requestUrl: context.request.url }) };
}

/** The definition's GUID from the path, lower case; `InvalidRoleDefinitionId` (400) if none. */
function guidOf(name: string): string {
  if (!isGuid(name)) throw invalidRoleDefinitionId(name);
  return name.toLowerCase();
}

/**
 * ARM's linked authorization of a custom role's assignable scopes: the caller needs `action` on
 * each (compared without case), and each scope asked for must exist; those that fail are named
 * in one `LinkedAuthorizationFailed` (403), after `scope`, where the pipeline has authorized it.
 */
function linkedAuthorizer(
  context: OperationContext,
  action: string,
  scope: string,
): ScopeAuthorizer {
  const { services, request } = context;
  return async (requested, current) => {
    const denied: string[] = [];
    const seen = new Set<string>();
    const candidates = [
      ...requested.map((linked) => [linked, true] as const),
      ...current.map((linked) => [linked, false] as const),
    ];
    for (const [linked, mustExist] of candidates) {
      const key = parseRbacScope(linked).key;
      if (seen.has(key)) continue;
      seen.add(key);
      const exists = !mustExist || (await findResourceScope(services.store, linked)) !== undefined;
      const check = { principalId: request.caller.objectId, action, scope: linked };
      if (!exists || !(await services.rbac.check(check)).allowed) denied.push(linked);
    }
    if (denied.length > 0) {
      throw linkedAuthorizationFailed(request.caller, action, scope, denied, action);
    }
  };
}

/** Core's refusals in ARM's words; anything else as it is. */
function inArmWords(error: unknown): unknown {
  return isCustomRoleProblem(error) ? customRoleRefusal(error.problem) : error;
}

/**
 * PUT of a custom role at a subscription or resource group (elsewhere
 * `InvalidRoleDefinitionScope`): the body read by `parseCustomRole`, then written by core
 * (`putCustomRole`: never a built-in, the name unique in the directory, the caller's
 * `roleDefinitions/write` on every assignable scope). Azure answers 201 to a create and to an
 * update alike (RoleDefinitions_CreateOrUpdate lists only 201; az's recordings show 201 for
 * `role definition update`), naming the caller as `updatedBy` and no `createdBy`.
 */
async function put(context: OperationContext): Promise<ArmResponse> {
  const id = guidOf(context.name);
  const { services, request, target } = context;
  if (target.scopeKind !== 'subscription' && target.scopeKind !== 'resourceGroup') {
    throw invalidRoleDefinitionScope(target.scope);
  }
  const scope = await existingScope(context);
  const content = parseCustomRole(id, context.body());
  const at = services.clock.now();
  const authorize = linkedAuthorizer(context, WRITE, scope);
  const written = await putCustomRole(services.store, { id, scope, content, at, authorize }).catch(
    (error: unknown) => {
      throw inArmWords(error);
    },
  );
  services.rbac.invalidate?.();
  const authors = { createdBy: null, updatedBy: request.caller.objectId };
  return { status: 201, body: render(written.definition, scope, authors) };
}

/**
 * DELETE of a custom role seen at the scope: 200 with the definition, or 204 when there is none.
 * A built-in role, the caller lacking `roleDefinitions/delete` on an assignable scope, or a role
 * still assigned are refused (`deleteCustomRole`).
 */
async function remove(context: OperationContext): Promise<ArmResponse> {
  const id = guidOf(context.name);
  const { services } = context;
  const scope = await existingScope(context);
  const authorize = linkedAuthorizer(context, DELETE, scope);
  const deleted = await deleteCustomRole(services.store, { id, scope, authorize }).catch(
    (error: unknown) => {
      throw inArmWords(error);
    },
  );
  if (deleted === undefined) return { status: 204 };
  services.rbac.invalidate?.();
  return { status: 200, body: render(deleted, scope) };
}

/**
 * `{scope}/providers/Microsoft.Authorization/roleDefinitions[/{guid}]` (PROTOCOL.md 4.5): GET and
 * the list at any scope, the tenant root included, with `roleDefinitions/read` at the scope; PUT
 * (custom roles, at a subscription or resource group) and DELETE with `roleDefinitions/write` or
 * `/delete` at the scope and on every assignable scope. The scope must exist. A GET of a name
 * that is no GUID is `RoleDefinitionDoesNotExist` (404); a PUT or DELETE of one,
 * `InvalidRoleDefinitionId` (400).
 */
export const roleDefinitions: ResourceTypeDeclaration = {
  type: DEFINITIONS,
  apiVersions: versionsOf(DEFINITIONS),
  placement: ['tenant', 'subscription', 'resourceGroup', 'resource'],
  operations: {
    read: { run: read, authorizeAt: 'container' },
    list: { run: list, authorizeAt: 'container' },
    put: { run: put, authorizeAt: 'container' },
    delete: { run: remove, authorizeAt: 'container' },
  },
};
