// Microsoft.Authorization/permissions: what the caller's own role assignments grant at a scope.
import { rolesGrantedAt } from '../../../core/rbac/index.js';
import { RESOURCE_TYPES } from '../../../core/resource-types.js';
import {
  listPage,
  permissionBlocks,
  type ResourceTypeVersions,
  versionsOf,
} from '../../../wire/arm/index.js';
import { existingScope } from '../authorization.js';
import type { ResourceTypeDeclaration } from '../provider.js';

/**
 * The versions served: those the other Microsoft.Authorization types accept (2022-04-01, what
 * @azure/arm-authorization 9 and the .NET SDK send for this operation, among them), in the order
 * ARM lists them; another is `InvalidResourceType` (404) naming them, as ARM answers its own
 * Authorization types.
 */
const PERMISSION_VERSIONS: ResourceTypeVersions = {
  authority: 'authorization',
  versions: [
    ...new Set([
      ...versionsOf('Microsoft.Authorization/roleAssignments').versions,
      ...versionsOf('Microsoft.Authorization/roleDefinitions').versions,
    ]),
  ].sort(),
};

/**
 * `GET {scope}/providers/Microsoft.Authorization/permissions` (Azure's "Permissions - List For
 * Resource Group" and "List For Resource",
 * https://learn.microsoft.com/rest/api/authorization/permissions; the subscription and the root
 * `/` are served the same way). There are no items: the type is a list only. Needs no
 * permission: every signed-in principal may ask what it can do. Answers every permission block
 * of each role definition assigned to the caller (token `oid`) at the scope or above it, each
 * definition once, the assignment nearest the root first; empty when there is none. The scope
 * must exist (`SubscriptionNotFound`, `ResourceGroupNotFound`, `ResourceNotFound`, as other
 * Authorization types answer). One page.
 */
export const permissions: ResourceTypeDeclaration = {
  type: RESOURCE_TYPES.permissions,
  apiVersions: PERMISSION_VERSIONS,
  placement: [],
  listAt: ['tenant', 'subscription', 'resourceGroup', 'resource'],
  operations: {
    list: {
      run: async (context) => {
        const scope = await existingScope(context);
        const granted = await rolesGrantedAt(
          context.services.store,
          context.request.caller.objectId,
          scope,
        );
        const value = granted.flatMap(permissionBlocks);
        return { status: 200, body: listPage(value, { requestUrl: context.request.url }) };
      },
    },
  },
};
