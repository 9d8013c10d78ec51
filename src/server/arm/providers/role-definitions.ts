// Microsoft.Authorization/roleDefinitions: the roles assignable at a scope, read and listed (not written).
import { isAssignableAt } from '../../../core/rbac/index.js';
import { RESOURCE_TYPES } from '../../../core/resource-types.js';
import {
  isGuid,
  listPage,
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

/** GET of one definition: one not assignable at the scope does not exist there (404). */
async function read(context: OperationContext): Promise<ArmResponse> {
  const scope = await existingScope(context);
  const { name } = context;
  const found = isGuid(name)
    ? await context.services.store.roles.getDefinition(name.toLowerCase())
    : undefined;
  if (found === undefined || !isAssignableAt(found, scope)) {
    throw roleDefinitionDoesNotExist(name, 404);
  }
  return { status: 200, body: render(found, scope) };
}

/**
 * The list: every definition assignable at the scope (built-ins, assignable at `/`, everywhere),
 * optionally by `roleName eq` or `type eq` (case-insensitive); one page. Another `$filter` is
 * `UnsupportedQuery` (400).
 */
async function list(context: OperationContext): Promise<ArmResponse> {
  const scope = await existingScope(context);
  const keep = parseDefinitionFilter(queryFilter(context.request.query));
  const definitions = await context.services.store.roles.listDefinitions();
  const visible = definitions
    .filter((definition) => isAssignableAt(definition, scope) && keep(definition))
    .map((definition) => render(definition, scope));
  return { status: 200, body: listPage(visible, { requestUrl: context.request.url }) };
}

/**
 * `GET {scope}/providers/Microsoft.Authorization/roleDefinitions[/{guid}]` at any scope, the
 * tenant root included (PROTOCOL.md 4.5). Both need `roleDefinitions/read` at the scope; the
 * scope must exist. Custom roles are not written through ARM (docs/compatibility.md): PUT and
 * DELETE are `MethodNotAllowed`. A name that is no GUID is `RoleDefinitionDoesNotExist` (404).
 */
export const roleDefinitions: ResourceTypeDeclaration = {
  type: DEFINITIONS,
  apiVersions: versionsOf(DEFINITIONS),
  placement: ['tenant', 'subscription', 'resourceGroup', 'resource'],
  operations: {
    read: { run: read, authorizeAt: 'container' },
    list: { run: list, authorizeAt: 'container' },
  },
};
