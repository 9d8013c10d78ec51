// The store backends a test runs against: SQLite always, PostgreSQL when TESSERA_TEST_POSTGRES_URL is set.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseOptions } from '../../src/store/index.js';

/** One backend a suite runs against; `create` makes a fresh, empty place for one test file. */
export interface StoreTarget {
  readonly name: 'sqlite' | 'postgres';
  create(): Promise<{ options: DatabaseOptions; dispose(): Promise<void> }>;
}

const sqliteTarget: StoreTarget = {
  name: 'sqlite',
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-store-'));
    return {
      options: { driver: 'sqlite', file: join(dir, 'tessera.db') },
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  },
};

function postgresTarget(url: string): StoreTarget {
  return {
    name: 'postgres',
    create() {
      // A schema of its own per test file, so concurrent runs never see each other's rows.
      const schema = `tessera_test_${process.pid}_${randomBytes(4).toString('hex')}`;
      return Promise.resolve({
        options: { driver: 'postgres', url, schema, poolMax: 4 },
        dispose: async () => {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            await client.query(`drop schema if exists ${schema} cascade`);
          } finally {
            await client.end();
          }
        },
      });
    },
  };
}

/** The PostgreSQL URL for tests, if any. In CI it must be set: a missing one fails, never skips. */
export function postgresUrl(): string | undefined {
  const url = process.env.TESSERA_TEST_POSTGRES_URL;
  if ((url === undefined || url === '') && process.env.CI === 'true') {
    throw new Error('TESSERA_TEST_POSTGRES_URL must be set in CI (see .ci/run)');
  }
  return url === '' ? undefined : url;
}

/** Every backend this run covers. */
export function storeTargets(): StoreTarget[] {
  const url = postgresUrl();
  return url === undefined ? [sqliteTarget] : [sqliteTarget, postgresTarget(url)];
}
