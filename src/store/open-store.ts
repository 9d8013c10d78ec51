// Opens the store a process uses: connects, migrates to the latest schema, unlocks secret columns.

import type { Store } from '../core/ports.js';
import { masterKeyCheckOf } from '../core/installation.js';
import { createColumnCipher } from './column-cipher.js';
import { type DatabaseOptions, openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';
import { createPgChangeNotifications } from './pg-notifications.js';
import { createSqlStore } from './sql-store.js';

export interface OpenStoreOptions {
  readonly database: DatabaseOptions;
  /** 32-byte master key that seals secret columns. */
  readonly masterKey: Buffer;
  /** Older master keys still accepted for opening values (key rotation). */
  readonly previousMasterKeys?: readonly Buffer[];
}

export interface OpenedStore {
  readonly store: Store;
  /** Migrations this start applied (empty when the schema was already current). */
  readonly applied: readonly string[];
}

/** Connects, runs pending migrations (safe from several replicas at once), and builds the store. */
export async function openStore(options: OpenStoreOptions): Promise<OpenedStore> {
  const { db, dialect, schema } = await openDatabase(options.database);
  try {
    const applied = await migrateToLatest(db, dialect, schema);
    const cipher = createColumnCipher(options.masterKey, options.previousMasterKeys);
    const { database } = options;
    // Replicas share PostgreSQL and hear each other's writes; SQLite has one process.
    const notifications =
      database.driver === 'postgres' && schema !== undefined
        ? createPgChangeNotifications({ url: database.url, schema })
        : undefined;
    return {
      store: createSqlStore({
        db,
        dialect,
        cipher,
        notifications,
        masterKeyCheck: masterKeyCheckOf(options.masterKey),
      }),
      applied,
    };
  } catch (error) {
    await db.destroy();
    throw error;
  }
}
