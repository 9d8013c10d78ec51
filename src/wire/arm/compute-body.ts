// What VM, scale-set and instance bodies share: their identities, read and shown, and the system-assigned one on its own.
import { type CurrentIdentity, userAssignedOf } from '../../core/compute/index.js';
import { isAppError } from '../../core/errors.js';
import type { Principal, Resource } from '../../core/model.js';
import { RESOURCE_TYPES } from '../../core/resource-types.js';
import {
  type ArmIdentity,
  failedIdentityOperation,
  type IdentityFormat,
  type IdentityRequest,
  type IdentityState,
  mergeIdentity,
  renderIdentity,
} from './identity.js';

/**
 * The identities of `holderId` after a write's `request` (`mergeIdentity`). The limits are the
 * identity provider's, so its `BadRequest`s come wrapped in ARM's `FailedIdentityOperation`.
 */
export function mergeHolderIdentity(
  holderId: string,
  current: IdentityState,
  request: IdentityRequest,
  isPatch: boolean,
): IdentityState {
  try {
    return mergeIdentity(current, request, isPatch);
  } catch (error) {
    if (isAppError(error) && error.wire.arm === 'BadRequest') {
      throw failedIdentityOperation(holderId, error);
    }
    throw error;
  }
}

/**
 * The response `identity` of a VM, scale set or instance (`renderIdentity`): the system-assigned
 * principal's ids and each user-assigned identity's, in the request's format.
 */
export function renderComputeIdentity(
  current: CurrentIdentity,
  format: IdentityFormat,
): ArmIdentity | undefined {
  const { system } = current;
  return renderIdentity(
    current.state,
    {
      system:
        system === undefined
          ? undefined
          : { principalId: system.objectId, tenantId: system.tenantId },
      userAssigned: (id) => {
        const found = userAssignedOf(current, id);
        return found === undefined
          ? undefined
          : { principalId: found.principal.objectId, clientId: found.principal.appId };
      },
    },
    { format },
  );
}

/** The type of a VM's or scale set's system-assigned identity in its path (`…/identities/default`). */
export const SYSTEM_IDENTITIES = RESOURCE_TYPES.systemIdentities;

/** The type a system-assigned identity is rendered with (the MSI spec's own case). */
export const SYSTEM_IDENTITY_TYPE = 'Microsoft.ManagedIdentity/Identities';

/**
 * The system-assigned identity of `holder` as `Microsoft.ManagedIdentity/identities/default`
 * (azure-rest-api-specs msi `SystemAssignedIdentity`): `id`, `name` `default`, `type`,
 * `location` and `tags` of the holder, `properties` `{tenantId, principalId, clientId}`.
 * `clientSecretUrl` (the MSI data plane's credential URL) is left out: Tessera has no such plane.
 */
export function renderSystemIdentity(holder: Resource, principal: Principal): unknown {
  return {
    id: `${holder.id}/providers/${SYSTEM_IDENTITIES}/default`,
    name: 'default',
    type: SYSTEM_IDENTITY_TYPE,
    location: holder.location ?? '',
    tags: holder.tags,
    properties: {
      tenantId: principal.tenantId,
      principalId: principal.objectId,
      clientId: principal.appId,
    },
  };
}
