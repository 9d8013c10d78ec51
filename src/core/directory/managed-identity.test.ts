// Tests for managed identities' principals, on a real SQLite store.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../../test/fixtures/temp-store.js';
import type { Store } from '../ports.js';
import { BUILT_IN_ROLE_IDS, builtInRoleDefinitions } from '../rbac/index.js';
import { createManagedIdentityPrincipal } from './managed-identity.js';

const T0 = Date.UTC(2025, 0, 1);
const TENANT = '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const VM =
  '/subscriptions/0b1f6e3a-5d1c-4b8e-9f2a-7c3d4e5f6a7b/resourceGroups/Apps/providers/Microsoft.Compute/virtualMachines/web';

let tmp: TempStore;
let store: Store;

beforeEach(async () => {
  tmp = await openTempStore('tessera-managed-identity-');
  store = tmp.store;
  await store.tenants.create({ id: TENANT, displayName: 'T', isDefault: true, createdAt: T0 });
  for (const role of builtInRoleDefinitions(T0)) await store.roles.putDefinition(role);
});
afterEach(async () => {
  await tmp.close();
});

const create = (now: number) =>
  store.transaction((tx) =>
    createManagedIdentityPrincipal(tx, {
      tenantId: TENANT,
      resourceId: VM,
      displayName: 'web',
      newId: randomUUID,
      now,
    }),
  );

describe('createManagedIdentityPrincipal', () => {
  it('creates an enabled managed identity known by the resource id, object id made first', async () => {
    const ids = ['object-id', 'app-id'];
    const principal = await store.transaction((tx) =>
      createManagedIdentityPrincipal(tx, {
        tenantId: TENANT,
        resourceId: VM,
        displayName: 'web',
        newId: () => ids.shift() ?? 'more',
        now: T0,
      }),
    );
    expect(principal).toEqual({
      objectId: 'object-id',
      appId: 'app-id',
      tenantId: TENANT,
      displayName: 'web',
      type: 'ManagedIdentity',
      alternativeNames: [VM],
      enabled: true,
      createdAt: T0,
      updatedAt: T0,
    });
    expect(await store.principals.getByAlternativeName(VM.toLowerCase())).toMatchObject({
      objectId: 'object-id',
    });
  });

  it('removes a principal left under the same id, with its role assignments, first', async () => {
    const stale = await create(T0);
    const assignment = randomUUID();
    await store.roles.createAssignment({
      id: assignment,
      scope: VM,
      roleDefinitionId: BUILT_IN_ROLE_IDS.reader,
      principalId: stale.objectId,
      principalType: 'ServicePrincipal',
      createdAt: T0,
      createdBy: null,
    });
    const fresh = await create(T0 + 1);
    expect(fresh.objectId).not.toBe(stale.objectId);
    expect(await store.principals.get(stale.objectId)).toBeUndefined();
    expect(await store.roles.getAssignment(assignment)).toBeUndefined();
    expect((await store.principals.getByAlternativeName(VM))?.objectId).toBe(fresh.objectId);
  });
});
