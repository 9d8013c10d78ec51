// What the Microsoft.Authorization types share: the scope the path names, checked to exist.
import { findResourceScope } from '../../core/rbac/resource-scope.js';
import { parseScope, resourceNotFound } from '../../wire/arm/index.js';
import type { OperationContext } from './provider.js';
import { groupNotFound } from './scope.js';

/**
 * The scope the request's path names (`/` for the tenant root), checked to exist, in the store's
 * case: the root always; a subscription (the pipeline has checked it); a resource group
 * (`ResourceGroupNotFound` 404); a resource (`ResourceGroupNotFound`, then `ResourceNotFound`
 * 404), or a vault's secret, key or certificate when its vault exists (`findResourceScope`).
 * Tenant-level resources other than the root (management groups) are not served:
 * `ResourceNotFound`.
 */
export async function existingScope(context: OperationContext): Promise<string> {
  const { target, where } = context;
  switch (target.scopeKind) {
    case 'tenant':
      return '/';
    case 'subscription':
      return where.groupId;
    case 'resourceGroup':
      if (!where.groupExists) throw groupNotFound(where.groupName);
      return where.groupId;
    case 'resource': {
      const parsed = parseScope(target.scope, { validateNames: false });
      const missing = () =>
        resourceNotFound(
          `${parsed.fullType}/${parsed.names.join('/')}`,
          parsed.resourceGroup ?? '',
        );
      if (target.subscriptionId === undefined) throw missing();
      // A resource right under a subscription has no group to find: `ResourceGroupNotFound` for ''.
      if (!where.groupExists) throw groupNotFound(where.groupName);
      const found = await findResourceScope(context.services.store, parsed.id);
      if (found === undefined) throw missing();
      return found;
    }
  }
}
