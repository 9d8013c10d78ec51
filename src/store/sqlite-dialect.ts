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

/** What Kysely's SQLite driver needs of a database (better-sqlite3's `Database`). */
interface PreparingDatabase {
  prepare(sql: string): unknown;
  close(): unknown;
}

/**
 * Wraps a better-sqlite3 database so `prepare` reuses statements: Kysely's driver prepares each
 * query anew, and parsing SQL costs more than running a point read. Kysely runs one query at a
 * time on its single SQLite connection, so a statement is never in use twice at once. The cache
 * holds at most `capacity` statements (generated SQL has a small, fixed set of shapes).
 */
export function withStatementCache<D extends PreparingDatabase>(database: D, capacity = 500): D {
  const statements = new Map<string, unknown>();
  const prepare = (sql: string): unknown => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = database.prepare(sql);
      if (statements.size >= capacity) statements.clear();
      statements.set(sql, statement);
    }
    return statement;
  };
  return new Proxy(database, {
    get(target, property, receiver) {
      if (property === 'prepare') return prepare;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}
