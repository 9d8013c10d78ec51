// Store point read (the store port's principals.get) against a bare Kysely point read, SQLite.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, openStore } from '../src/store/index.js';
import { type Benchmark, measurePair } from './harness.js';

const PRINCIPALS = 1000;

export const benchmark: Benchmark = {
  name: 'store: principal point read (SQLite)',
  async run(options) {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-'));
    const database = { driver: 'sqlite', file: join(dir, 'bench.db') } as const;
    const { store } = await openStore({ database, masterKey: Buffer.alloc(32, 1) });
    const raw = await openDatabase(database);
    try {
      await store.tenants.create({ id: 't', displayName: 't', isDefault: true, createdAt: 0 });
      const ids: string[] = [];
      await store.transaction(async (tx) => {
        for (let i = 0; i < PRINCIPALS; i++) {
          const objectId = randomUUID();
          ids.push(objectId);
          await tx.principals.create({
            objectId,
            appId: randomUUID(),
            tenantId: 't',
            displayName: `p${i}`,
            type: 'ManagedIdentity',
            alternativeNames: [`/subscriptions/s/resourceGroups/rg/providers/x/${i}`],
            enabled: true,
            createdAt: 0,
            updatedAt: 0,
          });
        }
      });
      let i = 0;
      const next = (): string => ids[i++ % ids.length] ?? '';
      const { subject, baseline } = await measurePair(
        () => store.principals.get(next()),
        () =>
          raw.db
            .selectFrom('principals')
            .selectAll()
            .where('object_id', '=', next())
            .executeTakeFirst(),
        options,
      );
      return {
        name: this.name,
        subject,
        baselineName: 'bare Kysely point read',
        baseline,
        targetRatio: 0.8,
      };
    } finally {
      await store.close();
      await raw.db.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
