// Tests for the RBAC evaluator on a real SQLite store: inheritance, role semantics, caching.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../../test/fixtures/temp-store.js';
import { AppError } from '../errors.js';
import type { Permission } from '../model.js';
import type { Store } from '../ports.js';
import { BUILT_IN_ROLE_IDS as ROLE, seedBuiltInRoles } from './builtin-roles.js';
import { createRbacEvaluator, type RbacEvaluatorOptions } from './evaluator.js';

const T0 = Date.UTC(2025, 0, 1);
const SUB = '/subscriptions/abc';
const rg = (name: string, sub = SUB) => `${sub}/resourceGroups/${name}`;
const vm = (group: string, name: string, sub = SUB) =>
  `${rg(group, sub)}/providers/Microsoft.Compute/virtualMachines/${name}`;
const vault = (group: string, name: string) =>
  `${rg(group)}/providers/Microsoft.KeyVault/vaults/${name}`;

const VM_WRITE = 'Microsoft.Compute/virtualMachines/write';
const VM_READ = 'Microsoft.Compute/virtualMachines/read';
const RA_WRITE = 'Microsoft.Authorization/roleAssignments/write';
const GET_SECRET = 'Microsoft.KeyVault/vaults/secrets/getSecret/action';
const SET_SECRET = 'Microsoft.KeyVault/vaults/secrets/setSecret/action';
const ALICE = 'a11ce000-0000-4000-8000-000000000001';
const BOB = 'b0b00000-0000-4000-8000-000000000002';

let tmp: TempStore;
let store: Store;
const clock = {
  t: T0,
  now(): number {
    return this.t;
  },
};

beforeEach(async () => {
  tmp = await openTempStore('tessera-rbac-');
  store = tmp.store;
  await seedBuiltInRoles(store, T0);
  clock.t = T0;
});
afterEach(async () => {
  await tmp.close();
});

async function assign(principalId: string, roleDefinitionId: string, scope: string) {
  const id = randomUUID();
  await store.roles.createAssignment({
    id,
    scope,
    roleDefinitionId,
    principalId,
    principalType: 'ServicePrincipal',
    createdAt: T0,
    createdBy: null,
  });
  return id;
}

async function customRole(name: string, p: Partial<Permission>) {
  const id = randomUUID();
  await store.roles.putDefinition({
    id,
    roleName: name,
    type: 'CustomRole',
    description: name,
    assignableScopes: [SUB],
    permissions: [
      {
        actions: p.actions ?? [],
        notActions: p.notActions ?? [],
        dataActions: p.dataActions ?? [],
        notDataActions: p.notDataActions ?? [],
      },
    ],
    createdAt: T0,
    updatedAt: T0,
  });
  return id;
}

const evaluator = (options: Partial<RbacEvaluatorOptions> = {}) =>
  createRbacEvaluator({ store, clock, ...options });

describe('inheritance', () => {
  it('an assignment at a subscription grants on a VM below it, naming what granted', async () => {
    const id = await assign(ALICE, ROLE.contributor, SUB);
    const rbac = evaluator();
    expect(
      await rbac.check({ principalId: ALICE, action: VM_WRITE, scope: vm('rg1', 'vm1') }),
    ).toEqual({ allowed: true, matchedAssignmentId: id, roleName: 'Contributor' });
    expect(await rbac.check({ principalId: ALICE, action: VM_WRITE, scope: SUB })).toMatchObject({
      allowed: true,
    });
    // Not for anyone else.
    expect(
      await rbac.check({ principalId: BOB, action: VM_WRITE, scope: vm('rg1', 'vm1') }),
    ).toEqual({ allowed: false });
  });

  it('does not flow sideways, upwards, or into a look-alike scope', async () => {
    await assign(ALICE, ROLE.owner, rg('rg1'));
    await assign(BOB, ROLE.owner, vm('rg1', 'vm1'));
    const rbac = evaluator();
    const can = (principalId: string, scope: string) =>
      rbac.check({ principalId, action: VM_READ, scope }).then((d) => d.allowed);
    expect(await can(ALICE, vm('rg1', 'vm9'))).toBe(true);
    expect(await can(ALICE, vm('rg2', 'vm1'))).toBe(false); // sibling group
    expect(await can(ALICE, vm('rg10', 'vm1'))).toBe(false); // look-alike group
    expect(await can(ALICE, SUB)).toBe(false); // above
    expect(await can(BOB, rg('rg1'))).toBe(false); // above
    expect(await can(BOB, vm('rg1', 'vm10'))).toBe(false); // look-alike resource
    expect(await can(BOB, `${vm('rg1', 'vm1')}/extensions/ext`)).toBe(true); // child resource
  });

  it('tells /subscriptions/abc from /subscriptions/abcd', async () => {
    await assign(ALICE, ROLE.reader, '/subscriptions/abc');
    const rbac = evaluator();
    const scope = vm('rg', 'vm', '/subscriptions/abcd');
    expect((await rbac.check({ principalId: ALICE, action: VM_READ, scope })).allowed).toBe(false);
  });

  it('applies an assignment at the root everywhere', async () => {
    await assign(ALICE, ROLE.reader, '/');
    const rbac = evaluator();
    for (const scope of [
      '/',
      SUB,
      vm('any', 'where'),
      '/providers/Microsoft.Management/managementGroups/mg',
    ]) {
      expect((await rbac.check({ principalId: ALICE, action: VM_READ, scope })).allowed).toBe(true);
    }
  });

  it('compares scopes case-insensitively and tolerates a trailing slash', async () => {
    await assign(ALICE, ROLE.reader, rg('Demo-RG'));
    const rbac = evaluator();
    const scope = `${vm('DEMO-rg', 'VM1').toUpperCase()}/`;
    expect((await rbac.check({ principalId: ALICE, action: VM_READ, scope })).allowed).toBe(true);
  });

  it('reports the nearest of several granting assignments', async () => {
    await assign(ALICE, ROLE.owner, SUB);
    const near = await assign(ALICE, ROLE.reader, vm('rg1', 'vm1'));
    const rbac = evaluator();
    expect(
      await rbac.check({ principalId: ALICE, action: VM_READ, scope: vm('rg1', 'vm1') }),
    ).toEqual({ allowed: true, matchedAssignmentId: near, roleName: 'Reader' });
    // The nearer role does not grant writes; the subscription's Owner still does.
    expect(
      await rbac.check({ principalId: ALICE, action: VM_WRITE, scope: vm('rg1', 'vm1') }),
    ).toMatchObject({ allowed: true, roleName: 'Owner' });
  });
});

describe('role semantics', () => {
  it("applies notActions within their own role only: other roles' grants still count", async () => {
    await assign(ALICE, ROLE.contributor, SUB);
    const rbac = evaluator();
    const write = (scope: string) => rbac.check({ principalId: ALICE, action: RA_WRITE, scope });
    expect((await write(rg('rg1'))).allowed).toBe(false);
    await assign(ALICE, ROLE.userAccessAdministrator, rg('rg1'));
    expect(await write(vm('rg1', 'vm1'))).toMatchObject({
      allowed: true,
      roleName: 'User Access Administrator',
    });
    expect((await write(rg('rg2'))).allowed).toBe(false);
  });

  it('grants data actions only through dataActions: Owner reads no secret', async () => {
    await assign(ALICE, ROLE.owner, SUB);
    await assign(BOB, ROLE.keyVaultSecretsUser, vault('rg1', 'kv1'));
    const rbac = evaluator();
    const kv = vault('rg1', 'kv1');
    const check = (principalId: string, action: string, dataAction: boolean) =>
      rbac.check({ principalId, action, scope: kv, dataAction }).then((d) => d.allowed);
    expect(await check(ALICE, GET_SECRET, true)).toBe(false);
    expect(await check(ALICE, 'Microsoft.KeyVault/vaults/write', false)).toBe(true);
    expect(await check(BOB, GET_SECRET, true)).toBe(true);
    expect(await check(BOB, GET_SECRET, false)).toBe(false); // not as a control-plane action
    expect(await check(BOB, SET_SECRET, true)).toBe(false);
  });

  it('subtracts notDataActions from dataActions', async () => {
    const role = await customRole('Secrets writer', {
      dataActions: ['Microsoft.KeyVault/vaults/secrets/*'],
      notDataActions: [GET_SECRET],
    });
    await assign(ALICE, role, SUB);
    const rbac = evaluator();
    const check = (action: string) =>
      rbac.check({ principalId: ALICE, action, scope: vault('g', 'v'), dataAction: true });
    expect(await check(SET_SECRET)).toMatchObject({ allowed: true, roleName: 'Secrets writer' });
    expect((await check(GET_SECRET)).allowed).toBe(false);
  });

  it('fails closed on a stored pattern that does not compile', async () => {
    const tooWild = 'Microsoft.*/*a*b*c*d';
    const grantsDespite = await customRole('Bad grant', { actions: [tooWild, VM_READ] });
    const excludesAll = await customRole('Bad exclusion', {
      actions: ['*'],
      notActions: [tooWild],
    });
    await assign(ALICE, grantsDespite, SUB);
    await assign(BOB, excludesAll, SUB);
    const rbac = evaluator();
    const can = (principalId: string, action: string) =>
      rbac.check({ principalId, action, scope: SUB }).then((d) => d.allowed);
    expect(await can(ALICE, VM_READ)).toBe(true);
    expect(await can(ALICE, 'Microsoft.X/abcd')).toBe(false); // would match, were it valid
    expect(await can(BOB, VM_READ)).toBe(false);
  });

  it('finds a role however its id was written when assigned', async () => {
    await assign(ALICE, ROLE.reader.toUpperCase(), SUB);
    const rbac = evaluator();
    expect((await rbac.check({ principalId: ALICE, action: VM_READ, scope: SUB })).allowed).toBe(
      true,
    );
  });

  it('refuses a malformed scope and a wildcard action with a 400', async () => {
    const rbac = evaluator();
    await expect(
      rbac.check({ principalId: ALICE, action: VM_READ, scope: 'subscriptions/abc' }),
    ).rejects.toMatchObject({ code: 'InvalidParameter', target: 'scope' });
    await expect(
      rbac.check({ principalId: ALICE, action: '*/read', scope: SUB }),
    ).rejects.toBeInstanceOf(AppError);
  });
});

describe('caching', () => {
  it('by default a revoked assignment stops granting at once', async () => {
    const id = await assign(ALICE, ROLE.reader, SUB);
    const rbac = evaluator();
    const check = () => rbac.check({ principalId: ALICE, action: VM_READ, scope: SUB });
    expect((await check()).allowed).toBe(true);
    await store.roles.deleteAssignment(id);
    expect((await check()).allowed).toBe(false);
  });

  it('with an assignment cache, revocation is seen after the TTL or on invalidate()', async () => {
    const id = await assign(ALICE, ROLE.reader, SUB);
    const rbac = evaluator({ assignmentCacheTtlMs: 1000 });
    const check = () => rbac.check({ principalId: ALICE, action: VM_READ, scope: SUB });
    expect((await check()).allowed).toBe(true);
    await store.roles.deleteAssignment(id);
    clock.t += 999;
    expect((await check()).allowed).toBe(true);
    clock.t += 1;
    expect((await check()).allowed).toBe(false);

    await assign(ALICE, ROLE.reader, SUB);
    expect((await check()).allowed).toBe(false); // the empty answer is cached too
    rbac.invalidate();
    expect((await check()).allowed).toBe(true);
  });

  it('sees a new custom role at once and a changed one after the definition TTL', async () => {
    const rbac = evaluator({ cacheTtlMs: 5000 });
    expect((await rbac.check({ principalId: BOB, action: VM_READ, scope: SUB })).allowed).toBe(
      false,
    );
    const role = await customRole('VM reader', { actions: [VM_READ] });
    await assign(ALICE, role, SUB);
    const check = () => rbac.check({ principalId: ALICE, action: VM_READ, scope: SUB });
    expect((await check()).allowed).toBe(true);

    const changed = await store.roles.getDefinition(role);
    if (changed === undefined) throw new Error('role missing');
    await store.roles.putDefinition({
      ...changed,
      permissions: [{ actions: [VM_WRITE], notActions: [], dataActions: [], notDataActions: [] }],
    });
    expect((await check()).allowed).toBe(true); // still the cached definition
    clock.t += 5000;
    expect((await check()).allowed).toBe(false);
  });
});
