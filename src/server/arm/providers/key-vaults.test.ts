import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ARM_REGISTRY } from './index.js';
import { keyVaults } from './key-vaults.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000001';

describe('the key vaults declaration', () => {
  it('is found from a vault id in any case, and listed at the subscription and the group', () => {
    const item = parseTarget(
      `${SUB}/RESOURCEGROUPS/Kv-Rg/providers/microsoft.keyvault/VAULTS/Kv-1`,
    )!;
    expect(ARM_REGISTRY.get(item.type)).toBe(keyVaults);
    expect(item).toMatchObject({ scopeKind: 'resourceGroup', names: ['Kv-1'], collection: false });
    for (const scope of [SUB, `${SUB}/resourceGroups/rg`]) {
      const list = parseTarget(`${scope}/providers/Microsoft.KeyVault/vaults`)!;
      expect(ARM_REGISTRY.get(list.type)).toBe(keyVaults);
      expect(list.collection).toBe(true);
    }
    expect(keyVaults.placement).toEqual(['resourceGroup']);
    expect(keyVaults.listAt).toEqual(['subscription', 'resourceGroup']);
    expect(keyVaults.tracked).toBe(true);
  });

  it('derives its RBAC actions from the type, authorized at the vault', () => {
    const resolved = (method: string, collection = false) =>
      resolveOperation(keyVaults, method, collection);
    expect(resolved('GET')).toMatchObject({
      action: 'Microsoft.KeyVault/vaults/read',
      authorizeAt: 'item',
    });
    expect(resolved('GET', true)).toMatchObject({ authorizeAt: 'none' });
    expect(resolved('PUT')?.action).toBe('Microsoft.KeyVault/vaults/write');
    expect(resolved('PATCH')?.action).toBe('Microsoft.KeyVault/vaults/write');
    expect(resolved('DELETE')?.action).toBe('Microsoft.KeyVault/vaults/delete');
    expect(resolved('POST')).toBeUndefined();
  });

  it('accepts the Key Vault management versions Tessera’s client and az send (2023-07-01)', () => {
    expect(keyVaults.apiVersions.authority).toBe('provider');
    expect(keyVaults.apiVersions.versions).toEqual(
      expect.arrayContaining(['2023-07-01', '2024-11-01']),
    );
  });
});
