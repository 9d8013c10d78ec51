// The store package: open a SQLite or PostgreSQL store behind the core `Store` port.

export { createColumnCipher, keyIdOf, type ColumnCipher } from './column-cipher.js';
export { openDatabase, type DatabaseOptions, type OpenDatabase } from './database.js';
export type { SqlDialect } from './dialect.js';
export { migrateToLatest, migrationsFor } from './migrate.js';
export { openStore, type OpenedStore, type OpenStoreOptions } from './open-store.js';
export { createSqlStore } from './sql-store.js';
export { lockSqliteServer, serverLockFileOf, type SqliteServerLock } from './sqlite-server-lock.js';
export { databaseOptionsFrom } from './from-config.js';
