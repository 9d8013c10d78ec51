// The server's maintenance jobs with two replicas on one PostgreSQL schema: each runs on one replica at a time, none fails.
import { auditEvent } from '../fixtures/audit-event.js';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import { createSigningKeyService } from '../../src/core/keys/signing-keys.js';
import type { AuditEvent } from '../../src/core/model.js';
import type { Store } from '../../src/core/ports.js';
import {
  type MaintenanceDeps,
  MAINTENANCE_JOBS,
  runMaintenance,
} from '../../src/server/maintenance.js';
import { openStore } from '../../src/store/index.js';
import { TEST_MASTER_KEY } from '../fixtures/keys.js';
import { openTarget, type OpenedTarget, secret, T0 } from '../store/contract-fixtures.js';
import { storeTargets } from '../store/targets.js';

const DAY = 86_400_000;
const NOW = T0 + 400 * DAY;
const clock = { now: () => NOW };
const retention = { maxAgeDays: 30, maxRows: 1_000_000 };
const logger = createLogger({ level: 'silent' });
const postgres = storeTargets().find((target) => target.name === 'postgres');

const oldEvent = (): AuditEvent => auditEvent(randomUUID(), T0);

describe.skipIf(postgres === undefined)('maintenance jobs with two replicas on postgres', () => {
  let t: OpenedTarget;
  let other: Store;
  const replica = (store: Store, over: Partial<MaintenanceDeps> = {}): MaintenanceDeps => ({
    store,
    clock,
    signingKeys: createSigningKeyService({ store, clock }),
    retention,
    logger,
    ...over,
  });

  beforeAll(async () => {
    t = await openTarget(postgres!);
    other = (await openStore({ database: t.options, masterKey: TEST_MASTER_KEY })).store;
  });
  afterAll(async () => {
    await other.close();
    await t.close();
  });

  /** Rows every job has to remove: expired assertion ids, due secrets, old audit events. */
  async function seed(): Promise<void> {
    for (let i = 0; i < 20; i += 1) {
      await t.store.assertionReplay.claim('client', randomUUID(), T0, T0 - 1);
      await t.store.audit.append(oldEvent());
    }
    await t.store.vaultSecrets.addVersion(
      secret({ name: `s-${randomUUID()}`, deletedAt: T0, scheduledPurgeAt: T0 + DAY }),
    );
  }
  const remaining = async (): Promise<{ audit: number; replay: number; secrets: number }> => {
    const count = async (table: string): Promise<number> => {
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int as n from ${sql.table(table)}`.execute(t.raw.db);
      return rows[0]!.n;
    };
    return {
      audit: await count('audit_events'),
      replay: await count('assertion_replay'),
      secrets: await count('vault_secrets'),
    };
  };

  it('runs each job on one replica when both sweep at once; nothing fails, everything is done', async () => {
    await seed();
    // Replica A's rollover holds its job until released, so B's sweep meets it running.
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let ensures = 0;
    const slowKeys = {
      ensure: async () => {
        ensures += 1;
        await gate;
      },
    };
    const sweepA = runMaintenance(replica(t.store, { signingKeys: slowKeys }));
    while (ensures === 0) await sleep(5);
    const runningB = runMaintenance(replica(other, { signingKeys: slowKeys }));
    // B finishes its sweep while A's rollover still runs (were B to run it too, it would wait).
    const finished = await Promise.race([
      runningB.then(() => true),
      // Generous: B waiting on A would never finish; a loaded machine is merely slow.
      sleep(20_000).then(() => false),
    ]);
    release();
    expect(finished).toBe(true);
    const [resultA, sweepB] = await Promise.all([sweepA, runningB]);
    expect(ensures).toBe(1);
    expect(resultA['signing-key-rollover']).toBe('ran');
    expect(sweepB['signing-key-rollover']).toBe('skipped');
    for (const { name } of MAINTENANCE_JOBS) {
      expect([resultA[name], sweepB[name]], name).not.toContain('failed');
      expect([resultA[name], sweepB[name]], name).toContain('ran');
    }
    expect(await remaining()).toEqual({ audit: 0, replay: 0, secrets: 0 });

    // The real jobs on both at once, many times over: no job ever fails.
    await seed();
    const sweeps = await Promise.all(
      Array.from({ length: 6 }, (_, i) => runMaintenance(replica(i % 2 === 0 ? t.store : other))),
    );
    for (const sweep of sweeps) expect(Object.values(sweep)).not.toContain('failed');
    expect(await remaining()).toEqual({ audit: 0, replay: 0, secrets: 0 });
    expect(await t.store.signingKeys.listPublished(NOW)).toHaveLength(1);
  });

  it('skips a job while another process holds its advisory lock, and runs it once released', async () => {
    await seed();
    // What a third replica holds while it prunes the audit log.
    const holder = new pg.Client({
      connectionString: process.env.TESSERA_TEST_POSTGRES_URL,
      options: `-c search_path=${t.raw.schema ?? 'public'}`,
    });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(
        `select pg_advisory_xact_lock(hashtext(concat('tessera:job:', 'audit-retention', ':', current_schema())))`,
      );
      const held = await runMaintenance(replica(t.store));
      expect(held['audit-retention']).toBe('skipped');
      expect(held['assertion-replay-purge']).toBe('ran');
      expect((await remaining()).audit).toBe(20);
      await holder.query('commit');
      expect((await runMaintenance(replica(other)))['audit-retention']).toBe('ran');
      expect((await remaining()).audit).toBe(0);
    } finally {
      await holder.end();
    }
  });
});
