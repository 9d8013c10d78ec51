// The store contract for what the portal APIs read: host certificate expiry, VM counts per host, audit events by kind.

import { auditEvent } from '../fixtures/audit-event.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Host } from '../../src/core/model.js';
import type { Store } from '../../src/core/ports.js';
import { openTarget, type OpenedTarget, resource, SUB, T0, vmId } from './contract-fixtures.js';
import { storeTargets } from './targets.js';

const host = (id: string, over: Partial<Host> = {}): Host => ({
  id,
  name: `name-${id}`,
  joinTokenHash: null,
  certificateThumbprint: null,
  registeredAt: null,
  lastSeenAt: null,
  createdAt: T0,
  ...over,
});

const event = (id: string, over: Partial<AuditEvent> = {}): AuditEvent => auditEvent(id, T0, over);

describe.each(storeTargets())('store contract (portal reads) on $name', (target) => {
  let t: OpenedTarget;
  let store: Store;
  beforeAll(async () => {
    t = await openTarget(target);
    store = t.store;
  });
  afterAll(async () => {
    await t.close();
  });

  it('applies the host certificate expiry migration', () => {
    expect(t.firstApplied).toContain('0007-host-certificate-expiry-and-audit-kind');
  });

  describe('host certificate expiry', () => {
    it('reads null for a host created without it, and keeps what an update writes', async () => {
      await store.hosts.create(host('cert-a'));
      expect((await store.hosts.get('cert-a'))?.certificateNotAfter).toBeNull();

      expect(await store.hosts.update('cert-a', { certificateNotAfter: T0 + 30 })).toBe(true);
      expect((await store.hosts.getByName('name-cert-a'))?.certificateNotAfter).toBe(T0 + 30);
      // Other updates leave it alone; null clears it.
      await store.hosts.update('cert-a', { lastSeenAt: T0 + 1 });
      expect((await store.hosts.get('cert-a'))?.certificateNotAfter).toBe(T0 + 30);
      await store.hosts.update('cert-a', { certificateNotAfter: null });
      expect((await store.hosts.get('cert-a'))?.certificateNotAfter).toBeNull();

      await store.hosts.create(host('cert-b', { certificateNotAfter: T0 + 99 }));
      const listed = await store.hosts.list();
      expect(listed.find((h) => h.id === 'cert-b')?.certificateNotAfter).toBe(T0 + 99);
      expect(listed.find((h) => h.id === 'cert-a')?.certificateNotAfter).toBeNull();
    });
  });

  describe('VM counts per host', () => {
    it('counts VMs and scale-set instances by properties.tessera.hostId in one read', async () => {
      expect((await store.hosts.countVms()).size).toBe(0);
      const placed = (hostId: unknown) => ({ properties: { tessera: { hostId } } });
      await store.resources.put(resource(vmId('count', 'vm-1'), placed('host-1')));
      await store.resources.put(resource(vmId('count', 'vm-2'), placed('host-1')));
      await store.resources.put(resource(vmId('count', 'vm-3'), placed('host-2')));
      await store.resources.put(resource(vmId('count', 'vm-unplaced')));
      await store.resources.put(resource(vmId('count', 'vm-number'), placed(7)));
      const ss = `/subscriptions/${SUB}/resourceGroups/count/providers/Microsoft.Compute/virtualMachineScaleSets/ss`;
      await store.resources.put(
        resource(`${ss}/virtualMachines/0`, {
          type: 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines',
          ...placed('host-2'),
        }),
      );
      // Another type naming a host is no VM.
      await store.resources.put(
        resource(`/subscriptions/${SUB}/resourceGroups/count/providers/Microsoft.Foo/bars/b`, {
          type: 'Microsoft.Foo/bars',
          ...placed('host-1'),
        }),
      );
      const counts = await store.hosts.countVms();
      expect(Object.fromEntries(counts)).toEqual({ 'host-1': 2, 'host-2': 2 });

      await store.resources.delete(vmId('count', 'vm-2'));
      expect((await store.hosts.countVms()).get('host-1')).toBe(1);
    });
  });

  describe('audit events by kind', () => {
    it('filters by kind alone and with the other filters, newest first, paged', async () => {
      await store.audit.append(
        event('k1', { at: T0 + 1, kind: 'imds.refused', outcome: 'refused' }),
      );
      await store.audit.append(event('k2', { at: T0 + 2 }));
      await store.audit.append(
        event('k3', { at: T0 + 3, kind: 'imds.refused', outcome: 'refused' }),
      );
      await store.audit.append(
        event('k4', { at: T0 + 4, kind: 'arm.extension.deprecated', outcome: 'recorded' }),
      );
      await store.audit.append(
        event('k5', { at: T0 + 5, kind: 'imds.refused', outcome: 'refused' }),
      );

      const refused = await store.audit.list({ kind: 'imds.refused' }, { limit: 2 });
      expect(refused.items.map((e) => e.id)).toEqual(['k5', 'k3']);
      const rest = await store.audit.list(
        { kind: 'imds.refused' },
        { limit: 2, cursor: refused.nextCursor },
      );
      expect(rest.items.map((e) => e.id)).toEqual(['k1']);
      expect(rest.nextCursor).toBeUndefined();

      const recent = await store.audit.list({ kind: 'imds.refused', since: T0 + 3 }, { limit: 10 });
      expect(recent.items.map((e) => e.id)).toEqual(['k5', 'k3']);
      expect(
        (await store.audit.list({ kind: 'token', outcome: 'refused' }, { limit: 10 })).items,
      ).toEqual([]);
      // Kinds compare exactly.
      expect((await store.audit.list({ kind: 'IMDS.REFUSED' }, { limit: 10 })).items).toEqual([]);
    });
  });
});
