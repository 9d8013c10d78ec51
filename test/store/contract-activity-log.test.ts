// The store contract for ARM's Activity Log: append, the subscription/time query with its filters and pages, bounds and retention.

import { auditEvent } from '../fixtures/audit-event.js';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTIVITY_LIMITS } from '../../src/core/audit/activity-bounds.js';
import { truncationMark } from '../../src/core/audit/bounds.js';
import { sweepAuditRetention } from '../../src/core/audit/retention.js';
import type { ActivityEvent, AuditEvent } from '../../src/core/model.js';
import type { ActivityQuery } from '../../src/core/ports.js';
import {
  expectAppError,
  openTarget,
  type OpenedTarget,
  SUB,
  T0,
  vmId,
} from './contract-fixtures.js';
import { storeTargets } from './targets.js';

const DAY = 86_400_000;
const OTHER_SUB = '0b5e2f4c-3d1a-4e6f-8a9b-7c6d5e4f3a21';

const event = (eventDataId: string, over: Partial<ActivityEvent> = {}): ActivityEvent => ({
  eventDataId,
  operationId: randomUUID(),
  at: T0,
  subscriptionId: SUB,
  tenantId: 'tenant-a',
  resourceGroup: 'rg1',
  resourceId: vmId('rg1', 'vm1'),
  resourceType: 'Microsoft.Compute/virtualMachines',
  resourceProvider: 'Microsoft.Compute',
  operationName: 'Microsoft.Compute/virtualMachines/write',
  eventName: 'EndRequest',
  status: 'Succeeded',
  httpStatus: 201,
  level: 'Informational',
  callerObjectId: 'caller-oid',
  callerAppId: 'caller-app',
  caller: 'caller-oid',
  correlationId: 'corr-1',
  clientRequestId: 'client-req',
  serviceRequestId: 'service-req',
  method: 'PUT',
  uri: 'https://tessera.example/subscriptions/x?api-version=2024-03-01',
  clientIp: '10.0.0.1',
  claims: { iat: '1700000000', appid: 'caller-app' },
  ...over,
});

describe.each(storeTargets())('store contract (activity log) on $name', (target) => {
  const opened: OpenedTarget[] = [];
  const fresh = async (): Promise<OpenedTarget> => {
    const t = await openTarget(target);
    opened.push(t);
    return t;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((t) => t.close()));
  });

  const range: ActivityQuery = { subscriptionId: SUB, from: T0 - DAY, to: T0 + DAY };
  const ids = async (t: OpenedTarget, q: Partial<ActivityQuery> = {}): Promise<string[]> =>
    (await t.store.activity.query({ ...range, ...q }, { limit: 1000 })).items.map(
      (e) => e.eventDataId,
    );

  it('appends several events in one call and reads them back whole, newest first', async () => {
    const t = await fresh();
    const begin = event('begin', {
      at: T0,
      eventName: 'BeginRequest',
      status: 'Started',
      httpStatus: null,
    });
    const end = event('end', { at: T0 + 5 });
    await t.store.activity.append([begin, end]);
    await t.store.activity.append([]);
    expect((await t.store.activity.query(range, { limit: 10 })).items).toEqual([end, begin]);
  });

  it('keeps the time range inclusive at both ends, and one subscription only', async () => {
    const t = await fresh();
    await t.store.activity.append([
      event('before', { at: T0 - 1 }),
      event('from', { at: T0 }),
      event('to', { at: T0 + 10 }),
      event('after', { at: T0 + 11 }),
      event('other-sub', { at: T0 + 5, subscriptionId: OTHER_SUB }),
    ]);
    expect(await ids(t, { from: T0, to: T0 + 10 })).toEqual(['to', 'from']);
    // Subscription ids compare case-insensitively.
    expect(await ids(t, { subscriptionId: OTHER_SUB.toUpperCase() })).toEqual(['other-sub']);
  });

  it('narrows by group, resource, provider, correlation id, caller and status, in any case', async () => {
    const t = await fresh();
    await t.store.activity.append([
      event('vm1', { at: T0 + 1 }),
      event('vm1-ext', {
        at: T0 + 2,
        resourceId: `${vmId('rg1', 'vm1')}/extensions/e1`,
        correlationId: 'CORR-2',
      }),
      event('rg2', {
        at: T0 + 3,
        resourceGroup: 'RG2',
        resourceId: vmId('RG2', 'vm9'),
        caller: 'Admin@Contoso.com',
        status: 'Failed',
        level: 'Error',
        httpStatus: 409,
      }),
      event('identity', {
        at: T0 + 4,
        resourceId: `/subscriptions/${SUB}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`,
        resourceType: 'Microsoft.ManagedIdentity/userAssignedIdentities',
        resourceProvider: 'Microsoft.ManagedIdentity',
      }),
      event('subscription', {
        at: T0 + 5,
        resourceGroup: null,
        resourceId: `/subscriptions/${SUB}`,
      }),
    ]);
    expect(await ids(t, { resourceGroup: 'RG1' })).toEqual(['identity', 'vm1-ext', 'vm1']);
    expect(await ids(t, { resourceGroup: 'rg2' })).toEqual(['rg2']);
    // An exact match: the VM's own events, not its extension's.
    expect(await ids(t, { resourceId: vmId('RG1', 'VM1').toLowerCase() })).toEqual(['vm1']);
    expect(await ids(t, { resourceProvider: 'microsoft.managedidentity' })).toEqual(['identity']);
    expect(await ids(t, { correlationId: 'corr-2' })).toEqual(['vm1-ext']);
    expect(await ids(t, { caller: 'admin@contoso.com' })).toEqual(['rg2']);
    expect(await ids(t, { status: 'failed' })).toEqual(['rg2']);
    expect(await ids(t, { status: 'Succeeded', resourceGroup: 'rg2' })).toEqual([]);
    expect(await ids(t, { correlationId: 'corr-1', resourceGroup: 'rg1' })).toEqual([
      'identity',
      'vm1',
    ]);
  });

  it('pages newest first through events that share a millisecond, and refuses a forged cursor', async () => {
    const t = await fresh();
    await t.store.activity.append([
      event('a', { at: T0 }),
      event('b', { at: T0 + 1 }),
      event('c', { at: T0 + 1 }),
      event('d', { at: T0 + 1 }),
      event('e', { at: T0 + 2 }),
    ]);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await t.store.activity.query(range, { limit: 2, cursor });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((e) => e.eventDataId));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(['e', 'd', 'c', 'b', 'a']);
    await expectAppError(
      t.store.activity.query(range, { limit: 2, cursor: 'bm90LWEtY3Vyc29y' }),
      'InvalidParameter',
      400,
    );
  });

  it('refuses an event id that exists with a 409, writing none of the batch', async () => {
    const t = await fresh();
    await t.store.activity.append([event('dup')]);
    await expectAppError(
      t.store.activity.append([event('new', { at: T0 + 1 }), event('dup')]),
      'Conflict',
      409,
    );
    expect(await ids(t)).toEqual(['dup']);
  });

  it('cuts every stored string to its bound, marked, and keeps at most 32 claims', async () => {
    const t = await fresh();
    const longId = `${vmId('rg1', 'vm1')}/${'x'.repeat(5000)}`;
    const claims = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`c${String(i).padStart(2, '0')}`, 'v'.repeat(600)]),
    );
    await t.store.activity.append([
      event('long', { resourceId: longId, claims, caller: 'k'.repeat(300) }),
    ]);
    const [stored] = (await t.store.activity.query(range, { limit: 1 })).items;
    expect(stored?.resourceId).toBe(
      longId.slice(0, ACTIVITY_LIMITS.resourceId) +
        truncationMark(longId.length - ACTIVITY_LIMITS.resourceId),
    );
    expect(stored?.caller).toBe('k'.repeat(256) + truncationMark(44));
    expect(Object.keys(stored?.claims ?? {})).toHaveLength(ACTIVITY_LIMITS.claimEntries);
    expect(stored?.claims.c00).toBe('v'.repeat(512) + truncationMark(88));
  });

  it('prunes by age and by rows, at most `limit` per call, oldest first', async () => {
    const t = await fresh();
    await t.store.activity.append(
      Array.from({ length: 7 }, (_, i) => event(`e${i}`, { at: T0 + i })),
    );
    expect(await t.store.activity.prune({ before: T0 + 5, keep: 1_000_000 }, 3)).toBe(3);
    expect(await t.store.activity.prune({ before: T0 + 5, keep: 1_000_000 }, 3)).toBe(2);
    expect((await ids(t)).reverse()).toEqual(['e5', 'e6']);
    expect(await t.store.activity.prune({ before: 0, keep: 1 }, 10)).toBe(1);
    expect(await ids(t)).toEqual(['e6']);
    expect(await t.store.activity.prune({ before: 0, keep: 1 }, 10)).toBe(0);
  });

  it('is swept with the audit log under the one audit.retention policy', async () => {
    const t = await fresh();
    const now = T0 + 40 * DAY;
    const audit = (id: string, at: number): AuditEvent => auditEvent(id, at);
    await t.store.audit.append(audit('old-audit', now - 31 * DAY));
    await t.store.audit.append(audit('new-audit', now));
    await t.store.activity.append([
      event('old', { at: now - 31 * DAY }),
      event('recent', { at: now - 29 * DAY }),
      event('today', { at: now }),
    ]);
    const all = { subscriptionId: SUB, from: 0, to: now };
    const policy = { maxAgeDays: 30, maxRows: 1000 };
    expect(await sweepAuditRetention(t.store, now, policy)).toEqual({ audit: 1, activity: 1 });
    expect(await ids(t, all)).toEqual(['today', 'recent']);
    expect(await sweepAuditRetention(t.store, now, { maxAgeDays: 30, maxRows: 1 })).toEqual({
      audit: 0,
      activity: 1,
    });
    expect(await ids(t, all)).toEqual(['today']);
  });
});
