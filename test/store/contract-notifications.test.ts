// The store contract for replicas: change notifications at commit (PostgreSQL) and singleton-job locks.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import type { ChangeSubscription, ChangeTopic } from '../../src/core/replicas.js';
import { openStore } from '../../src/store/index.js';
import { listenerApplicationName } from '../../src/store/pg-notifications.js';
import { TEST_MASTER_KEY } from '../fixtures/keys.js';
import { openTarget, T0, type OpenedTarget } from './contract-fixtures.js';
import { storeTargets } from './targets.js';

/** Resolves once `check()` holds; fails after `ms`. */
async function until(check: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await sleep(5);
  }
}

const entry = (n: number) => ({
  at: T0 + n,
  resourceId: `/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm${n}`,
  hostId: null,
});

const postgres = storeTargets().find((target) => target.name === 'postgres');

describe.skipIf(postgres === undefined)('store contract (change notifications) on postgres', () => {
  let t: OpenedTarget;
  /** Another replica: its own pool on the same schema. */
  let other: Store;
  /** A store in another schema of the same database: another installation. */
  let stranger: OpenedTarget;
  let subscription: ChangeSubscription;
  const heard: ChangeTopic[] = [];
  const states: boolean[] = [];
  /** The feed's latest position as read by `t.store` the moment each 'compute' was heard. */
  const readAtNotice: Promise<number>[] = [];
  let noticedAt = 0;

  beforeAll(async () => {
    t = await openTarget(postgres!);
    stranger = await openTarget(postgres!);
    other = (await openStore({ database: t.options, masterKey: TEST_MASTER_KEY })).store;
    const notifications = t.store.replicas.notifications;
    expect(notifications).toBeDefined();
    subscription = await notifications!.listen({
      onChange(topic) {
        heard.push(topic);
        noticedAt = performance.now();
        if (topic === 'compute') {
          readAtNotice.push(t.store.changes.bounds().then((b) => b.latest));
        }
      },
      onListening(listening) {
        states.push(listening);
      },
    });
  });
  afterAll(async () => {
    await subscription.close();
    await other.close();
    await stranger.close();
    await t.close();
  });

  const clear = (): void => {
    heard.length = 0;
    readAtNotice.length = 0;
  };

  it('listens at once, and tells of every topic when it starts (changes made before are unknown)', () => {
    expect(subscription.listening).toBe(true);
    expect(states).toEqual([true]);
    expect([...heard].sort()).toEqual(['compute', 'signing-keys']);
  });

  it('tells of a change-feed append made on another store when it commits, not before', async () => {
    clear();
    let inside = -1;
    await other.transaction(async (tx) => {
      await tx.changes.append([entry(1)]);
      inside = (await tx.changes.bounds()).latest;
      await sleep(300);
      expect(heard).toEqual([]);
    });
    await until(() => heard.includes('compute'));
    expect(heard).toEqual(['compute']);
    // What the listener's side reads when told already has the entry.
    expect(await readAtNotice[0]).toBe(inside);
  });

  it('tells within milliseconds of the commit', async () => {
    const delays: number[] = [];
    for (let n = 0; n < 20; n += 1) {
      clear();
      await other.changes.append([entry(100 + n)]);
      const committed = performance.now();
      await until(() => heard.includes('compute'));
      // Negative when the notice came before the committing client read its reply.
      delays.push(noticedAt - committed);
    }
    const sorted = [...delays].sort((x, y) => x - y);
    console.log(
      `commit -> notice on another connection (ms): median ${sorted[10]!.toFixed(2)}, max ${sorted[19]!.toFixed(2)}`,
    );
    expect(sorted[10]).toBeLessThan(50);
  });

  it('tells nothing of a rolled-back transaction, nor of another schema', async () => {
    clear();
    await expect(
      other.transaction(async (tx) => {
        await tx.changes.append([entry(2)]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await stranger.store.changes.append([entry(3)]);
    await sleep(300);
    expect(heard).toEqual([]);
  });

  it('tells of a signing-key change, once per transaction', async () => {
    const [key] = await other.signingKeys.listPublished(T0);
    expect(key).toBeUndefined();
    clear();
    await other.transaction(async (tx) => {
      await tx.signingKeys.add({
        kid: 'kid-1',
        algorithm: 'RS256',
        publicJwk: {},
        privateKeyPem: 'not a key',
        status: 'active',
        activatesAt: T0,
        retiresAt: null,
        expiresAt: null,
        createdAt: T0,
      });
      await tx.signingKeys.setStatus('kid-1', 'retired', { retiresAt: T0 + 1 });
    });
    await until(() => heard.length > 0);
    await sleep(100);
    expect(heard).toEqual(['signing-keys']);
  });

  it('reconnects after its connection is terminated, and tells of every topic again', async () => {
    const name = listenerApplicationName(t.raw.schema ?? 'public');
    const kill = await sql<{ killed: boolean }>`
      select pg_terminate_backend(pid) as killed from pg_stat_activity
      where application_name = ${name}`.execute(t.raw.db);
    expect(kill.rows.map((r) => r.killed)).toEqual([true]);
    await until(() => states.length >= 2);
    expect(states[1]).toBe(false);
    clear();
    await until(() => subscription.listening);
    expect(states).toEqual([true, false, true]);
    await until(() => heard.length >= 2);
    expect([...heard].sort()).toEqual(['compute', 'signing-keys']);

    clear();
    await other.changes.append([entry(4)]);
    await until(() => heard.includes('compute'));
  });

  it('stops telling once closed', async () => {
    const told: ChangeTopic[] = [];
    const own = await t.store.replicas.notifications!.listen({
      onChange(topic) {
        told.push(topic);
      },
    });
    await own.close();
    expect(own.listening).toBe(false);
    told.length = 0;
    clear();
    await other.changes.append([entry(5)]);
    await until(() => heard.includes('compute'));
    await sleep(100);
    expect(told).toEqual([]);
  });
});

describe.each(storeTargets())('store contract (singleton jobs) on $name', (target) => {
  let t: OpenedTarget;
  let other: Store;

  beforeAll(async () => {
    t = await openTarget(target);
    // On SQLite one process serves the file: the second "replica" is the same store.
    other =
      target.name === 'postgres'
        ? (await openStore({ database: t.options, masterKey: TEST_MASTER_KEY })).store
        : t.store;
  });
  afterAll(async () => {
    if (other !== t.store) await other.close();
    await t.close();
  });

  it('runs a job on one replica at a time: the other skips it while it runs', async () => {
    let release = (): void => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const first = t.store.replicas.exclusive('sweep', async () => {
      runs += 1;
      await held;
      return 'first';
    });
    await until(() => runs === 1);
    expect(await other.replicas.exclusive('sweep', () => Promise.resolve((runs += 1)))).toEqual({
      ran: false,
    });
    // Another job is not held up by it.
    expect(await other.replicas.exclusive('other-job', () => Promise.resolve('x'))).toEqual({
      ran: true,
      value: 'x',
    });
    release();
    expect(await first).toEqual({ ran: true, value: 'first' });
    expect(runs).toBe(1);
    // Released when it settles, even by failing.
    await expect(
      other.replicas.exclusive('sweep', () => Promise.reject(new Error('job failed'))),
    ).rejects.toThrow('job failed');
    expect(await t.store.replicas.exclusive('sweep', () => Promise.resolve(2))).toEqual({
      ran: true,
      value: 2,
    });
  });
});
