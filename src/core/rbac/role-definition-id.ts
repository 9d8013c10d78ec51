// The forms a role definition id takes on the wire, reduced to the role's GUID.

import { invalidParameter } from '../errors.js';
import { parseScope } from './scope.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SUFFIX = '/providers/microsoft.authorization/roledefinitions/';

/**
 * The lower-case GUID of a role definition named by `id`, which may be the bare GUID,
 * `/providers/Microsoft.Authorization/roleDefinitions/{guid}` (how ARM shows built-in roles), or
 * `{scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}` for any scope, typically
 * `/subscriptions/{s}` (how clients send it, PROTOCOL 4.5). Case-insensitive. Returns undefined
 * for anything else.
 */
export function parseRoleDefinitionId(id: string): string | undefined {
  if (GUID.test(id)) return id.toLowerCase();
  const lower = id.toLowerCase();
  const at = lower.lastIndexOf(SUFFIX);
  if (at < 0) return undefined;
  const guid = lower.slice(at + SUFFIX.length);
  if (!GUID.test(guid)) return undefined;
  if (at > 0) {
    try {
      parseScope(id.slice(0, at));
    } catch {
      return undefined;
    }
  }
  return guid;
}

/**
 * As {@link parseRoleDefinitionId}, but fails with a 400 `InvalidParameter` (target
 * `roleDefinitionId`) when `id` is not a role definition id.
 */
export function roleDefinitionGuid(id: string): string {
  const guid = parseRoleDefinitionId(id);
  if (guid === undefined) {
    throw invalidParameter(
      'roleDefinitionId',
      `The role definition id '${id.slice(0, 300)}' is not valid.`,
    );
  }
  return guid;
}

/** The tenant-level ARM id of a role definition: `/providers/Microsoft.Authorization/roleDefinitions/{guid}`. */
export function roleDefinitionResourceId(guid: string): string {
  return `/providers/Microsoft.Authorization/roleDefinitions/${guid.toLowerCase()}`;
}
