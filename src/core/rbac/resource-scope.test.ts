// Tests of which resource scopes exist, on a real SQLite store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../../test/fixtures/temp-store.js';
import type { Resource } from '../model.js';
import { findResourceScope } from './resource-scope.js';

const GROUP = '/subscriptions/0b1f6e3a-5d1c-4b8e-9f2a-7c3d4e5f6a7b/resourceGroups/Apps';
const VAULT = `${GROUP}/providers/Microsoft.KeyVault/vaults/Kv1`;

let tmp: TempStore;

beforeEach(async () => {
  tmp = await openTempStore('tessera-scope-');
  const vault: Resource = {
    id: VAULT,
    type: 'Microsoft.KeyVault/vaults',
    name: 'Kv1',
    subscriptionId: '0b1f6e3a-5d1c-4b8e-9f2a-7c3d4e5f6a7b',
    resourceGroup: 'Apps',
    location: 'westeurope',
    tags: {},
    properties: {},
    createdAt: 0,
    updatedAt: 0,
  };
  await tmp.store.resources.put(vault);
});
afterEach(async () => {
  await tmp.close();
});

describe('findResourceScope', () => {
  it('finds a resource in the store’s case, whatever the case asked', async () => {
    expect(await findResourceScope(tmp.store, VAULT.toUpperCase())).toBe(VAULT);
  });

  it('takes a secret, key or certificate of an existing vault as a scope, the collection lower-case', async () => {
    const secret = `${VAULT.toLowerCase()}/Secrets/Db-Password`;
    expect(await findResourceScope(tmp.store, secret)).toBe(`${VAULT}/secrets/Db-Password`);
  });

  it('knows no scope under a missing vault, nor a missing resource', async () => {
    expect(
      await findResourceScope(tmp.store, `${GROUP}/providers/Microsoft.KeyVault/vaults/kv2/keys/k`),
    ).toBeUndefined();
    expect(
      await findResourceScope(
        tmp.store,
        `${GROUP}/providers/Microsoft.Compute/virtualMachines/vm1`,
      ),
    ).toBeUndefined();
  });
});
