// RBAC in the browser: the caller's permissions at a scope, and whether they allow an action.

/** One block of ARM's `permissions` list (a role's `permissions` entry). */
export interface PermissionBlock {
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
}

/** Whether an action pattern (`*` wildcards, any case) matches `action`. */
export function actionMatches(pattern: string, action: string): boolean {
  const parts = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 'i').test(action);
}

/**
 * Whether `blocks` allow `action`, as ARM decides: some block has an action that matches it and
 * none of that same block's notActions does.
 */
export function isAllowed(blocks: readonly PermissionBlock[], action: string): boolean {
  return blocks.some(
    (block) =>
      block.actions.some((pattern) => actionMatches(pattern, action)) &&
      !block.notActions.some((pattern) => actionMatches(pattern, action)),
  );
}

/** The actions the portal's write buttons need. */
export const ACTIONS = {
  identityWrite: 'Microsoft.ManagedIdentity/userAssignedIdentities/write',
  identityDelete: 'Microsoft.ManagedIdentity/userAssignedIdentities/delete',
  vmWrite: 'Microsoft.Compute/virtualMachines/write',
  vmssWrite: 'Microsoft.Compute/virtualMachineScaleSets/write',
  roleAssignmentWrite: 'Microsoft.Authorization/roleAssignments/write',
  roleAssignmentDelete: 'Microsoft.Authorization/roleAssignments/delete',
} as const;
