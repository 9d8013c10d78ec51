// Tests for the built-in role catalogue and its idempotent seeding, on a real SQLite store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../../test/fixtures/temp-store.js';
import type { Store } from '../ports.js';
import { actionMatches } from './actions.js';
import { BUILT_IN_ROLE_IDS, BUILT_IN_ROLES, seedBuiltInRoles } from './builtin-roles.js';

const T0 = Date.UTC(2025, 0, 1);
const byName = (name: string) => {
  const found = BUILT_IN_ROLES.find((r) => r.roleName === name);
  if (found === undefined) throw new Error(`no built-in role ${name}`);
  return found;
};
/** Whether the role's (only) permission block grants `action` (control plane unless `data`). */
const grants = (name: string, action: string, data = false): boolean => {
  const [p] = byName(name).permissions;
  if (p === undefined) return false;
  const [allow, except] = data ? [p.dataActions, p.notDataActions] : [p.actions, p.notActions];
  return (
    allow.some((a) => actionMatches(a, action)) && !except.some((a) => actionMatches(a, action))
  );
};

describe('built-in roles', () => {
  it('lists each role once, with its published GUID, BuiltInRole type, scope / and a source', () => {
    const ids = BUILT_IN_ROLES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(Object.values(BUILT_IN_ROLE_IDS).sort());
    for (const r of BUILT_IN_ROLES) {
      expect(r.type).toBe('BuiltInRole');
      expect(r.assignableScopes).toEqual(['/']);
      expect(r.permissions).toHaveLength(1);
      expect(r.source).toMatch(
        /^https:\/\/learn\.microsoft\.com\/en-us\/azure\/role-based-access-control\/built-in-roles\/[a-z]+#[a-z-]+$/,
      );
    }
    expect(byName('Managed Identity Operator').id).toBe('f1a07417-d97a-45cb-824c-7a7467783830');
    expect(byName('Managed Identity Contributor').id).toBe('e40ec5ca-96e0-45a2-b4ff-59039f2c2b59');
    expect(byName('Key Vault Secrets User').id).toBe('4633458b-17de-408a-b874-0445c86b69e6');
  });

  it('grants what Azure documents each role for', () => {
    const assign = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action';
    const getSecret = 'Microsoft.KeyVault/vaults/secrets/getSecret/action';
    expect(grants('Managed Identity Operator', assign)).toBe(true);
    expect(
      grants('Managed Identity Operator', 'Microsoft.ManagedIdentity/userAssignedIdentities/read'),
    ).toBe(true);
    expect(
      grants('Managed Identity Operator', 'Microsoft.ManagedIdentity/userAssignedIdentities/write'),
    ).toBe(false);
    expect(
      grants(
        'Managed Identity Contributor',
        'Microsoft.ManagedIdentity/userAssignedIdentities/write',
      ),
    ).toBe(true);
    expect(grants('Managed Identity Contributor', assign)).toBe(false);
    expect(grants('Contributor', 'Microsoft.Compute/virtualMachines/write')).toBe(true);
    expect(grants('Contributor', 'Microsoft.Authorization/roleAssignments/write')).toBe(false);
    expect(grants('Contributor', 'Microsoft.Authorization/roleAssignments/read')).toBe(true);
    expect(grants('Owner', 'Microsoft.Authorization/roleAssignments/write')).toBe(true);
    expect(grants('Owner', getSecret, true)).toBe(false);
    expect(grants('Reader', 'Microsoft.Compute/virtualMachines/read')).toBe(true);
    expect(grants('Reader', 'Microsoft.Compute/virtualMachines/write')).toBe(false);
    expect(
      grants('User Access Administrator', 'Microsoft.Authorization/roleAssignments/delete'),
    ).toBe(true);
    expect(
      grants(
        'Role Based Access Control Administrator',
        'Microsoft.Authorization/roleAssignments/write',
      ),
    ).toBe(true);
    expect(
      grants(
        'Role Based Access Control Administrator',
        'Microsoft.Authorization/policyAssignments/write',
      ),
    ).toBe(false);
    expect(
      grants('Virtual Machine Contributor', 'Microsoft.Compute/virtualMachines/extensions/write'),
    ).toBe(true);
    expect(grants('Virtual Machine Contributor', assign)).toBe(false);
    expect(grants('Key Vault Secrets User', getSecret, true)).toBe(true);
    expect(
      grants('Key Vault Secrets User', 'Microsoft.KeyVault/vaults/secrets/setSecret/action', true),
    ).toBe(false);
    expect(
      grants(
        'Key Vault Secrets Officer',
        'Microsoft.KeyVault/vaults/secrets/setSecret/action',
        true,
      ),
    ).toBe(true);
    expect(grants('Key Vault Reader', getSecret, true)).toBe(false);
    expect(
      grants('Key Vault Reader', 'Microsoft.KeyVault/vaults/secrets/readMetadata/action', true),
    ).toBe(true);
    expect(
      grants('Key Vault Administrator', 'Microsoft.KeyVault/vaults/keys/sign/action', true),
    ).toBe(true);
    expect(
      grants(
        'Storage Blob Data Reader',
        'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
        true,
      ),
    ).toBe(true);
  });
});

describe('seedBuiltInRoles', () => {
  let tmp: TempStore;
  let store: Store;
  beforeEach(async () => {
    tmp = await openTempStore('tessera-roles-');
    store = tmp.store;
  });
  afterEach(async () => {
    await tmp.close();
  });

  it('creates every role once, then changes nothing', async () => {
    const first = await seedBuiltInRoles(store, T0);
    expect([...first].sort()).toEqual(Object.values(BUILT_IN_ROLE_IDS).sort());
    expect(await seedBuiltInRoles(store, T0 + 1000)).toEqual([]);
    const owner = await store.roles.getDefinition(BUILT_IN_ROLE_IDS.owner);
    expect(owner).toMatchObject({ roleName: 'Owner', createdAt: T0, updatedAt: T0 });
    expect(owner).not.toHaveProperty('source');
    expect(await store.roles.listDefinitions()).toHaveLength(BUILT_IN_ROLES.length);
  });

  it('restores a role someone altered, keeping when it was created', async () => {
    await seedBuiltInRoles(store, T0);
    const reader = await store.roles.getDefinition(BUILT_IN_ROLE_IDS.reader);
    if (reader === undefined) throw new Error('Reader missing');
    await store.roles.putDefinition({
      ...reader,
      permissions: [{ actions: ['*'], notActions: [], dataActions: [], notDataActions: [] }],
      updatedAt: T0 + 5,
    });
    expect(await seedBuiltInRoles(store, T0 + 10)).toEqual([BUILT_IN_ROLE_IDS.reader]);
    expect(await store.roles.getDefinition(BUILT_IN_ROLE_IDS.reader)).toMatchObject({
      permissions: [{ actions: ['*/read'] }],
      createdAt: T0,
      updatedAt: T0 + 10,
    });
  });
});
