// Tests for the role-assignment rules on a real SQLite store: where a role is assignable, what assignments grant.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../../test/fixtures/temp-store.js';
import type { RoleAssignment, RoleDefinition } from '../model.js';
import type { Store } from '../ports.js';
import {
  addRoleAssignment,
  isAssignableAt,
  removeRoleAssignment,
  rolesGrantedAt,
} from './assignments.js';
import { BUILT_IN_ROLE_IDS as ROLE, seedBuiltInRoles } from './builtin-roles.js';

const T0 = Date.UTC(2025, 0, 1);
const SUB = '/subscriptions/00000000-0000-0000-0000-00000000000a';
const OTHER_SUB = '/subscriptions/00000000-0000-0000-0000-00000000000b';
const GROUP = `${SUB}/resourceGroups/Rg`;
const ALICE = 'a11ce000-0000-4000-8000-000000000001';
const CUSTOM = 'c0570000-0000-4000-8000-000000000001';

let tmp: TempStore;
let store: Store;
let serial = 0;

const assignment = (roleDefinitionId: string, scope: string): RoleAssignment => ({
  id: `00000000-0000-4000-8000-${String(++serial).padStart(12, '0')}`,
  scope,
  roleDefinitionId,
  principalId: ALICE,
  principalType: 'ServicePrincipal',
  createdAt: T0,
  createdBy: null,
});

const custom: RoleDefinition = {
  id: CUSTOM,
  roleName: 'Sub only',
  type: 'CustomRole',
  description: 'assignable in one subscription',
  assignableScopes: [SUB],
  permissions: [{ actions: ['x/read'], notActions: [], dataActions: [], notDataActions: [] }],
  createdAt: T0,
  updatedAt: T0,
};

beforeEach(async () => {
  tmp = await openTempStore('tessera-assignments-');
  store = tmp.store;
  await seedBuiltInRoles(store, T0);
  await store.roles.putDefinition(custom);
});
afterEach(async () => {
  await tmp.close();
});

describe('isAssignableAt', () => {
  it('takes a role at its assignable scopes and below, in any case, and nowhere else', () => {
    expect(isAssignableAt(custom, SUB)).toBe(true);
    expect(isAssignableAt(custom, GROUP.toUpperCase())).toBe(true);
    expect(isAssignableAt(custom, OTHER_SUB)).toBe(false);
    expect(isAssignableAt(custom, '/')).toBe(false);
    expect(isAssignableAt({ ...custom, assignableScopes: ['/'] }, OTHER_SUB)).toBe(true);
  });
});

describe('rolesGrantedAt', () => {
  it('lists each granted role once, the assignment nearest the root first', async () => {
    for (const [role, scope] of [
      [ROLE.contributor, SUB],
      [ROLE.reader, GROUP],
      [ROLE.reader, '/'],
      [CUSTOM, SUB],
    ] as const) {
      await addRoleAssignment(store, assignment(role, scope));
    }
    const names = async (scope: string): Promise<string[]> =>
      (await rolesGrantedAt(store, ALICE, scope)).map((definition) => definition.roleName);
    expect(await names(GROUP.toLowerCase())).toEqual(['Reader', 'Contributor', 'Sub only']);
    expect(await names(OTHER_SUB)).toEqual(['Reader']);
    expect(await names('/')).toEqual(['Reader']);
  });
});

describe('addRoleAssignment and removeRoleAssignment', () => {
  it('refuses the same grant twice and removes an assignment once', async () => {
    const granted = assignment(ROLE.reader, GROUP);
    await addRoleAssignment(store, granted);
    await expect(addRoleAssignment(store, assignment(ROLE.reader, GROUP))).rejects.toMatchObject({
      code: 'Conflict',
    });
    expect(await removeRoleAssignment(store, granted, T0)).toBe(true);
    expect(await removeRoleAssignment(store, granted, T0)).toBe(false);
    expect(await store.roles.getAssignment(granted.id)).toBeUndefined();
  });
});
