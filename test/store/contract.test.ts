// The store contract: every backend (SQLite always, PostgreSQL when configured) must pass it.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import type {
  Principal,
  Resource,
  RoleDefinition,
  VaultSecretVersion,
} from '../../src/core/model.js';
import type { Store } from '../../src/core/ports.js';
import {
  openDatabase,
  openStore,
  type DatabaseOptions,
  type OpenDatabase,
} from '../../src/store/index.js';
import { OTHER_MASTER_KEY, TEST_MASTER_KEY } from '../fixtures/keys.js';
import { storeTargets } from './targets.js';

const T0 = 1_763_900_000_000;
const SUB = '6f7c1a52-93b1-4b8f-9d0a-6a1c2f6e0b11';

const principal = (over: Partial<Principal> = {}): Principal => ({
  objectId: randomUUID(),
  appId: randomUUID(),
  tenantId: 'tenant-a',
  displayName: 'id1',
  type: 'ManagedIdentity',
  alternativeNames: [],
  enabled: true,
  createdAt: T0,
  updatedAt: T0,
  ...over,
});

const resource = (id: string, over: Partial<Resource> = {}): Resource => {
  const parts = id.split('/');
  const rgIndex = parts.findIndex((p) => p.toLowerCase() === 'resourcegroups');
  return {
    id,
    type: 'Microsoft.Compute/virtualMachines',
    name: parts[parts.length - 1] ?? '',
    subscriptionId: SUB,
    resourceGroup: rgIndex >= 0 ? (parts[rgIndex + 1] ?? null) : null,
    location: 'westeurope',
    tags: {},
    properties: {},
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
};

const vmId = (rg: string, name: string) =>
  `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;

const ownerRole: RoleDefinition = {
  id: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  roleName: 'Owner',
  type: 'BuiltInRole',
  description: 'Grants full access to manage all resources.',
  assignableScopes: ['/'],
  permissions: [{ actions: ['*'], notActions: [], dataActions: [], notDataActions: [] }],
  createdAt: T0,
  updatedAt: T0,
};

const secret = (over: Partial<VaultSecretVersion> = {}): VaultSecretVersion => ({
  vaultId: 'demo-vault',
  name: 'db-password',
  version: randomUUID().replaceAll('-', ''),
  value: 'correct horse battery staple',
  contentType: null,
  tags: {},
  enabled: true,
  notBefore: null,
  expiresAt: null,
  createdAt: T0,
  updatedAt: T0,
  deletedAt: null,
  scheduledPurgeAt: null,
  ...over,
});

async function expectAppError(promise: Promise<unknown>, code: string, status: number) {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  expect((error as AppError).status).toBe(status);
}

describe.each(storeTargets())('store contract on $name', (target) => {
  let options: DatabaseOptions;
  let dispose: () => Promise<void>;
  let store: Store;
  let raw: OpenDatabase;
  let firstApplied: readonly string[];

  beforeAll(async () => {
    const created = await target.create();
    options = created.options;
    dispose = () => created.dispose();
    const opened = await openStore({ database: options, masterKey: TEST_MASTER_KEY });
    store = opened.store;
    firstApplied = opened.applied;
    raw = await openDatabase(options);
    await store.tenants.create({
      id: 'tenant-a',
      displayName: 'A',
      isDefault: true,
      createdAt: T0,
    });
  });

  afterAll(async () => {
    await store.close();
    await raw.db.destroy();
    await dispose();
  });

  describe('migrations', () => {
    it('applies every migration on first open and none on the next', async () => {
      expect(firstApplied).toEqual(['0001-initial']);
      const again = await openStore({ database: options, masterKey: TEST_MASTER_KEY });
      expect(again.applied).toEqual([]);
      await again.store.close();
    });

    it('reports the dialect it runs on', () => {
      expect(store.dialect).toBe(target.name);
    });
  });

  describe('tenants', () => {
    it('creates, finds the default, and refuses a duplicate id with a 409', async () => {
      await store.tenants.create({
        id: 'tenant-b',
        displayName: 'B',
        isDefault: false,
        createdAt: T0 + 1,
      });
      expect((await store.tenants.getDefault())?.id).toBe('tenant-a');
      expect((await store.tenants.get('tenant-b'))?.displayName).toBe('B');
      expect((await store.tenants.list()).map((t) => t.id)).toEqual(['tenant-a', 'tenant-b']);
      await expectAppError(
        store.tenants.create({
          id: 'tenant-b',
          displayName: 'B2',
          isDefault: false,
          createdAt: T0,
        }),
        'Conflict',
        409,
      );
    });
  });

  describe('principals', () => {
    it('round-trips a principal and finds it by app id and, case-insensitively, by ARM id', async () => {
      const armId = vmId('RG-One', 'vm_1');
      const p = principal({ alternativeNames: [armId] });
      await store.principals.create(p);
      expect(await store.principals.get(p.objectId)).toEqual(p);
      expect(await store.principals.getByAppId(p.appId)).toEqual(p);
      expect((await store.principals.getByAlternativeName(armId.toUpperCase()))?.objectId).toBe(
        p.objectId,
      );
      // `_` must not act as a wildcard, and a prefix must not match.
      expect(await store.principals.getByAlternativeName(vmId('RG-One', 'vmX1'))).toBeUndefined();
      expect(await store.principals.getByAlternativeName(armId.slice(0, -1))).toBeUndefined();
    });

    it('refuses a second principal with the same app id', async () => {
      const p = principal();
      await store.principals.create(p);
      await expectAppError(store.principals.create(principal({ appId: p.appId })), 'Conflict', 409);
    });

    it('refuses a principal in a tenant that does not exist (foreign keys are on)', async () => {
      await expect(
        store.principals.create(principal({ tenantId: 'no-such-tenant' })),
      ).rejects.toThrow();
    });

    it('updates fields and reports a missing principal', async () => {
      const p = principal();
      await store.principals.create(p);
      const updated = await store.principals.update(
        p.objectId,
        { enabled: false, displayName: 'renamed' },
        T0 + 5,
      );
      expect(updated).toMatchObject({
        enabled: false,
        displayName: 'renamed',
        updatedAt: T0 + 5,
        createdAt: T0,
      });
      expect(await store.principals.update(randomUUID(), { enabled: false }, T0)).toBeUndefined();
    });

    it('pages through a tenant with an opaque cursor and rejects a forged one', async () => {
      await store.tenants.create({
        id: 'tenant-paging',
        displayName: 'P',
        isDefault: false,
        createdAt: T0,
      });
      for (let i = 0; i < 5; i++)
        await store.principals.create(principal({ tenantId: 'tenant-paging' }));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.principals.list('tenant-paging', { limit: 2, cursor });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((p) => p.objectId));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(seen).toHaveLength(5);
      expect(new Set(seen).size).toBe(5);
      await expectAppError(
        store.principals.list('tenant-paging', { limit: 2, cursor: 'not-a-cursor' }),
        'InvalidParameter',
        400,
      );
    });

    it('deletes a principal together with its credentials and attachments', async () => {
      const p = principal();
      await store.principals.create(p);
      await store.credentials.add({
        id: randomUUID(),
        principalId: p.objectId,
        kind: 'certificate',
        thumbprintSha1: 'sha1-a',
        thumbprintSha256: 'sha256-a',
        certificate: 'MIIB',
        secretHash: null,
        hint: null,
        hostId: null,
        notBefore: T0,
        notAfter: T0 + 1000,
        revoked: false,
        createdAt: T0,
      });
      const vm = vmId('rg-del', 'vm1');
      await store.resources.put(resource(vm));
      await store.attachments.attach({
        resourceId: vm,
        principalId: p.objectId,
        kind: 'UserAssigned',
        identityResourceId: '/x',
        createdAt: T0,
      });
      expect(await store.principals.delete(p.objectId)).toBe(true);
      expect(await store.credentials.listForPrincipal(p.objectId)).toEqual([]);
      expect(await store.attachments.listForResource(vm)).toEqual([]);
      expect(await store.principals.delete(p.objectId)).toBe(false);
    });
  });

  describe('credentials', () => {
    it('finds certificates by thumbprint, revokes them and drops expired ones', async () => {
      const p = principal();
      await store.principals.create(p);
      await store.hosts.create({
        id: 'host-cred',
        name: 'host-cred',
        joinTokenHash: null,
        certificateThumbprint: null,
        registeredAt: null,
        lastSeenAt: null,
        createdAt: T0,
      });
      const base = {
        principalId: p.objectId,
        kind: 'certificate' as const,
        certificate: 'MIIB',
        secretHash: null,
        hint: null,
        hostId: 'host-cred',
        notBefore: T0,
        revoked: false,
        createdAt: T0,
      };
      await store.credentials.add({
        ...base,
        id: 'c-old',
        thumbprintSha1: 'old1',
        thumbprintSha256: 'old256',
        notAfter: T0 + 10,
      });
      await store.credentials.add({
        ...base,
        id: 'c-new',
        thumbprintSha1: 'new1',
        thumbprintSha256: 'new256',
        notAfter: T0 + 10_000,
      });
      expect((await store.credentials.getByThumbprint('sha1', p.objectId, 'new1'))?.id).toBe(
        'c-new',
      );
      expect((await store.credentials.getByThumbprint('sha256', p.objectId, 'old256'))?.id).toBe(
        'c-old',
      );
      expect(await store.credentials.getByThumbprint('sha1', randomUUID(), 'new1')).toBeUndefined();
      expect(await store.credentials.revoke('c-new')).toBe(true);
      expect((await store.credentials.get('c-new'))?.revoked).toBe(true);
      expect(await store.credentials.deleteExpired(T0 + 100)).toBeGreaterThanOrEqual(1);
      expect(await store.credentials.get('c-old')).toBeUndefined();
      // Deleting the host keeps the credential but forgets the host.
      expect(await store.hosts.delete('host-cred')).toBe(true);
      expect((await store.credentials.get('c-new'))?.hostId).toBeNull();
    });
  });

  describe('resources', () => {
    it('keeps the original case, compares ids case-insensitively, and reports create vs update', async () => {
      const id = vmId('Demo-RG', 'Demo-VM');
      expect(await store.resources.put(resource(id, { tags: { env: 'dev' } }))).toEqual({
        created: true,
      });
      const again = resource(id.toLowerCase(), {
        tags: { env: 'prod' },
        updatedAt: T0 + 9,
        createdAt: T0 + 9,
      });
      expect(await store.resources.put(again)).toEqual({ created: false });
      const got = await store.resources.get(id.toUpperCase());
      expect(got?.id).toBe(id);
      expect(got?.tags).toEqual({ env: 'prod' });
      expect(got?.createdAt).toBe(T0);
      expect(got?.updatedAt).toBe(T0 + 9);
    });

    it('lists by group and type with paging, and deletes a group without touching a look-alike', async () => {
      const ids = [
        vmId('rg1', 'a'),
        vmId('rg1', 'b'),
        vmId('rg1', 'c'),
        vmId('rg10', 'd'),
        vmId('rg_1', 'e'),
      ];
      for (const id of ids) await store.resources.put(resource(id));
      await store.resources.put(
        resource(
          `/subscriptions/${SUB}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u1`,
          {
            type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
          },
        ),
      );
      const first = await store.resources.list(
        { subscriptionId: SUB, resourceGroup: 'RG1', type: 'microsoft.compute/virtualmachines' },
        { limit: 2 },
      );
      expect(first.items.map((r) => r.name)).toEqual(['a', 'b']);
      const second = await store.resources.list(
        { subscriptionId: SUB, resourceGroup: 'rg1', type: 'Microsoft.Compute/virtualMachines' },
        { limit: 2, cursor: first.nextCursor },
      );
      expect(second.items.map((r) => r.name)).toEqual(['c']);
      expect(second.nextCursor).toBeUndefined();

      const removed = await store.resources.deleteUnder(`/subscriptions/${SUB}/resourceGroups/RG1`);
      expect(removed).toBe(4);
      expect(await store.resources.get(vmId('rg10', 'd'))).toBeDefined();
      expect(await store.resources.get(vmId('rg_1', 'e'))).toBeDefined();
      expect(await store.resources.get(vmId('rg1', 'a'))).toBeUndefined();
    });
  });

  describe('identity attachments', () => {
    it('attaches idempotently and goes away with the VM', async () => {
      const p = principal();
      await store.principals.create(p);
      const vm = vmId('rg-att', 'vm1');
      await store.resources.put(resource(vm));
      const attachment = {
        resourceId: vm,
        principalId: p.objectId,
        kind: 'SystemAssigned' as const,
        identityResourceId: vm,
        createdAt: T0,
      };
      await store.attachments.attach(attachment);
      await store.attachments.attach(attachment);
      expect(await store.attachments.listForResource(vm.toUpperCase())).toEqual([attachment]);
      expect(await store.attachments.listForPrincipal(p.objectId)).toEqual([attachment]);
      await store.resources.delete(vm);
      expect(await store.attachments.listForPrincipal(p.objectId)).toEqual([]);
    });

    it('refuses to attach to a VM that does not exist', async () => {
      const p = principal();
      await store.principals.create(p);
      await expect(
        store.attachments.attach({
          resourceId: vmId('rg', 'ghost'),
          principalId: p.objectId,
          kind: 'UserAssigned',
          identityResourceId: '/x',
          createdAt: T0,
        }),
      ).rejects.toThrow();
    });
  });

  describe('roles', () => {
    it('upserts definitions and refuses duplicate assignments of the same role, principal and scope', async () => {
      expect(await store.roles.putDefinition(ownerRole)).toEqual({ created: true });
      expect(await store.roles.putDefinition({ ...ownerRole, description: 'changed' })).toEqual({
        created: false,
      });
      expect((await store.roles.getDefinition(ownerRole.id.toUpperCase()))?.description).toBe(
        'changed',
      );

      const scope = `/subscriptions/${SUB}/resourceGroups/RG-Roles`;
      const a = {
        id: randomUUID(),
        scope,
        roleDefinitionId: ownerRole.id,
        principalId: 'p-1',
        principalType: 'ServicePrincipal',
        createdAt: T0,
        createdBy: null,
      };
      await store.roles.createAssignment(a);
      expect(await store.roles.getAssignment(a.id)).toEqual(a);
      await expectAppError(
        store.roles.createAssignment({ ...a, id: randomUUID(), scope: scope.toLowerCase() }),
        'Conflict',
        409,
      );
    });

    it('lists assignments at and under a scope, not beside it', async () => {
      await store.roles.putDefinition(ownerRole);
      const mk = async (scope: string) => {
        const id = randomUUID();
        await store.roles.createAssignment({
          id,
          scope,
          roleDefinitionId: ownerRole.id,
          principalId: `p-${id}`,
          principalType: 'ServicePrincipal',
          createdAt: T0,
          createdBy: 'admin',
        });
        return id;
      };
      const at = await mk(`/subscriptions/${SUB}/resourceGroups/scope-x`);
      const below = await mk(vmId('scope-x', 'vm'));
      await mk(`/subscriptions/${SUB}/resourceGroups/scope-xy`);
      const page = await store.roles.listAssignments(
        { scopeUnder: `/subscriptions/${SUB}/resourceGroups/SCOPE-X` },
        { limit: 100 },
      );
      expect(page.items.map((x) => x.id).sort()).toEqual([at, below].sort());
      const root = await store.roles.listAssignments({ scopeUnder: '/' }, { limit: 1000 });
      expect(root.items.length).toBeGreaterThanOrEqual(3);
    });

    it('keeps a role definition while assignments use it', async () => {
      const custom = {
        ...ownerRole,
        id: randomUUID(),
        roleName: 'Custom',
        type: 'CustomRole' as const,
      };
      await store.roles.putDefinition(custom);
      await store.roles.createAssignment({
        id: randomUUID(),
        scope: '/',
        roleDefinitionId: custom.id,
        principalId: 'p-x',
        principalType: 'ServicePrincipal',
        createdAt: T0,
        createdBy: null,
      });
      await expect(store.roles.deleteDefinition(custom.id)).rejects.toThrow();
    });
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
      const row = await raw.db
        .selectFrom('signing_keys')
        .select('private_key')
        .where('kid', '=', 'k1')
        .executeTakeFirstOrThrow();
      expect(row.private_key).not.toContain('PRIVATE KEY');
      expect(row.private_key).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
      expect(row.private_key.startsWith('tsv1.')).toBe(true);
    });

    it('cannot open sealed values with another master key', async () => {
      const other = await openStore({ database: options, masterKey: OTHER_MASTER_KEY });
      try {
        await expect(other.store.signingKeys.get('k1')).rejects.toThrow(/unknown master key/);
      } finally {
        await other.store.close();
      }
    });

    it('opens values sealed under a previous master key after rotation', async () => {
      const rotated = await openStore({
        database: options,
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
      const sealedA = await raw.db
        .selectFrom('vault_secrets')
        .select('value')
        .where('name_key', '=', 'alpha')
        .executeTakeFirstOrThrow();
      expect(sealedA.value).not.toContain('alpha-secret');
      await raw.db
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
  });

  describe('hosts', () => {
    it('creates, updates and lists hosts, refusing duplicate names', async () => {
      const host = {
        id: 'h1',
        name: 'host-1',
        joinTokenHash: 'hash',
        certificateThumbprint: null,
        registeredAt: null,
        lastSeenAt: null,
        createdAt: T0,
      };
      await store.hosts.create(host);
      await expectAppError(store.hosts.create({ ...host, id: 'h2' }), 'Conflict', 409);
      expect(
        await store.hosts.update('h1', {
          joinTokenHash: null,
          certificateThumbprint: 'tp',
          registeredAt: T0 + 1,
        }),
      ).toBe(true);
      expect(await store.hosts.getByName('host-1')).toMatchObject({
        joinTokenHash: null,
        certificateThumbprint: 'tp',
        registeredAt: T0 + 1,
      });
      expect(await store.hosts.update('nope', { lastSeenAt: T0 })).toBe(false);
      expect((await store.hosts.list()).map((h) => h.id)).toContain('h1');
    });
  });

  describe('audit', () => {
    it('appends and reads newest first, filtered and paged', async () => {
      const base = {
        kind: 'token',
        tenantId: 'tenant-a',
        resource: 'https://management.azure.com/',
        vmId: null,
        hostId: null,
        reason: null,
        details: {},
      };
      for (let i = 0; i < 3; i++) {
        await store.audit.append({
          ...base,
          id: `e${i}`,
          at: T0 + i,
          outcome: 'issued',
          principalId: 'p-audit',
          tokenId: `uti-${i}`,
        });
      }
      await store.audit.append({
        ...base,
        id: 'e-refused',
        at: T0 + 3,
        outcome: 'refused',
        principalId: 'p-audit',
        tokenId: null,
        reason: 'identity not attached',
        details: { vm: 'x' },
      });
      const first = await store.audit.list({ principalId: 'p-audit' }, { limit: 2 });
      expect(first.items.map((e) => e.id)).toEqual(['e-refused', 'e2']);
      const next = await store.audit.list(
        { principalId: 'p-audit' },
        { limit: 2, cursor: first.nextCursor },
      );
      expect(next.items.map((e) => e.id)).toEqual(['e1', 'e0']);
      const refused = await store.audit.list({ outcome: 'refused' }, { limit: 10 });
      expect(refused.items).toHaveLength(1);
      expect(refused.items[0]).toMatchObject({
        reason: 'identity not attached',
        details: { vm: 'x' },
      });
      expect(
        (await store.audit.list({ principalId: 'p-audit', since: T0 + 2 }, { limit: 10 })).items,
      ).toHaveLength(2);
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
