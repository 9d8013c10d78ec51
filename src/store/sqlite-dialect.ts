// Kysely's SQLite dialect with a migration lock that holds across processes, not just in one.
import {
  type DialectAdapter,
  type Kysely,
  type MigrationLockOptions,
  sql,
  SqliteAdapter,
  SqliteDialect,
} from 'kysely';

/**
 * Kysely's SQLite adapter runs migrations outside a transaction and takes no migration lock: inside one process its single connection is
 * lock enough. Two processes on one file are not: each opens a deferred transaction, both read
 * "nothing applied", and the loser then fails on `table already exists`. Writing to the lock row
 * as the transaction's first statement takes SQLite's write lock before anything is read, so the
 * second process waits (busy timeout) and then reads the winner's committed migrations.
 */
class CrossProcessSqliteAdapter extends SqliteAdapter {
  /** SQLite does roll back DDL; running each migration in a transaction makes it all or nothing. */
  override get supportsTransactionalDdl(): boolean {
    return true;
  }

  override async acquireMigrationLock(
    db: Kysely<unknown>,
    options: MigrationLockOptions,
  ): Promise<void> {
    await sql`update ${sql.table(options.lockTable)} set is_locked = is_locked where id = ${options.lockRowId}`.execute(
      db,
    );
  }
}

/** {@link SqliteDialect} whose migrations are safe from several processes at once. */
export class TesseraSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new CrossProcessSqliteAdapter();
  }
}
