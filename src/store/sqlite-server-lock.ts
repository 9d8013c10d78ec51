// Keeps a SQLite database to one server: a lock the OS drops when the process holding it ends.

import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { configInvalid } from '../core/errors.js';
import { isSqliteBusy } from './dialect.js';

/** The lock one server holds on its SQLite database while it runs. */
export interface SqliteServerLock {
  /** The lock file, beside the database. */
  readonly file: string;
  /** Lets another server take the database. Safe to call more than once. */
  release(): void;
}

/** The lock file of the database `file`: beside it, never deleted (see {@link lockSqliteServer}). */
export const serverLockFileOf = (file: string): string => `${file}.lock`;

/**
 * Takes the lock that makes this process the only server of the SQLite database `file`, held
 * until {@link SqliteServerLock.release} or the process ends. It is SQLite's own exclusive lock
 * on a small database beside `file` (`<file>.lock`): a POSIX advisory lock the kernel drops when
 * the holder exits or crashes, so there is nothing stale to detect or clean up, and in this
 * process too a second take fails. Operator commands open `file` itself and are not held up.
 * The lock file is never deleted: a process that opened it before the delete could lock the old
 * file while another locks a new one.
 *
 * Fails with `ConfigInvalid` (one line) when another server holds it.
 */
export function lockSqliteServer(file: string): SqliteServerLock {
  const lockFile = serverLockFileOf(file);
  // Made 0600 from its first byte, in a directory made 0700, as the database is.
  mkdirSync(dirname(lockFile), { recursive: true, mode: 0o700 });
  closeSync(openSync(lockFile, 'a', 0o600));
  const db = new SqliteDatabase(lockFile, { timeout: 0 });
  try {
    // Rollback-journal mode: an exclusive transaction takes the file's exclusive lock at once,
    // and `locking_mode = EXCLUSIVE` keeps it however long the transaction stays open.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if (!isSqliteBusy(error)) throw error;
    throw configInvalid(
      `invalid configuration: another Tessera server (tessera server or tessera up) is serving the SQLite database ${file}; SQLite serves one server: stop that one, or use PostgreSQL (store.driver=postgres) to run several replicas`,
      error,
    );
  }
  let held = true;
  return {
    file: lockFile,
    release: () => {
      if (!held) return;
      held = false;
      db.close();
    },
  };
}
