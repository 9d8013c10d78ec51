// Role assignments as the domain keeps them: where a role may be assigned, adding and removing one, what they grant.
import { noteIdentityChanged } from '../resources/change-feed.js';
import type { EpochMs, RoleAssignment, RoleDefinition } from '../model.js';
import type { Store } from '../ports.js';
import { parseRoleDefinitionId } from './role-definition-id.js';
import { parseScope } from './scope.js';

/**
 * True when `scope` is one of the definition's assignable scopes or below one (`/` covers
 * everything). Fails as {@link parseScope} does for a malformed scope.
 */
export function isAssignableAt(definition: RoleDefinition, scope: string): boolean {
  const key = parseScope(scope).key;
  return definition.assignableScopes.some((assignable) => {
    const at = parseScope(assignable).key;
    return at === '/' || key === at || key.startsWith(`${at}/`);
  });
}

/**
 * Stores a new assignment and, in the same transaction, records a change for the principal's
 * VMs and scale sets, so agents drop the tokens they cached for it. Fails with the store's 409
 * `Conflict` when the id, or the same principal, role and scope, is taken.
 */
export async function addRoleAssignment(store: Store, assignment: RoleAssignment): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.roles.createAssignment(assignment);
    await noteIdentityChanged(tx, assignment.createdAt, assignment.principalId);
  });
}

/**
 * Deletes an assignment and records the change for the principal's VMs and scale sets, in one
 * transaction. Returns false (nothing recorded) when it was gone already.
 */
export async function removeRoleAssignment(
  store: Store,
  assignment: RoleAssignment,
  at: EpochMs,
): Promise<boolean> {
  return store.transaction(async (tx) => {
    if (!(await tx.roles.deleteAssignment(assignment.id))) return false;
    await noteIdentityChanged(tx, at, assignment.principalId);
    return true;
  });
}

/**
 * The role definitions `principalId`'s own assignments at `scope` or above it grant there: each
 * definition once, the assignment nearest the root first (ties by assignment id). A definition
 * that was deleted grants nothing, as in the evaluator. `scope` is as {@link parseScope} takes it.
 */
export async function rolesGrantedAt(
  store: Store,
  principalId: string,
  scope: string,
): Promise<RoleDefinition[]> {
  const { ancestors } = parseScope(scope);
  const assignments = await store.roles.listAssignmentsForPrincipalAtScopes(
    [principalId],
    ancestors,
  );
  const depth = (a: RoleAssignment): number => ancestors.indexOf(parseScope(a.scope).key);
  const ordered = [...assignments].sort(
    (a, b) => depth(a) - depth(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const seen = new Set<string>();
  const granted: RoleDefinition[] = [];
  for (const assignment of ordered) {
    const guid =
      parseRoleDefinitionId(assignment.roleDefinitionId) ??
      assignment.roleDefinitionId.toLowerCase();
    if (seen.has(guid)) continue;
    seen.add(guid);
    const definition = await store.roles.getDefinition(guid);
    if (definition !== undefined) granted.push(definition);
  }
  return granted;
}
