// Role assignments the installation makes itself (first start, `tessera ad sp create-for-rbac`), not through ARM.
import { randomUUID } from 'node:crypto';
import type { RoleAssignment } from '../model.js';
import type { Clock, Store } from '../ports.js';
import { addRoleAssignment } from './assignments.js';

/** Who gets which role where. */
export interface ServicePrincipalRole {
  /** `/` or an ARM resource id, in the case it should be kept. */
  readonly scope: string;
  /** The role definition's id (a built-in role's GUID, or a definition's resource id). */
  readonly roleDefinitionId: string;
  /** The service principal's object id. */
  readonly principalId: string;
}

/**
 * Assigns a role to a service principal: a new GUID, `createdBy` null (the installation, not an
 * ARM caller), stored by {@link addRoleAssignment} (which also tells the principal's VMs). Nothing
 * is checked here: the caller has checked the role and the scope. Fails with the store's 409
 * `Conflict` when the id, or the same principal, role and scope, is taken.
 */
export async function assignServicePrincipalRole(
  deps: { readonly store: Store; readonly clock: Clock; readonly newId?: () => string },
  role: ServicePrincipalRole,
): Promise<RoleAssignment> {
  const assignment: RoleAssignment = {
    id: (deps.newId ?? randomUUID)(),
    scope: role.scope,
    roleDefinitionId: role.roleDefinitionId,
    principalId: role.principalId,
    principalType: 'ServicePrincipal',
    createdAt: deps.clock.now(),
    createdBy: null,
  };
  await addRoleAssignment(deps.store, assignment);
  return assignment;
}
