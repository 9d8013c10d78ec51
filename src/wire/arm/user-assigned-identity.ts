// A user-assigned identity's ARM body: its isolation scope read, the identity as ARM shows it.
import { isRecord } from '../../core/guards.js';
import type { Resource } from '../../core/model.js';
import { RESOURCE_TYPES } from '../../core/resource-types.js';
import { armError } from './arm-errors.js';
import { armResource } from './envelope.js';
import { envelopeHead } from './tracked-body.js';

/** The type of user-assigned identities. */
export const USER_ASSIGNED_IDENTITIES = RESOURCE_TYPES.userAssignedIdentities;
/** `properties.isolationScope` exists from this api-version on (MSI spec 2024-11-30). */
const ISOLATION_SCOPE_SINCE = '2024-11-30';
const ISOLATION_SCOPES = ['None', 'Regional'] as const;

/** What Tessera keeps in a user-assigned identity's `properties`. */
export interface UserAssignedIdentityProperties {
  readonly tenantId: string;
  readonly principalId: string;
  readonly clientId: string;
  readonly isolationScope: string;
}

const hasIsolationScope = (apiVersion: string): boolean => apiVersion >= ISOLATION_SCOPE_SINCE;

/**
 * Reads `properties.isolationScope` of a body where the api-version has it (`None` or
 * `Regional`, any case, answered in Azure's); `fallback` when it does not, or the body gives
 * none. Anything else is `InvalidParameter` (400) on the member.
 */
export function parseIsolationScope(
  body: Readonly<Record<string, unknown>>,
  apiVersion: string,
  fallback: string,
): string {
  const { properties } = body;
  if (!hasIsolationScope(apiVersion) || !isRecord(properties)) return fallback;
  const given = properties.isolationScope;
  if (given === undefined || given === null) return fallback;
  const match = ISOLATION_SCOPES.find(
    (scope) => typeof given === 'string' && scope.toLowerCase() === given.toLowerCase(),
  );
  if (match === undefined) {
    const shown = typeof given === 'string' ? given : JSON.stringify(given);
    throw armError(
      'InvalidParameter',
      `The value '${shown}' of property 'properties.isolationScope' is invalid. Allowed values are 'None' and 'Regional'.`,
      { target: 'properties.isolationScope' },
    );
  }
  return match;
}

/** What a stored identity keeps; `isolationScope` `None` when it was never set. */
export function userAssignedIdentityProperties(resource: Resource): UserAssignedIdentityProperties {
  const p = resource.properties as Partial<UserAssignedIdentityProperties>;
  return {
    tenantId: p.tenantId ?? '',
    principalId: p.principalId ?? '',
    clientId: p.clientId ?? '',
    isolationScope: p.isolationScope ?? 'None',
  };
}

/** The identity body (PROTOCOL.md 4.2); `isolationScope` only at api-versions that define it. */
export function renderUserAssignedIdentity(resource: Resource, apiVersion: string): unknown {
  const { tenantId, principalId, clientId, isolationScope } =
    userAssignedIdentityProperties(resource);
  return armResource({
    ...envelopeHead(resource, USER_ASSIGNED_IDENTITIES, 'always'),
    properties: {
      tenantId,
      principalId,
      clientId,
      ...(hasIsolationScope(apiVersion) ? { isolationScope } : {}),
    },
  });
}
