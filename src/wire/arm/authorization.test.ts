import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';
import type { RoleAssignment, RoleDefinition } from '../../core/model.js';
import {
  parseDefinitionFilter,
  queryFilter,
  renderRoleAssignment,
  roleDefinitionIdAt,
} from './authorization.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const ROLE = 'ACDD72A7-3385-48EF-BD42-F606FBA81AE7';
const definition = (roleName: string, type: RoleDefinition['type']): RoleDefinition => ({
  id: ROLE.toLowerCase(),
  roleName,
  type,
  description: '',
  assignableScopes: ['/'],
  permissions: [],
  createdAt: 0,
  updatedAt: 0,
});

describe('roleDefinitionIdAt', () => {
  it('is under the subscription at a subscription and below, the tenant form elsewhere', () => {
    const suffix = `/providers/Microsoft.Authorization/roleDefinitions/${ROLE.toLowerCase()}`;
    expect(roleDefinitionIdAt(ROLE, `/subscriptions/${SUB}/resourceGroups/g`)).toBe(
      `/subscriptions/${SUB}${suffix}`,
    );
    expect(roleDefinitionIdAt(ROLE, '/')).toBe(suffix);
  });
});

describe('renderRoleAssignment', () => {
  it('names the assignment under its scope, the root without a doubled slash', () => {
    const assignment: RoleAssignment = {
      id: 'a1',
      scope: '/',
      roleDefinitionId: ROLE,
      principalId: 'p',
      principalType: 'ServicePrincipal',
      createdAt: Date.UTC(2026, 0, 2),
      createdBy: null,
    };
    expect(renderRoleAssignment(assignment)).toMatchObject({
      id: '/providers/Microsoft.Authorization/roleAssignments/a1',
      name: 'a1',
      properties: { scope: '/', createdOn: '2026-01-02T00:00:00.000Z', condition: null },
    });
  });
});

describe('queryFilter', () => {
  it('finds $filter in any case, joins repeats and treats blank as none', () => {
    expect(queryFilter({ $FILTER: " roleName eq 'Reader' " })).toBe("roleName eq 'Reader'");
    expect(queryFilter({ $filter: ['a', 'b'] })).toBe('a,b');
    expect(queryFilter({ $filter: ' ' })).toBeUndefined();
    expect(queryFilter({})).toBeUndefined();
  });
});

describe('parseDefinitionFilter', () => {
  it('keeps by roleName or type, compared without case', () => {
    const reader = definition('Reader', 'BuiltInRole');
    expect(parseDefinitionFilter("roleName eq 'reader'")(reader)).toBe(true);
    expect(parseDefinitionFilter("TYPE eq 'customrole'")(reader)).toBe(false);
    expect(parseDefinitionFilter(undefined)(reader)).toBe(true);
  });

  it('refuses another filter with UnsupportedQuery', () => {
    expect(armFailure(() => parseDefinitionFilter("description eq 'x'"))).toMatchObject({
      status: 400,
      code: 'UnsupportedQuery',
    });
  });
});
