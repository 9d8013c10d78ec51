// Tests of granting a role by ARM's rules and of the assignments that concern a scope, on a real SQLite store.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../../test/fixtures/temp-store.js';
import type { Store } from '../ports.js';
import { assignmentsAt } from './assignments-at.js';
import { BUILT_IN_ROLE_IDS, builtInRoleDefinitions } from './builtin-roles.js';
import { type GrantProblem, type GrantRequest, grantRole, isGrantProblem } from './grant.js';

const T0 = Date.UTC(2025, 0, 1);
const SUB = '/subscriptions/0b1f6e3a-5d1c-4b8e-9f2a-7c3d4e5f6a7b';
const GROUP = `${SUB}/resourceGroups/Apps`;
const READER = BUILT_IN_ROLE_IDS.reader;

let tmp: TempStore;
let store: Store;
let principalId: string;

beforeEach(async () => {
  tmp = await openTempStore('tessera-grant-');
  store = tmp.store;
  await store.tenants.create({ id: 't', displayName: 'T', isDefault: true, createdAt: T0 });
  for (const role of builtInRoleDefinitions(T0)) await store.roles.putDefinition(role);
  principalId = randomUUID();
  await store.principals.create({
    objectId: principalId,
    appId: randomUUID(),
    tenantId: 't',
    displayName: 'app',
    type: 'Application',
    alternativeNames: [],
    enabled: true,
    createdAt: T0,
    updatedAt: T0,
  });
});
afterEach(async () => {
  await tmp.close();
});

const request = (overrides: Partial<GrantRequest> = {}): GrantRequest => ({
  name: randomUUID(),
  scope: GROUP,
  roleDefinitionId: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${READER}`,
  principalId,
  principalType: undefined,
  condition: undefined,
  createdBy: 'caller',
  at: T0,
  ...overrides,
});

/** Why `grantRole` refuses `overrides`. */
async function refused(overrides: Partial<GrantRequest>): Promise<GrantProblem['reason']> {
  const error = await grantRole(store, request(overrides)).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isGrantProblem(error)) throw new Error(`not refused: ${String(error)}`);
  return error.problem.reason;
}

describe('grantRole', () => {
  it('creates the assignment once; the same request again is answered as it stands', async () => {
    const name = randomUUID();
    const first = await grantRole(store, request({ name }));
    expect(first).toMatchObject({
      created: true,
      assignment: { id: name, principalType: 'ServicePrincipal' },
    });
    const again = await grantRole(store, request({ name: name.toUpperCase() }));
    expect(again).toEqual({ created: false, assignment: first.assignment });
  });

  it('checks the role before the principal, and the principal before the condition', async () => {
    const bad = { principalId: 'me', condition: 'x' };
    expect(await refused({ roleDefinitionId: 'Reader', ...bad })).toBe(
      'invalid_role_definition_id',
    );
    expect(await refused({ roleDefinitionId: randomUUID(), ...bad })).toBe(
      'role_definition_not_found',
    );
    expect(await refused(bad)).toBe('invalid_principal_id');
    expect(await refused({ principalId: randomUUID(), condition: 'x' })).toBe(
      'principal_not_found',
    );
    expect(await refused({ principalType: 'User', condition: 'x' })).toBe(
      'principal_type_mismatch',
    );
    expect(await refused({ condition: 'x' })).toBe('condition_unsupported');
  });

  it('refuses a changed assignment under a taken name, and a second name for the same grant', async () => {
    const name = randomUUID();
    await grantRole(store, request({ name }));
    expect(await refused({ name, scope: SUB })).toBe('assignment_changed');
    expect(await refused({})).toBe('assignment_exists');
  });
});

describe('assignmentsAt', () => {
  it('lists those above first, then those at and below (store order); atScope() leaves out those below', async () => {
    const at = async (scope: string) => (await grantRole(store, request({ scope }))).assignment.id;
    const above = await at(SUB);
    const here = await at(GROUP);
    const below = await at(`${GROUP}/providers/Microsoft.Compute/virtualMachines/vm1`);
    const ids = async (atScope: boolean) =>
      (await assignmentsAt(store, GROUP, { atScope }, { limit: 10 })).items.map((a) => a.id);
    const all = await ids(false);
    expect(all[0]).toBe(above);
    expect(all.slice(1).sort()).toEqual([here, below].sort());
    expect(await ids(true)).toEqual([above, here]);
    const other = await assignmentsAt(
      store,
      GROUP,
      { atScope: false, principalId: randomUUID() },
      { limit: 10 },
    );
    expect(other.items).toEqual([]);
  });
});
