// Replica coordination over SQL: NOTIFY at commit for the repositories, and singleton-job locks.

import { PostgresAdapter, sql } from 'kysely';
import type {
  ChangeNotifications,
  ChangeTopic,
  JobOutcome,
  ReplicaCoordination,
} from '../core/replicas.js';
import type { SqlDialect } from './dialect.js';
import type { Executor } from './repos/shared.js';

/**
 * The one PostgreSQL channel changes are announced on. Channels are per database, not per
 * schema, so the payload names both: `{topic}:{schema}` (see {@link notifyChange}).
 */
export const CHANGE_CHANNEL = 'tessera_changes';

/** The payload {@link notifyChange} sends for `topic` from a store whose schema is `schema`. */
export const changePayload = (topic: ChangeTopic, schema: string): string => `${topic}:${schema}`;

/**
 * On PostgreSQL, announces that `topic` changed (`pg_notify`). Inside a transaction PostgreSQL
 * delivers it when that transaction commits, and never if it rolls back, so a listener told of
 * it reads the change; identical notifications of one transaction are delivered once. Outside a
 * transaction it goes out at once, after the caller's earlier (committed) statements. Nothing on
 * SQLite: one process serves the file and wakes its own waiters.
 */
export async function notifyChange(db: Executor, topic: ChangeTopic): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`select pg_notify(${CHANGE_CHANNEL}, concat(${topic}::text, ':', current_schema()))`.execute(
    db,
  );
}

/**
 * Builds the store's {@link ReplicaCoordination}. `db` must be the database itself, not a
 * transaction: a job's lock lives in a transaction of its own while the job's work runs beside it.
 */
export function createSqlReplicaCoordination(parts: {
  readonly db: Executor;
  readonly dialect: SqlDialect;
  readonly notifications: ChangeNotifications | undefined;
}): ReplicaCoordination {
  const { db, dialect } = parts;
  // Jobs running in this process: a second run of one is skipped without asking the database.
  const running = new Set<string>();

  async function lockedElsewhere<T>(name: string, work: () => Promise<T>): Promise<JobOutcome<T>> {
    return db.transaction().execute(async (trx) => {
      // Advisory locks are per database: the schema in the key keeps installations apart.
      const { rows } = await sql<{ locked: boolean }>`
        select pg_try_advisory_xact_lock(
          hashtext(concat('tessera:job:', ${name}::text, ':', current_schema()))
        ) as locked`.execute(trx);
      if (rows[0]?.locked !== true) return { ran: false };
      // The lock is held until this transaction ends, that is until `work` has settled.
      return { ran: true, value: await work() };
    });
  }

  return {
    notifications: parts.notifications,
    async exclusive(name, work) {
      if (running.has(name)) return { ran: false };
      running.add(name);
      try {
        if (dialect === 'postgres') return await lockedElsewhere(name, work);
        return { ran: true, value: await work() };
      } finally {
        running.delete(name);
      }
    },
  };
}
