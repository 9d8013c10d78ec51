// The store contract (resources and roles): every backend (SQLite always, PostgreSQL when configured) passes it.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import {
  expectAppError,
  ownerRole,
  principal,
  resource,
  SUB,
  T0,
  vmId,
  openTarget,
  type OpenedTarget,
} from './contract-fixtures.js';
import { storeTargets } from './targets.js';

describe.each(storeTargets())('store contract (resources and roles) on $name', (target) => {
  let t: OpenedTarget;
  let store: Store;
  beforeAll(async () => {
    t = await openTarget(target);
    store = t.store;
  });
  afterAll(async () => {
    await t.close();
  });

  describe('resources', () => {
    it('keeps the original case, compares ids case-insensitively, and reports create vs update', async () => {
      const id = vmId('Demo-RG', 'Demo-VM');
      expect(await store.resources.put(resource(id, { tags: { env: 'dev' } }))).toMatchObject({
        created: true,
      });
      const again = resource(id.toLowerCase(), {
        tags: { env: 'prod' },
        updatedAt: T0 + 9,
        createdAt: T0 + 9,
      });
      expect(await store.resources.put(again)).toMatchObject({ created: false });
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

    it('lists what is under an id in pages, case-insensitively, without the id itself or look-alikes', async () => {
      const group = `/subscriptions/${SUB}/resourceGroups/Tree_RG`;
      await store.resources.put(resource(group, { type: 'Microsoft.Resources/resourceGroups' }));
      const under = [
        vmId('tree_rg', 'a'),
        vmId('Tree_RG', 'b'),
        `${vmId('Tree_RG', 'b')}/extensions/x`,
      ];
      for (const id of under) await store.resources.put(resource(id));
      await store.resources.put(resource(vmId('tree_rg0', 'c')));
      await store.resources.put(resource(vmId('treexrg', 'd')));

      const first = await store.resources.listUnder(group.toUpperCase(), { limit: 2 });
      expect(first.items.map((r) => r.id)).toEqual(under.slice(0, 2));
      const second = await store.resources.listUnder(group, {
        limit: 2,
        cursor: first.nextCursor,
      });
      expect(second.items.map((r) => r.id)).toEqual(under.slice(2));
      expect(second.nextCursor).toBeUndefined();
      expect((await store.resources.listUnder(vmId('tree_rg', 'x'), { limit: 5 })).items).toEqual(
        [],
      );
    });
  });

  describe('vault names', () => {
    const vault = (sub: string, name: string): string =>
      `/subscriptions/${sub}/resourceGroups/kv/providers/Microsoft.KeyVault/vaults/${name}`;

    it('finds a resource by name whatever its case, and keeps vault names unique across subscriptions', async () => {
      const type = 'Microsoft.KeyVault/vaults';
      await store.resources.put(resource(vault(SUB, 'Team-Vault'), { type }));
      const found = await store.resources.list({ type, name: 'team-VAULT' }, { limit: 1 });
      expect(found.items.map((r) => r.name)).toEqual(['Team-Vault']);
      expect((await store.resources.list({ type, name: 'team' }, { limit: 1 })).items).toEqual([]);

      // Another subscription, another case: the unique index refuses it, and nothing is written.
      const other = vault(randomUUID(), 'TEAM-vault');
      await expectAppError(
        store.resources.put(resource(other, { type }), { ifMatch: null }),
        'Conflict',
        409,
      );
      expect(await store.resources.get(other)).toBeUndefined();
      // Only vaults: another type may use the name.
      const identity = `/subscriptions/${SUB}/resourceGroups/kv/providers/Microsoft.ManagedIdentity/userAssignedIdentities/team-vault`;
      const ok = store.resources.put(
        resource(identity, { type: 'Microsoft.ManagedIdentity/userAssignedIdentities' }),
      );
      await expect(ok).resolves.toMatchObject({ created: true });
    });
  });

  describe('etags', () => {
    it('gives every write a fresh etag and writes under If-Match only while it holds', async () => {
      const id = vmId('etag-rg', 'vm');
      const first = await store.resources.put(resource(id), { ifMatch: null });
      expect(first.created).toBe(true);
      expect((await store.resources.get(id))?.etag).toBe(first.etag);
      // A create-only write of an existing id fails and changes nothing.
      await expectAppError(
        store.resources.put(resource(id, { tags: { lost: 'yes' } }), { ifMatch: null }),
        'PreconditionFailed',
        412,
      );
      const second = await store.resources.put(resource(id, { tags: { v: '2' } }), {
        ifMatch: first.etag,
      });
      expect(second).toEqual({ created: false, etag: expect.any(String) as string });
      expect(second.etag).not.toBe(first.etag);
      // The first etag is stale now: the write is refused and the resource keeps version 2.
      await expectAppError(
        store.resources.put(resource(id, { tags: { v: 'stale' } }), { ifMatch: first.etag }),
        'PreconditionFailed',
        412,
      );
      await expectAppError(
        store.resources.put(resource(vmId('etag-rg', 'missing')), { ifMatch: first.etag }),
        'PreconditionFailed',
        412,
      );
      const got = await store.resources.get(id);
      expect(got?.tags).toEqual({ v: '2' });
      expect(got?.etag).toBe(second.etag);
      expect(await store.resources.get(vmId('etag-rg', 'missing'))).toBeUndefined();
    });

    it('lets exactly one of two writers holding the same etag win', async () => {
      const id = vmId('etag-rg', 'race');
      const { etag } = await store.resources.put(resource(id));
      const results = await Promise.allSettled(
        ['a', 'b'].map((v) =>
          store.transaction((tx) =>
            tx.resources.put(resource(id, { tags: { v } }), { ifMatch: etag }),
          ),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });
  });

  describe('change feed', () => {
    it("returns a host's entries after a position, in order, and keeps the newest on purge", async () => {
      const host = `host-${randomUUID()}`;
      const other = `host-${randomUUID()}`;
      const start = (await store.changes.bounds()).latest;
      await store.changes.append([
        { at: T0, resourceId: vmId('feed', 'a'), hostId: host },
        { at: T0, resourceId: vmId('feed', 'b'), hostId: other },
      ]);
      await store.transaction((tx) =>
        tx.changes.append([{ at: T0 + 5, resourceId: vmId('feed', 'c'), hostId: host }]),
      );
      await store.changes.append([{ at: T0 + 6, resourceId: vmId('feed', 'd'), hostId: null }]);
      const mine = await store.changes.since(host, start, 10);
      expect(mine.map((c) => c.resourceId)).toEqual([vmId('feed', 'a'), vmId('feed', 'c')]);
      expect(mine[0]?.seq).toBeGreaterThan(start);
      expect(mine[1]?.seq).toBeGreaterThan(mine[0]?.seq ?? Infinity);
      expect(await store.changes.since(host, mine[0]?.seq ?? 0, 10)).toHaveLength(1);
      expect(await store.changes.since(host, start, 1)).toHaveLength(1);
      const { latest } = await store.changes.bounds();
      expect(latest).toBeGreaterThanOrEqual((mine[1]?.seq ?? 0) + 1);

      // A rolled-back transaction leaves no entry.
      await expect(
        store.transaction(async (tx) => {
          await tx.changes.append([{ at: T0, resourceId: vmId('feed', 'x'), hostId: host }]);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(await store.changes.since(host, start, 10)).toHaveLength(2);

      expect(await store.changes.purgeBefore(Number.MAX_SAFE_INTEGER)).toBeGreaterThan(0);
      const after = await store.changes.bounds();
      expect(after).toEqual({ oldest: latest, latest });
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
      expect(await store.attachments.isAttached(vm.toUpperCase(), p.objectId)).toBe(true);
      expect(await store.attachments.isAttached(`${vm}-other`, p.objectId)).toBe(false);
      expect(await store.attachments.isAttached(vm, 'another-principal')).toBe(false);
      await store.resources.delete(vm);
      expect(await store.attachments.listForPrincipal(p.objectId)).toEqual([]);
      expect(await store.attachments.isAttached(vm, p.objectId)).toBe(false);
    });

    it('reads the attachments of many VMs at once, and their principals, case-insensitively', async () => {
      const [p1, p2, p3] = [principal(), principal(), principal()];
      for (const p of [p1, p2, p3]) await store.principals.create(p);
      const [a, b, c] = [
        vmId('rg-bulk', 'bulk-a'),
        vmId('rg-bulk', 'bulk-b'),
        vmId('rg-bulk', 'bulk-c'),
      ];
      for (const vm of [a, b, c]) await store.resources.put(resource(vm));
      const attach = (vm: string, p: typeof p1, at: number) =>
        store.attachments.attach({
          resourceId: vm,
          principalId: p.objectId,
          kind: 'UserAssigned',
          identityResourceId: `/uai/${p.objectId}`,
          createdAt: at,
        });
      await attach(a, p2, T0 + 2);
      await attach(a, p1, T0 + 1);
      await attach(b, p3, T0);
      await attach(c, p1, T0);
      const many = await store.attachments.listForResources([
        a.toUpperCase(),
        b,
        b,
        vmId('rg-bulk', 'none'),
      ]);
      expect(many.map((x) => [x.resourceId, x.principalId])).toEqual([
        [a, p1.objectId],
        [a, p2.objectId],
        [b, p3.objectId],
      ]);
      expect(await store.attachments.listForResources([])).toEqual([]);
      const found = await store.principals.getMany([
        p1.objectId,
        p3.objectId,
        p1.objectId,
        randomUUID(),
      ]);
      expect(found.map((p) => p.objectId).sort()).toEqual([p1.objectId, p3.objectId].sort());
      expect(await store.principals.getMany([])).toEqual([]);
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

    it('keeps role names unique case-insensitively, also against a writer that has not committed', async () => {
      const named = (roleName: string) => ({ ...ownerRole, id: randomUUID(), roleName });
      await store.roles.putDefinition(named('Unique Reader'));
      await expectAppError(store.roles.putDefinition(named('UNIQUE reader')), 'Conflict', 409);
      let racing: Promise<unknown> | undefined;
      await store.transaction(async (tx) => {
        await tx.roles.putDefinition(named('Racing Reader'));
        // Started while the first write is uncommitted: it waits for it, then meets its name.
        racing = store.roles.putDefinition(named('racing reader')).then(
          () => 'written',
          (error: unknown) => error,
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
      });
      expect(await racing).toMatchObject({ code: 'Conflict' });
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

    it('reads the assignments of given principals at exactly the given scopes, case-insensitively', async () => {
      await store.roles.putDefinition(ownerRole);
      const [p1, p2, p3] = [randomUUID(), randomUUID(), randomUUID()];
      const mk = async (principalId: string, scope: string) => {
        const id = randomUUID();
        await store.roles.createAssignment({
          id,
          scope,
          roleDefinitionId: ownerRole.id,
          principalId,
          principalType: 'ServicePrincipal',
          createdAt: T0,
          createdBy: null,
        });
        return id;
      };
      const sub = `/subscriptions/${SUB}`;
      const atRoot = await mk(p1, '/');
      const atSub = await mk(p1, sub);
      const atGroup = await mk(p2, `${sub}/resourceGroups/Scope-Q`);
      await mk(p1, `${sub}/resourceGroups/scope-q-2`); // beside
      await mk(p1, vmId('scope-q', 'vm1')); // below
      await mk(p3, sub); // someone else

      const ids = async (principals: string[], scopes: string[]) =>
        (await store.roles.listAssignmentsForPrincipalAtScopes(principals, scopes))
          .map((a) => a.id)
          .sort();
      const ancestors = ['/', sub, `${sub}/resourceGroups/SCOPE-Q`.toUpperCase()];
      expect(await ids([p1], ancestors)).toEqual([atRoot, atSub].sort());
      expect(await ids([p1, p2], ancestors)).toEqual([atRoot, atSub, atGroup].sort());
      expect(await ids([p2], [`${sub}/resourcegroups/scope-q`])).toEqual([atGroup]);
      expect(await ids([p1], [])).toEqual([]);
      expect(await ids([], ancestors)).toEqual([]);
      const [one] = await store.roles.listAssignmentsForPrincipalAtScopes([p2], ancestors);
      expect(one).toEqual({
        id: atGroup,
        scope: `${sub}/resourceGroups/Scope-Q`,
        roleDefinitionId: ownerRole.id,
        principalId: p2,
        principalType: 'ServicePrincipal',
        createdAt: T0,
        createdBy: null,
      });
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
});
