// Tests for reducing the wire forms of a role definition id to its GUID.
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import {
  parseRoleDefinitionId,
  roleDefinitionGuid,
  roleDefinitionResourceId,
} from './role-definition-id.js';

const GUID = 'b24988ac-6180-42a0-ab88-20f7382dd24c';

describe('role definition ids', () => {
  it.each([
    ['the bare GUID', GUID],
    ['the bare GUID in upper case', GUID.toUpperCase()],
    ['the tenant-level id ARM shows', `/providers/Microsoft.Authorization/roleDefinitions/${GUID}`],
    [
      'the subscription-scoped id clients send',
      `/subscriptions/a925f2f7-5c63-4b7b-8799-25a5f97bc3b2/providers/Microsoft.Authorization/roleDefinitions/${GUID}`,
    ],
    [
      'a management-group-scoped id, in odd case',
      `/providers/Microsoft.Management/managementGroups/mg/PROVIDERS/microsoft.authorization/ROLEDEFINITIONS/${GUID.toUpperCase()}`,
    ],
  ])('reads %s', (_label, id) => {
    expect(parseRoleDefinitionId(id)).toBe(GUID);
    expect(roleDefinitionGuid(id)).toBe(GUID);
  });

  it.each([
    ['an empty string', ''],
    ['a name', 'Owner'],
    ['a GUID with junk after it', `${GUID}x`],
    ['another provider', `/providers/Microsoft.Compute/roleDefinitions/${GUID}`],
    ['a non-GUID role name', '/providers/Microsoft.Authorization/roleDefinitions/owner'],
    [
      'a malformed scope',
      `subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/${GUID}`,
    ],
  ])('refuses %s', (_label, id) => {
    expect(parseRoleDefinitionId(id)).toBeUndefined();
    expect(() => roleDefinitionGuid(id)).toThrow(AppError);
    try {
      roleDefinitionGuid(id);
    } catch (error) {
      expect(error).toMatchObject({ code: 'InvalidParameter', target: 'roleDefinitionId' });
    }
  });

  it('writes the tenant-level id', () => {
    expect(roleDefinitionResourceId(GUID.toUpperCase())).toBe(
      `/providers/Microsoft.Authorization/roleDefinitions/${GUID}`,
    );
  });
});
