// Compute's refusals in ARM's words: an identity the caller may not link, one that is missing, an unknown host, an address taken.
import type { ComputeProblem } from '../../core/compute/index.js';
import { AppError } from '../../core/errors.js';
import type { Resource } from '../../core/model.js';
import { SCALE_SET_INSTANCE_TYPE, VM_RESOURCE_TYPE } from '../../core/resources/change-feed.js';
import { hostNotFound, privateAddressAllocated } from './arm-errors.js';
import { failedIdentityOperation, userAssignedIdentityNotFound } from './identity.js';

/**
 * The action ARM checks on each user-assigned identity being attached. Managed Identity
 * Operator grants it through `Microsoft.ManagedIdentity/userAssignedIdentities/*\/assign/action`
 * (PROTOCOL.md 4.3); the evaluator takes concrete actions only, so the wildcard form is not asked.
 */
export const UAI_ASSIGN_ACTION = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action';

/** Who is refused, as ARM names a caller: its app id when it has one, and its object id. */
export interface RefusedCaller {
  readonly appId?: string | undefined;
  readonly objectId: string;
}

/**
 * `LinkedAuthorizationFailed` (403): the caller may write the VM or scale set `holderId`
 * (`writeAction`) but not assign the user-assigned identities `denied` (`linkedAction`, by
 * default {@link UAI_ASSIGN_ACTION}), joined with ',' as sent. A custom role's assignable scopes
 * are linked scopes too, with `roleDefinitions/write` for both actions.
 * Source: https://github.com/Azure/aad-pod-identity/issues/443 (one id),
 * https://github.com/Azure/aad-pod-identity/issues/339 (several, joined with ','),
 * azure-docs `role-based-access-control/troubleshooting.md` ("Unable to create or update a custom
 * role") and an older revision of Azure/ARO-RP's shared development environment guide quoting a
 * full answer for a role definition's assignable scope in another subscription.
 */
export function linkedAuthorizationFailed(
  caller: RefusedCaller,
  writeAction: string,
  holderId: string,
  denied: readonly string[],
  linkedAction: string = UAI_ASSIGN_ACTION,
): AppError {
  const client = caller.appId ?? caller.objectId;
  return new AppError(
    'Forbidden',
    `The client '${client}' with object id '${caller.objectId}' has permission to perform action '${writeAction}' on scope '${holderId}'; however, it does not have permission to perform action '${linkedAction}' on the linked scope(s) '${denied.join(',')}' or the linked scope(s) are invalid.`,
    { status: 403, wire: { arm: 'LinkedAuthorizationFailed' } },
  );
}

/**
 * The action a caller needs at `holder`, the VM or scale-set instance holding an address, to be
 * told its id in `PrivateIPAddressIsAllocated`.
 */
export function holderReadAction(holder: Resource): string {
  const isInstance = holder.type.toLowerCase() === SCALE_SET_INSTANCE_TYPE.toLowerCase();
  return `${isInstance ? SCALE_SET_INSTANCE_TYPE : VM_RESOURCE_TYPE}/read`;
}

/**
 * Core's `ComputeProblem` as ARM answers it: a user-assigned identity that does not exist is the
 * identity provider's 400 wrapped in `FailedIdentityOperation`; an unknown host is
 * `InvalidParameter` on `properties.tessera.hostId`; a taken address is
 * `PrivateIPAddressIsAllocated` (400), naming the holder only when `holderReadable` (the caller
 * may {@link holderReadAction} it).
 */
export function computeProblemInArmWords(
  problem: ComputeProblem,
  holderReadable: boolean,
): AppError {
  switch (problem.reason) {
    case 'identity_not_found':
      return failedIdentityOperation(
        problem.holderId,
        userAssignedIdentityNotFound(problem.identityId),
      );
    case 'unknown_host':
      return hostNotFound(problem.hostId);
    case 'address_taken':
      return privateAddressAllocated(
        problem.resourceId,
        problem.address,
        holderReadable ? problem.holder.id : undefined,
      );
  }
}
