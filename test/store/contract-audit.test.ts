// The store contract for the audit log's bounds and retention: strings cut and marked, pruning by age and by rows.

import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_LIMITS, truncationMark } from '../../src/core/audit/bounds.js';
import { pruneAuditLog } from '../../src/core/audit/retention.js';
import type { AuditEvent } from '../../src/core/model.js';
import { migratedBefore, openTarget, type OpenedTarget, T0 } from './contract-fixtures.js';
import { storeTargets } from './targets.js';

const DAY = 86_400_000;

const event = (id: string, over: Partial<AuditEvent> = {}): AuditEvent => ({
  id,
  at: T0,
  kind: 'token',
  outcome: 'refused',
  tenantId: 'tenant-a',
  principalId: null,
  resource: 'https://management.azure.com/',
  vmId: null,
  hostId: null,
  tokenId: null,
  reason: 'no',
  details: {},
  ...over,
});

describe.each(storeTargets())('store contract (audit bounds and retention) on $name', (target) => {
  const opened: OpenedTarget[] = [];
  const fresh = async (): Promise<OpenedTarget> => {
    const t = await openTarget(target);
    opened.push(t);
    return t;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((t) => t.close()));
  });

  const ids = async (t: OpenedTarget): Promise<string[]> =>
    (await t.store.audit.list({}, { limit: 1000 })).items.map((e) => e.id).reverse();

  /** Appends `n` events `e0`…, one millisecond apart from `start`, oldest first. */
  const appendMany = async (t: OpenedTarget, n: number, start: number): Promise<void> => {
    for (let i = 0; i < n; i++) await t.store.audit.append(event(`e${i}`, { at: start + i }));
  };

  it('cuts every stored string to its bound and marks the cut', async () => {
    const t = await fresh();
    const long = 'r'.repeat(60_000);
    await t.store.audit.append(
      event('long', {
        resource: long,
        reason: 'x'.repeat(5000),
        vmId: 'v'.repeat(3000),
        details: {
          clientId: 'c'.repeat(60_000),
          auth: 'secret',
          nested: { deep: 'd'.repeat(600) },
        },
      }),
    );
    const [stored] = (await t.store.audit.list({}, { limit: 1 })).items;
    expect(stored?.resource).toBe(
      'r'.repeat(AUDIT_LIMITS.resource) + truncationMark(60_000 - AUDIT_LIMITS.resource),
    );
    expect(stored?.resource).toMatch(/…\[truncated 57952 chars\]$/);
    expect(stored?.reason?.length).toBeLessThan(AUDIT_LIMITS.reason + 40);
    expect(stored?.vmId?.length).toBeLessThan(AUDIT_LIMITS.vmId + 40);
    expect(stored?.details).toEqual({
      clientId: 'c'.repeat(512) + truncationMark(60_000 - 512),
      auth: 'secret',
      nested: { deep: 'd'.repeat(512) + truncationMark(88) },
    });
    // What fits is stored as given.
    await t.store.audit.append(event('short', { details: { clientId: 'abc' } }));
    const [short] = (await t.store.audit.list({}, { limit: 1 })).items;
    expect(short).toEqual(event('short', { details: { clientId: 'abc' } }));
  });

  it('prunes events older than the cutoff, at most `limit` per call, oldest first', async () => {
    const t = await fresh();
    await appendMany(t, 7, T0);
    const policy = { before: T0 + 5, keep: 1_000_000 };
    expect(await t.store.audit.prune(policy, 3)).toBe(3);
    expect(await ids(t)).toEqual(['e3', 'e4', 'e5', 'e6']);
    expect(await t.store.audit.prune(policy, 3)).toBe(2);
    expect(await t.store.audit.prune(policy, 3)).toBe(0);
    expect(await ids(t)).toEqual(['e5', 'e6']);
  });

  it('stops at `limit` even when many events share one millisecond', async () => {
    const t = await fresh();
    for (let i = 0; i < 6; i++) await t.store.audit.append(event(`same${i}`, { at: T0 }));
    expect(await t.store.audit.prune({ before: T0 + 1, keep: 1_000_000 }, 4)).toBe(4);
    expect(await ids(t)).toEqual(['same4', 'same5']);
  });

  it('keeps only the newest `keep` events, at most `limit` deleted per call', async () => {
    const t = await fresh();
    await appendMany(t, 10, T0);
    const policy = { before: 0, keep: 4 };
    expect(await t.store.audit.prune(policy, 4)).toBe(4);
    expect(await ids(t)).toEqual(['e4', 'e5', 'e6', 'e7', 'e8', 'e9']);
    expect(await t.store.audit.prune(policy, 4)).toBe(2);
    expect(await t.store.audit.prune(policy, 4)).toBe(0);
    expect(await ids(t)).toEqual(['e6', 'e7', 'e8', 'e9']);
    // An empty log has nothing to prune.
    const empty = await fresh();
    expect(await empty.store.audit.prune(policy, 4)).toBe(0);
  });

  it('is idempotent when several replicas prune at once', async () => {
    const t = await fresh();
    await appendMany(t, 40, T0);
    const policy = { before: T0 + 30, keep: 5 };
    const deleted = await Promise.all(
      Array.from({ length: 4 }, () =>
        pruneAuditLog(t.store.audit, T0, { maxAgeDays: 0, maxRows: 5 }),
      ),
    );
    // Each sweep deletes what is still there; together exactly the 35 beyond the newest 5.
    expect(deleted.reduce((a, b) => a + b, 0)).toBe(35);
    expect(await ids(t)).toEqual(['e35', 'e36', 'e37', 'e38', 'e39']);
    expect(await t.store.audit.prune(policy, 100)).toBe(0);
  });

  it('sweeps by age and by rows from the retention policy, and keeps what it allows', async () => {
    const t = await fresh();
    const now = T0 + 40 * DAY;
    await t.store.audit.append(event('old', { at: now - 31 * DAY }));
    await t.store.audit.append(event('recent', { at: now - 29 * DAY }));
    await t.store.audit.append(event('today', { at: now }));
    expect(await pruneAuditLog(t.store.audit, now, { maxAgeDays: 30, maxRows: 1000 })).toBe(1);
    expect(await ids(t)).toEqual(['recent', 'today']);
    expect(await pruneAuditLog(t.store.audit, now, { maxAgeDays: 30, maxRows: 1 })).toBe(1);
    expect(await ids(t)).toEqual(['today']);
    expect(await pruneAuditLog(t.store.audit, now, { maxAgeDays: 30, maxRows: 1 })).toBe(0);
  });

  it('cuts the strings of rows written before migration 0009', async () => {
    const old = await migratedBefore(target, '0009');
    try {
      const { db } = old;
      const insert = (id: string, resource: string, details: unknown) =>
        sql`insert into audit_events (id, at, kind, outcome, tenant_id, principal_id, resource,
          vm_id, host_id, token_id, reason, details)
          values (${id}, ${T0}, 'token', 'refused', null, null, ${resource}, null, null, null,
          'no', ${JSON.stringify(details)})`.execute(db);
      await insert('flooded', 'r'.repeat(60_000), { clientId: 'c'.repeat(10_000), auth: 'secret' });
      await insert('fine', 'https://vault.azure.net', { clientId: 'abc', auth: 'secret' });

      const latest = await old.upgrade();
      try {
        expect(latest.applied).toContain('0009-bounded-audit-strings');
        const byId = new Map(
          (await latest.store.audit.list({}, { limit: 10 })).items.map((e) => [e.id, e]),
        );
        expect(byId.get('flooded')?.resource).toBe(
          'r'.repeat(2048) + truncationMark(60_000 - 2048),
        );
        expect(byId.get('flooded')?.details).toEqual({
          clientId: 'c'.repeat(512) + truncationMark(10_000 - 512),
          auth: 'secret',
        });
        expect(byId.get('fine')?.resource).toBe('https://vault.azure.net');
        expect(byId.get('fine')?.details).toEqual({ clientId: 'abc', auth: 'secret' });
      } finally {
        await latest.store.close();
      }
    } finally {
      await old.close();
    }
  });
});
