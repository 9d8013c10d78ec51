// Retention for the append-only event tables (the audit log, the Activity Log): by age, then by count.
import type { AuditRetention } from '../../core/ports.js';
import { affected, type Executor } from './shared.js';

/** The tables pruned this way: each has an `at` time and a growing `seq` key. */
type EventTable = 'audit_events' | 'activity_events';

/**
 * Deletes at most `limit` events of `table` that `policy` no longer keeps: first those older than
 * `policy.before`, then those beyond the newest `policy.keep`. Two range deletes, each bounded to
 * `limit` rows and each found through an index (`at`, and the `seq` key), so a replica deleting
 * the same range at the same time only waits, then deletes nothing: no `LIMIT` on `DELETE`
 * (SQLite lacks it) and no row-by-row `IN` list.
 */
export async function pruneEvents(
  db: Executor,
  table: EventTable,
  policy: AuditRetention,
  limit: number,
): Promise<number> {
  const byAge = await pruneOlderThan(db, table, policy.before, limit);
  if (byAge >= limit) return byAge;
  return byAge + (await pruneBeyondNewest(db, table, policy.keep, limit - byAge));
}

async function pruneOlderThan(
  db: Executor,
  table: EventTable,
  before: number,
  limit: number,
): Promise<number> {
  // The limit-th oldest old event; none: fewer than `limit` are old, so delete them all.
  const edge = await db
    .selectFrom(table)
    .select(['at', 'seq'])
    .where('at', '<', before)
    .orderBy('at')
    .orderBy('seq')
    .offset(limit - 1)
    .limit(1)
    .executeTakeFirst();
  let query = db.deleteFrom(table).where('at', '<', before);
  if (edge !== undefined) {
    query = query.where((eb) =>
      eb.or([eb('at', '<', edge.at), eb.and([eb('at', '=', edge.at), eb('seq', '<=', edge.seq)])]),
    );
  }
  return affected(await query.executeTakeFirst());
}

async function pruneBeyondNewest(
  db: Executor,
  table: EventTable,
  keep: number,
  limit: number,
): Promise<number> {
  const bounds = await db
    .selectFrom(table)
    .select((eb) => [
      eb.fn.min<number | null>('seq').as('first'),
      eb.fn.max<number | null>('seq').as('last'),
    ])
    .executeTakeFirst();
  if (bounds === undefined || bounds.first === null || bounds.last === null) return 0;
  // Sequence numbers only grow, so everything at or below `last - keep` is beyond the newest
  // `keep`; take at most `limit` sequence numbers of it from the oldest end.
  const cut = Math.min(bounds.last - keep, bounds.first + limit - 1);
  if (cut < bounds.first) return 0;
  return affected(await db.deleteFrom(table).where('seq', '<=', cut).executeTakeFirst());
}
