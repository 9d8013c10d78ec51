// The two store backends the store-heavy benchmarks run on: a SQLite file, and a schema of its own
// (`bench_<pid>_<n>`, created by the migrations and dropped afterwards) on the PostgreSQL server
// of TESSERA_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test).
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseOptions } from '../src/store/index.js';

export type BackendKind = 'SQLite' | 'PostgreSQL';
export const BACKENDS: readonly BackendKind[] = ['SQLite', 'PostgreSQL'];

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
let schemas = 0;

export interface Backend {
  readonly kind: BackendKind;
  /** For openStore / openDatabase in this process. */
  readonly database: DatabaseOptions;
  /** The same store as configuration flags, for a server child (`store.*`). */
  readonly flags: Readonly<Record<string, string>>;
  /** Drops the PostgreSQL schema (SQLite files go with their temporary directory). */
  drop(): Promise<void>;
}

/**
 * A fresh, empty store of `kind` (SQLite in `dir`). PostgreSQL: undefined when the server cannot
 * be reached and TESSERA_TEST_POSTGRES_URL is unset (a laptop without it); with the variable set
 * (CI) an unreachable server is an error.
 */
export async function openBackend(kind: BackendKind, dir: string): Promise<Backend | undefined> {
  if (kind === 'SQLite') {
    const file = join(dir, 'tessera.db');
    return {
      kind,
      database: { driver: 'sqlite', file },
      flags: { 'store.driver': 'sqlite', 'store.sqlite.file': file },
      drop: () => Promise.resolve(),
    };
  }
  const url = process.env.TESSERA_TEST_POSTGRES_URL ?? DEFAULT_POSTGRES_URL;
  const schema = `bench_${process.pid}_${++schemas}`;
  const admin = new pg.Client({ connectionString: url });
  try {
    await admin.connect();
  } catch (error) {
    await admin.end().catch(() => undefined);
    if (process.env.TESSERA_TEST_POSTGRES_URL === undefined) return undefined;
    throw error;
  }
  await admin.end();
  return {
    kind,
    database: { driver: 'postgres', url, schema },
    flags: {
      'store.driver': 'postgres',
      'store.postgres.url': url,
      'store.postgres.schema': schema,
    },
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Why a PostgreSQL benchmark did not run. */
export const NO_POSTGRES = 'no PostgreSQL server (set TESSERA_TEST_POSTGRES_URL)';
