// The store contract (directory): every backend (SQLite always, PostgreSQL when configured) passes it.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { openStore } from '../../src/store/index.js';
import { TEST_MASTER_KEY } from '../fixtures/keys.js';
import {
  expectAppError,
  principal,
  resource,
  T0,
  vmId,
  openTarget,
  type OpenedTarget,
} from './contract-fixtures.js';
import { storeTargets } from './targets.js';

describe.each(storeTargets())('store contract (directory) on $name', (target) => {
  let t: OpenedTarget;
  let store: Store;
  beforeAll(async () => {
    t = await openTarget(target);
    store = t.store;
  });
  afterAll(async () => {
    await t.close();
  });

  describe('migrations', () => {
    it('applies every migration on first open and none on the next', async () => {
      expect(t.firstApplied).toEqual([
        '0001-initial',
        '0002-authority-and-replay',
        '0003-single-default-tenant',
        '0004-role-assignments-principal-scope',
        '0005-etags-and-change-feed',
        '0006-vault-names-and-purge',
        '0007-host-certificate-expiry-and-audit-kind',
        '0008-placement-and-host-credentials',
        '0009-bounded-audit-strings',
        '0010-activity-log',
        '0011-role-names-unique',
        '0012-installation',
        '0013-credentials-principal-host',
      ]);
      const again = await openStore({ database: t.options, masterKey: TEST_MASTER_KEY });
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
      // A second default tenant is a conflict too: replicas racing on first start make one.
      await expectAppError(
        store.tenants.create({ id: 'tenant-c', displayName: 'C', isDefault: true, createdAt: T0 }),
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

  describe('certificate authorities', () => {
    const ca = (id: string, notBefore: number, notAfter: number, createdAt = T0) => ({
      id,
      certificate: Buffer.from(`der of ${id}`).toString('base64'),
      privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${id}\n-----END PRIVATE KEY-----\n`,
      notBefore,
      notAfter,
      createdAt,
    });

    it('picks the valid CA that lasts longest, seals its key, and refuses a duplicate', async () => {
      expect(await store.certificateAuthorities.current(T0)).toBeUndefined();
      await store.certificateAuthorities.add(ca('ca-old', T0 - 100, T0 + 1000));
      await store.certificateAuthorities.add(ca('ca-new', T0 - 50, T0 + 5000, T0 + 1));
      await store.certificateAuthorities.add(ca('ca-future', T0 + 100, T0 + 9000, T0 + 2));
      expect((await store.certificateAuthorities.current(T0))?.id).toBe('ca-new');
      expect((await store.certificateAuthorities.current(T0 + 200))?.id).toBe('ca-future');
      expect(await store.certificateAuthorities.current(T0 + 9000)).toBeUndefined();
      expect((await store.certificateAuthorities.get('ca-old'))?.privateKeyPem).toContain('ca-old');
      expect((await store.certificateAuthorities.list()).map((c) => c.id)).toEqual([
        'ca-future',
        'ca-new',
        'ca-old',
      ]);
      const row = await t.raw.db
        .selectFrom('certificate_authorities')
        .select('private_key')
        .where('id', '=', 'ca-old')
        .executeTakeFirstOrThrow();
      expect(row.private_key).not.toContain('PRIVATE KEY');
      await expectAppError(store.certificateAuthorities.add(ca('ca-old', 0, 1)), 'Conflict', 409);
    });
  });

  describe('assertion replay', () => {
    it('accepts an id once until it expires, per client', async () => {
      const replay = store.assertionReplay;
      expect(await replay.claim('client-1', 'jti-1', T0 + 600_000, T0)).toBe(true);
      expect(await replay.claim('client-1', 'jti-1', T0 + 600_000, T0 + 1)).toBe(false);
      expect(await replay.claim('client-2', 'jti-1', T0 + 600_000, T0 + 1)).toBe(true);
      // once its assertion has expired the id is free again (and could not be replayed anyway)
      expect(await replay.claim('client-1', 'jti-1', T0 + 1_200_000, T0 + 600_000)).toBe(true);
      expect(await replay.purgeExpired(T0 + 600_001)).toBe(1);
      expect(await replay.purgeExpired(T0 + 10_000_000)).toBe(1);
    });

    it('lets exactly one of many concurrent claims win', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          store.assertionReplay.claim('client-race', 'jti-race', T0 + 600_000, T0),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('issue ledger', () => {
    const event = (id: string) => ({
      id,
      at: T0,
      kind: 'token',
      outcome: 'issued' as const,
      tenantId: 'tenant-a',
      principalId: 'p-ledger',
      resource: 'https://vault.azure.net',
      vmId: null,
      hostId: null,
      tokenId: id,
      reason: null,
      details: {},
    });

    it('records concurrent issues together and refuses only the replay', async () => {
      const replay = (jti: string) => ({ clientId: 'c-ledger', jti, expiresAt: T0 + 600_000 });
      const results = await Promise.all([
        store.issueLedger.recordIssue(event('l1'), replay('j1'), T0),
        store.issueLedger.recordIssue(event('l2'), replay('j2'), T0),
        store.issueLedger.recordIssue(event('l3'), replay('j1'), T0), // the same assertion again
        store.issueLedger.recordIssue(event('l4'), undefined, T0), // a secret: nothing to claim
      ]);
      expect(results).toEqual([true, true, false, true]);
      const audited = await store.audit.list({ principalId: 'p-ledger' }, { limit: 10 });
      expect(audited.items.map((e) => e.id).sort()).toEqual(['l1', 'l2', 'l4']);
    });

    it('writes nothing of a batch whose transaction fails', async () => {
      const results = await Promise.allSettled([
        store.issueLedger.recordIssue(event('l5'), undefined, T0),
        store.issueLedger.recordIssue(event('l1'), undefined, T0), // duplicate audit id: fails
      ]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(
        (await store.audit.list({ principalId: 'p-ledger' }, { limit: 10 })).items.map((e) => e.id),
      ).not.toContain('l5');
    });
  });
});
