// Tests for what goes with a deleted identity or resource tree, on a real SQLite store.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../../test/fixtures/temp-store.js';
import type { Principal, Resource } from '../model.js';
import type { Store } from '../ports.js';
import { BUILT_IN_ROLE_IDS, builtInRoleDefinitions } from '../rbac/index.js';
import { deletePrincipalEverywhere, deleteResourceTree } from './identity-lifecycle.js';

const T0 = Date.UTC(2025, 0, 1);
const SUB = '0b1f6e3a-5d1c-4b8e-9f2a-7c3d4e5f6a7b';
const TENANT = '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const GROUP = `/subscriptions/${SUB}/resourceGroups/Apps`;
const uaiId = (group: string, name: string): string =>
  `/subscriptions/${SUB}/resourceGroups/${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
const vmId = (group: string, name: string): string =>
  `/subscriptions/${SUB}/resourceGroups/${group}/providers/Microsoft.Compute/virtualMachines/${name}`;

let tmp: TempStore;
let store: Store;

beforeEach(async () => {
  tmp = await openTempStore('tessera-lifecycle-');
  store = tmp.store;
  await store.tenants.create({ id: TENANT, displayName: 'T', isDefault: true, createdAt: T0 });
  for (const role of builtInRoleDefinitions(T0)) await store.roles.putDefinition(role);
});
afterEach(async () => {
  await tmp.close();
});

function resource(id: string, type: string, hostId?: string): Resource {
  const parts = id.split('/');
  return {
    id,
    type,
    name: parts.at(-1) ?? '',
    subscriptionId: SUB,
    resourceGroup: parts[4] ?? null,
    location: 'westeurope',
    tags: {},
    properties: hostId === undefined ? {} : { tessera: { hostId } },
    createdAt: T0,
    updatedAt: T0,
  };
}

async function put(id: string, type: string): Promise<void> {
  await store.resources.put(resource(id, type));
}

async function identity(owner: string, type: Principal['type'] = 'ManagedIdentity') {
  const principal: Principal = {
    objectId: randomUUID(),
    appId: randomUUID(),
    tenantId: TENANT,
    displayName: owner.split('/').at(-1) ?? '',
    type,
    alternativeNames: [owner],
    enabled: true,
    createdAt: T0,
    updatedAt: T0,
  };
  await store.principals.create(principal);
  return principal;
}

async function assign(principalId: string, scope: string): Promise<string> {
  const id = randomUUID();
  await store.roles.createAssignment({
    id,
    scope,
    roleDefinitionId: BUILT_IN_ROLE_IDS.reader,
    principalId,
    principalType: 'ServicePrincipal',
    createdAt: T0,
    createdBy: null,
  });
  return id;
}

async function assignmentsOf(principalId: string): Promise<number> {
  return (await store.roles.listAssignments({ principalId }, { limit: 1000 })).items.length;
}

describe('deletePrincipalEverywhere', () => {
  it('detaches, unassigns (past one batch) and deletes the principal, and nothing else', async () => {
    await put(GROUP, 'Microsoft.Resources/resourceGroups');
    const uai = uaiId('Apps', 'id1');
    await put(uai, 'Microsoft.ManagedIdentity/userAssignedIdentities');
    const vm = vmId('Apps', 'vm1');
    await put(vm, 'Microsoft.Compute/virtualMachines');
    const target = await identity(uai);
    const bystander = await identity(uaiId('Apps', 'id2'));
    await store.attachments.attach({
      resourceId: vm,
      principalId: target.objectId,
      kind: 'UserAssigned',
      identityResourceId: uai,
      createdAt: T0,
    });
    for (let i = 0; i < 520; i += 1) await assign(target.objectId, `${GROUP}/thing${String(i)}`);
    await assign(bystander.objectId, GROUP);

    await store.transaction((tx) => deletePrincipalEverywhere(tx, target.objectId, T0));

    expect(await store.principals.get(target.objectId)).toBeUndefined();
    expect(await assignmentsOf(target.objectId)).toBe(0);
    expect(await store.attachments.listForResource(vm)).toEqual([]);
    expect(await store.resources.get(vm)).toBeDefined();
    expect(await store.resources.get(uai)).toBeDefined();
    expect(await store.principals.get(bystander.objectId)).toBeDefined();
    expect(await assignmentsOf(bystander.objectId)).toBe(1);
  });

  it('does nothing for an unknown principal', async () => {
    await expect(deletePrincipalEverywhere(store, randomUUID(), T0)).resolves.toBeUndefined();
  });
});

describe('deleteResourceTree', () => {
  it("deletes a group's resources and the managed identities they own, in any case", async () => {
    await put(GROUP, 'Microsoft.Resources/resourceGroups');
    const uai = uaiId('Apps', 'id1');
    const vm = vmId('Apps', 'vm1');
    await put(uai, 'Microsoft.ManagedIdentity/userAssignedIdentities');
    await put(vm, 'Microsoft.Compute/virtualMachines');
    await put(`${vm}/extensions/ext`, 'Microsoft.Compute/virtualMachines/extensions');
    const user = await identity(uai);
    const system = await identity(vm.toLowerCase());
    const app = await identity(vmId('Apps', 'vm1'), 'Application');
    await assign(user.objectId, `/subscriptions/${SUB}`);
    await assign(system.objectId, GROUP);

    // A look-alike group and its identity stay.
    const other = `/subscriptions/${SUB}/resourceGroups/Apps2`;
    await put(other, 'Microsoft.Resources/resourceGroups');
    await put(uaiId('Apps2', 'id1'), 'Microsoft.ManagedIdentity/userAssignedIdentities');
    const kept = await identity(uaiId('Apps2', 'id1'));

    await store.transaction((tx) => deleteResourceTree(tx, GROUP.toUpperCase(), T0));

    for (const id of [GROUP, uai, vm, `${vm}/extensions/ext`]) {
      expect(await store.resources.get(id)).toBeUndefined();
    }
    expect(await store.principals.get(user.objectId)).toBeUndefined();
    expect(await store.principals.get(system.objectId)).toBeUndefined();
    expect(await assignmentsOf(user.objectId)).toBe(0);
    expect(await assignmentsOf(system.objectId)).toBe(0);
    expect(await store.principals.get(app.objectId)).toBeDefined(); // not a managed identity
    expect(await store.resources.get(other)).toBeDefined();
    expect(await store.principals.get(kept.objectId)).toBeDefined();
  });

  it('deletes a single resource and its principal, and rolls back with its transaction', async () => {
    await put(GROUP, 'Microsoft.Resources/resourceGroups');
    const uai = uaiId('Apps', 'id1');
    await put(uai, 'Microsoft.ManagedIdentity/userAssignedIdentities');
    const user = await identity(uai);
    await assign(user.objectId, GROUP);

    await expect(
      store.transaction(async (tx) => {
        await deleteResourceTree(tx, uai, T0);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await store.resources.get(uai)).toBeDefined();
    expect(await assignmentsOf(user.objectId)).toBe(1);

    await store.transaction((tx) => deleteResourceTree(tx, uai, T0));
    expect(await store.resources.get(uai)).toBeUndefined();
    expect(await store.principals.get(user.objectId)).toBeUndefined();
    expect(await store.resources.get(GROUP)).toBeDefined();
  });
});

describe('change feed', () => {
  it('tells the hosts of the VMs an identity leaves, and of the VMs a tree deletion removes', async () => {
    await put(GROUP, 'Microsoft.Resources/resourceGroups');
    const uai = uaiId('Apps', 'shared');
    await put(uai, 'Microsoft.ManagedIdentity/userAssignedIdentities');
    // vm1 (host-a) elsewhere uses the identity; vm2 (host-b) is in the group being deleted.
    const vm1 = vmId('Other', 'vm1');
    const vm2 = vmId('Apps', 'vm2');
    await store.resources.put(resource(vm1, 'Microsoft.Compute/virtualMachines', 'host-a'));
    await store.resources.put(resource(vm2, 'Microsoft.Compute/virtualMachines', 'host-b'));
    const principal = await identity(uai);
    await store.attachments.attach({
      resourceId: vm1,
      principalId: principal.objectId,
      kind: 'UserAssigned',
      identityResourceId: uai,
      createdAt: T0,
    });

    await store.transaction((tx) => deleteResourceTree(tx, GROUP, T0 + 1));

    const a = await store.changes.since('host-a', 0, 10);
    const b = await store.changes.since('host-b', 0, 10);
    expect(a.map((c) => [c.resourceId, c.at])).toEqual([[vm1, T0 + 1]]);
    expect(b.map((c) => c.resourceId)).toEqual([vm2]);
    expect(await store.resources.get(vm1)).toBeDefined();
    expect(await store.attachments.listForResource(vm1)).toEqual([]);
  });
});
