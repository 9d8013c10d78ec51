// Tests for custom roles on a real SQLite store: where a role is seen, and writing and deleting one by Azure's rules.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../../test/fixtures/temp-store.js';
import type { RoleDefinition } from '../model.js';
import type { Store } from '../ports.js';
import { addRoleAssignment } from './assignments.js';
import { BUILT_IN_ROLE_IDS as ROLE, seedBuiltInRoles } from './builtin-roles.js';
import {
  type CustomRoleContent,
  type CustomRoleProblem,
  MAX_CUSTOM_ROLES,
  type ScopeAuthorizer,
  deleteCustomRole,
  isCustomRoleProblem,
  isVisibleAt,
  putCustomRole,
} from './custom-roles.js';

const T0 = Date.UTC(2025, 0, 1);
const SUB = '/subscriptions/00000000-0000-0000-0000-00000000000a';
const GROUP = `${SUB}/resourceGroups/Rg`;
const ID = 'c0570000-0000-4000-8000-000000000001';
const OTHER = 'c0570000-0000-4000-8000-000000000002';

let tmp: TempStore;
let store: Store;

const content = (roleName: string, assignableScopes: string[]): CustomRoleContent => ({
  roleName,
  description: '',
  permissions: [{ actions: ['x/read'], notActions: [], dataActions: [], notDataActions: [] }],
  assignableScopes,
});
const allowAll: ScopeAuthorizer = () => Promise.resolve();
const write = (id: string, roleContent: CustomRoleContent, scope = SUB, at = T0) =>
  putCustomRole(store, { id, scope, content: roleContent, at, authorize: allowAll });

/** The problem a refused call raised. */
async function problemOf(call: Promise<unknown>): Promise<CustomRoleProblem & { status: number }> {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isCustomRoleProblem(error)) throw new Error(`expected a refusal, got ${String(error)}`);
  return { ...error.problem, status: error.status };
}

beforeEach(async () => {
  tmp = await openTempStore('tessera-custom-roles-');
  store = tmp.store;
  await seedBuiltInRoles(store, T0);
});
afterEach(async () => {
  await tmp.close();
});

describe('isVisibleAt', () => {
  it('sees a role at, above and below its assignable scopes, whole segment by segment', () => {
    const role = { assignableScopes: [GROUP] } as unknown as RoleDefinition;
    for (const scope of [GROUP.toUpperCase(), SUB, '/', `${GROUP}/providers/A.B/c/d`]) {
      expect([scope, isVisibleAt(role, scope)]).toEqual([scope, true]);
    }
    for (const scope of [`${SUB}/resourceGroups/Rg2`, `${SUB}0`, `${SUB}b/resourceGroups/Rg`]) {
      expect([scope, isVisibleAt(role, scope)]).toEqual([scope, false]);
    }
  });
});

describe('putCustomRole', () => {
  it('creates, then replaces keeping the creation time', async () => {
    const created = await write(ID, content('Custom', [SUB]));
    expect(created).toMatchObject({ created: true, definition: { type: 'CustomRole' } });
    const updated = await write(ID, content('Custom renamed', [SUB, GROUP]), GROUP, T0 + 5);
    expect(updated.created).toBe(false);
    expect(await store.roles.getDefinition(ID)).toEqual({
      id: ID,
      type: 'CustomRole',
      ...content('Custom renamed', [SUB, GROUP]),
      createdAt: T0,
      updatedAt: T0 + 5,
    });
  });

  it('asks the authorizer for the requested and the current scopes; its refusal writes nothing', async () => {
    await write(ID, content('Custom', [GROUP]));
    const asked: [readonly string[], readonly string[]][] = [];
    const refusal = new Error('denied');
    const authorize: ScopeAuthorizer = (requested, current) => {
      asked.push([requested, current]);
      return Promise.reject(refusal);
    };
    const call = putCustomRole(store, {
      id: ID,
      scope: SUB,
      content: content('Custom', [SUB]),
      at: T0 + 1,
      authorize,
    });
    await expect(call).rejects.toBe(refusal);
    expect(asked).toEqual([[[SUB], [GROUP]]]);
    expect((await store.roles.getDefinition(ID))?.assignableScopes).toEqual([GROUP]);
  });

  it('refuses a built-in id, an unrelated scope, a taken name and a full directory', async () => {
    await write(ID, content('Custom', [SUB]));
    expect(await problemOf(write(ROLE.reader, content('New', [SUB])))).toMatchObject({
      reason: 'built_in_role',
      deleting: false,
      status: 409,
    });
    const unrelated = write(OTHER, content('New', [GROUP]), `${SUB}/resourceGroups/elsewhere`);
    expect(await problemOf(unrelated)).toMatchObject({ reason: 'scope_not_related', status: 400 });
    for (const taken of ['CUSTOM', 'reader']) {
      expect(await problemOf(write(OTHER, content(taken, [SUB])))).toMatchObject({
        reason: 'role_name_taken',
        status: 409,
      });
    }
    await store.transaction(async (tx) => {
      for (let i = 1; i < MAX_CUSTOM_ROLES; i++) {
        const id = `c0570000-0000-4000-9000-${String(i).padStart(12, '0')}`;
        await tx.roles.putDefinition({
          id,
          type: 'CustomRole',
          ...content(`Filler ${i}`, [SUB]),
          createdAt: T0,
          updatedAt: T0,
        });
      }
    });
    expect(await problemOf(write(OTHER, content('One more', [SUB])))).toMatchObject({
      reason: 'limit_reached',
      limit: MAX_CUSTOM_ROLES,
      status: 400,
    });
    // Replacing an existing role is no new one.
    expect((await write(ID, content('Custom', [SUB]))).created).toBe(false);
  });
});

describe('deleteCustomRole', () => {
  it('deletes a role seen at the scope once unassigned; a built-in role never', async () => {
    await write(ID, content('Custom', [GROUP]));
    const remove = (id: string, scope = SUB, authorize = allowAll) =>
      deleteCustomRole(store, { id, scope, authorize });
    expect(await remove(ID, `${SUB}/resourceGroups/elsewhere`)).toBeUndefined();
    expect(await remove(OTHER)).toBeUndefined();
    expect(await problemOf(remove(ROLE.owner))).toMatchObject({
      reason: 'built_in_role',
      deleting: true,
      status: 400,
    });

    const assignment = {
      id: 'a0000000-0000-4000-8000-000000000001',
      scope: GROUP,
      roleDefinitionId: ID,
      principalId: 'p-1',
      principalType: 'ServicePrincipal',
      createdAt: T0,
      createdBy: null,
    };
    await addRoleAssignment(store, assignment);
    expect(await problemOf(remove(ID))).toMatchObject({ reason: 'has_assignments', status: 409 });
    await store.roles.deleteAssignment(assignment.id);

    const asked: (readonly string[])[] = [];
    const deleted = await remove(ID, SUB, (requested, current) => {
      asked.push(requested, current);
      return Promise.resolve();
    });
    expect(asked).toEqual([[], [GROUP]]);
    expect(deleted?.roleName).toBe('Custom');
    expect(await store.roles.getDefinition(ID)).toBeUndefined();
  });
});
