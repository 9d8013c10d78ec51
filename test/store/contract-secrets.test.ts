// The store contract (secrets, keys, transactions): every backend (SQLite always, PostgreSQL when configured) passes it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { openStore } from '../../src/store/index.js';
import { OTHER_MASTER_KEY, TEST_MASTER_KEY } from '../fixtures/keys.js';
import {
  expectAppError,
  principal,
  resource,
  secret,
  T0,
  vmId,
  openTarget,
  type OpenedTarget,
} from './contract-fixtures.js';
import { storeTargets } from './targets.js';

describe.each(storeTargets())('store contract (secrets, keys, transactions) on $name', (target) => {
  let t: OpenedTarget;
  let store: Store;
  beforeAll(async () => {
    t = await openTarget(target);
    store = t.store;
  });
  afterAll(async () => {
    await t.close();
  });

  describe('secret columns', () => {
    const pem =
      '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';

    it('stores signing private keys sealed, never in clear', async () => {
      await store.signingKeys.add({
        kid: 'k1',
        algorithm: 'RS256',
        publicJwk: { kty: 'RSA', kid: 'k1' },
        privateKeyPem: pem,
        status: 'active',
        activatesAt: T0,
        retiresAt: null,
        expiresAt: null,
        createdAt: T0,
      });
      expect((await store.signingKeys.get('k1'))?.privateKeyPem).toBe(pem);
      const row = await t.raw.db
        .selectFrom('signing_keys')
        .select('private_key')
        .where('kid', '=', 'k1')
        .executeTakeFirstOrThrow();
      expect(row.private_key).not.toContain('PRIVATE KEY');
      expect(row.private_key).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
      expect(row.private_key.startsWith('tsv1.')).toBe(true);
    });

    it('cannot open sealed values with another master key', async () => {
      const other = await openStore({ database: t.options, masterKey: OTHER_MASTER_KEY });
      try {
        await expect(other.store.signingKeys.get('k1')).rejects.toThrow(/unknown master key/);
      } finally {
        await other.store.close();
      }
    });

    it('opens values sealed under a previous master key after rotation', async () => {
      const rotated = await openStore({
        database: t.options,
        masterKey: OTHER_MASTER_KEY,
        previousMasterKeys: [TEST_MASTER_KEY],
      });
      try {
        expect((await rotated.store.signingKeys.get('k1'))?.privateKeyPem).toBe(pem);
      } finally {
        await rotated.store.close();
      }
    });

    it('binds a sealed value to its row: a value copied into another row does not open', async () => {
      const a = secret({ name: 'alpha', value: 'alpha-secret' });
      const b = secret({ name: 'beta', value: 'beta-secret' });
      await store.vaultSecrets.addVersion(a);
      await store.vaultSecrets.addVersion(b);
      const sealedA = await t.raw.db
        .selectFrom('vault_secrets')
        .select('value')
        .where('name_key', '=', 'alpha')
        .executeTakeFirstOrThrow();
      expect(sealedA.value).not.toContain('alpha-secret');
      await t.raw.db
        .updateTable('vault_secrets')
        .set({ value: sealedA.value })
        .where('name_key', '=', 'beta')
        .execute();
      await expect(store.vaultSecrets.getLatest('demo-vault', 'beta')).rejects.toThrow();
    });

    it('lists published keys, newest first, and drops expired ones', async () => {
      await store.signingKeys.add({
        kid: 'k0',
        algorithm: 'RS256',
        publicJwk: {},
        privateKeyPem: pem,
        status: 'retired',
        activatesAt: T0 - 10,
        retiresAt: T0,
        expiresAt: T0 + 5,
        createdAt: T0 - 10,
      });
      await store.signingKeys.add({
        kid: 'k2',
        algorithm: 'RS256',
        publicJwk: {},
        privateKeyPem: pem,
        status: 'next',
        activatesAt: T0 + 100,
        retiresAt: null,
        expiresAt: null,
        createdAt: T0,
      });
      expect((await store.signingKeys.listPublished(T0)).map((k) => k.kid)).toEqual([
        'k2',
        'k1',
        'k0',
      ]);
      expect((await store.signingKeys.listPublished(T0 + 5)).map((k) => k.kid)).toEqual([
        'k2',
        'k1',
      ]);
      expect(await store.signingKeys.setStatus('k2', 'active', { retiresAt: T0 + 1000 })).toBe(
        true,
      );
      expect(await store.signingKeys.get('k2')).toMatchObject({
        status: 'active',
        retiresAt: T0 + 1000,
        expiresAt: null,
      });
    });
  });

  describe('vault secrets', () => {
    it('keeps versions, serves the newest, soft-deletes, recovers and purges', async () => {
      const v1 = secret({ vaultId: 'v2', name: 'Api-Key', value: 'one', tags: { a: '1' } });
      const v2 = secret({ vaultId: 'v2', name: 'api-key', value: 'two', createdAt: T0 });
      await store.vaultSecrets.addVersion(v1);
      await store.vaultSecrets.addVersion(v2);
      await store.vaultSecrets.addVersion(secret({ vaultId: 'v2', name: 'other', value: 'x' }));
      expect((await store.vaultSecrets.getLatest('V2', 'API-KEY'))?.value).toBe('two');
      expect((await store.vaultSecrets.getVersion('v2', 'api-key', v1.version))?.tags).toEqual({
        a: '1',
      });
      await expectAppError(store.vaultSecrets.addVersion({ ...v1 }), 'Conflict', 409);

      const versions = await store.vaultSecrets.listVersions('v2', 'api-key', { limit: 1 });
      expect(versions.items.map((v) => v.value)).toEqual(['one']);
      const rest = await store.vaultSecrets.listVersions('v2', 'api-key', {
        limit: 1,
        cursor: versions.nextCursor,
      });
      expect(rest.items.map((v) => v.value)).toEqual(['two']);

      const updated = await store.vaultSecrets.updateVersion('v2', 'api-key', v2.version, {
        enabled: false,
        expiresAt: T0 + 60,
        updatedAt: T0 + 1,
      });
      expect(updated).toMatchObject({
        enabled: false,
        expiresAt: T0 + 60,
        updatedAt: T0 + 1,
        value: 'two',
      });

      expect(
        (await store.vaultSecrets.listLatest('v2', { deleted: false }, { limit: 10 })).items.map(
          (s) => s.value,
        ),
      ).toEqual(['two', 'x']);
      expect(
        await store.vaultSecrets.setDeleted('v2', 'api-key', {
          deletedAt: T0 + 2,
          scheduledPurgeAt: T0 + 90,
        }),
      ).toBe(2);
      expect(
        (await store.vaultSecrets.listLatest('v2', { deleted: false }, { limit: 10 })).items.map(
          (s) => s.name,
        ),
      ).toEqual(['other']);
      expect(
        (await store.vaultSecrets.listLatest('v2', { deleted: true }, { limit: 10 })).items.map(
          (s) => s.name,
        ),
      ).toEqual(['api-key']); // the newest version's spelling
      await store.vaultSecrets.setDeleted('v2', 'api-key', null);
      expect((await store.vaultSecrets.getLatest('v2', 'api-key'))?.deletedAt).toBeNull();
      expect(await store.vaultSecrets.purge('v2', 'api-key')).toBe(2);
      expect(await store.vaultSecrets.getLatest('v2', 'api-key')).toBeUndefined();
    });

    it('purges deleted secrets when due, and every secret of a deleted vault', async () => {
      await store.vaultSecrets.addVersion(secret({ vaultId: 'v3', name: 'due', value: 'a' }));
      await store.vaultSecrets.addVersion(secret({ vaultId: 'v3', name: 'later', value: 'b' }));
      await store.vaultSecrets.addVersion(secret({ vaultId: 'v3', name: 'live', value: 'c' }));
      await store.vaultSecrets.addVersion(secret({ vaultId: 'v4', name: 'kept', value: 'd' }));
      await store.vaultSecrets.setDeleted('v3', 'due', {
        deletedAt: T0,
        scheduledPurgeAt: T0 + 10,
      });
      await store.vaultSecrets.setDeleted('v3', 'later', {
        deletedAt: T0,
        scheduledPurgeAt: T0 + 20,
      });
      expect(await store.vaultSecrets.purgeDue(T0 + 10)).toBe(1);
      expect(await store.vaultSecrets.getLatest('v3', 'due')).toBeUndefined();
      expect((await store.vaultSecrets.getLatest('v3', 'later'))?.value).toBe('b');
      expect(await store.vaultSecrets.purgeVault('V3')).toBe(2);
      expect(await store.vaultSecrets.getLatest('v3', 'live')).toBeUndefined();
      expect((await store.vaultSecrets.getLatest('v4', 'kept'))?.value).toBe('d');
    });
  });

  describe('transactions', () => {
    it('commits every write of the work together', async () => {
      const p = principal();
      const vm = vmId('rg-tx', 'vm-commit');
      await store.transaction(async (tx) => {
        await tx.principals.create(p);
        await tx.resources.put(resource(vm));
        await tx.attachments.attach({
          resourceId: vm,
          principalId: p.objectId,
          kind: 'SystemAssigned',
          identityResourceId: vm,
          createdAt: T0,
        });
      });
      expect(await store.attachments.listForResource(vm)).toHaveLength(1);
    });

    it('rolls every write back when the work throws, including a nested transaction', async () => {
      const p = principal();
      const vm = vmId('rg-tx', 'vm-rollback');
      await expect(
        store.transaction(async (tx) => {
          await tx.principals.create(p);
          await tx.transaction(async (inner) => {
            await inner.resources.put(resource(vm));
          });
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.principals.get(p.objectId)).toBeUndefined();
      expect(await store.resources.get(vm)).toBeUndefined();
    });

    it('rolls back earlier writes when a later write conflicts', async () => {
      const existing = principal();
      await store.principals.create(existing);
      const fresh = principal();
      await expectAppError(
        store.transaction(async (tx) => {
          await tx.principals.create(fresh);
          await tx.principals.create(principal({ appId: existing.appId }));
        }),
        'Conflict',
        409,
      );
      expect(await store.principals.get(fresh.objectId)).toBeUndefined();
    });

    it('returns the value of the work', async () => {
      expect(await store.transaction(() => Promise.resolve(42))).toBe(42);
    });
  });
});
