// The PATCH bodies that attach or detach a user-assigned identity, as `tessera vm identity` sends them.
import type { ArmIdentity } from './arm.js';

/** ARM's `identity.type` for a system-assigned identity and whether user-assigned ones remain. */
export function identityType(system: boolean, userAssigned: boolean): string {
  if (system) return userAssigned ? 'SystemAssigned, UserAssigned' : 'SystemAssigned';
  return userAssigned ? 'UserAssigned' : 'None';
}

const hasSystem = (identity: ArmIdentity | undefined): boolean =>
  (identity?.type ?? '').toLowerCase().includes('systemassigned');
const userIds = (identity: ArmIdentity | undefined): string[] =>
  Object.keys(identity?.userAssignedIdentities ?? {});

/** The body that adds user-assigned identity `id` to a resource whose identity is `current`. */
export function attachPatch(current: ArmIdentity | undefined, id: string): unknown {
  return {
    identity: {
      type: identityType(hasSystem(current), true),
      userAssignedIdentities: { [id]: {} },
    },
  };
}

/**
 * The body that takes `id` off a resource whose identity is `current` (`null` removes one
 * user-assigned identity; when none remains only the type is sent). Undefined when the resource
 * does not carry `id`.
 */
export function detachPatch(current: ArmIdentity | undefined, id: string): unknown {
  const existing = userIds(current).map((x) => x.toLowerCase());
  if (!existing.includes(id.toLowerCase())) return undefined;
  const remaining = existing.length > 1;
  return {
    identity: {
      type: identityType(hasSystem(current), remaining),
      ...(remaining ? { userAssignedIdentities: { [id]: null } } : {}),
    },
  };
}

/** Whether a resource's identity carries user-assigned identity `id` (ids compare in any case). */
export const carries = (identity: ArmIdentity | undefined, id: string): boolean =>
  userIds(identity).some((x) => x.toLowerCase() === id.toLowerCase());
