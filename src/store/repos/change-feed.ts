// The agents' change feed in SQL: which VMs changed on which host, in commit order.

import { sql } from 'kysely';
import type { ChangeFeed, ComputeChange } from '../../core/ports.js';
import type { SqlDialect } from '../dialect.js';
import { notifyChange } from '../replicas.js';
import { affected, type Executor } from './shared.js';

/**
 * Serializes writers of the feed on PostgreSQL (a transaction-scoped advisory lock, held until
 * commit), so sequence numbers become visible in the order they were assigned and a reader at N
 * never misses a later-committed entry below N. SQLite has one writer at a time already.
 */
const FEED_LOCK = 'tessera:compute_changes';

export class SqlChangeFeed implements ChangeFeed {
  /** `onHosts`: told the hosts of every append (see `createSqlStore`'s commit rule). */
  constructor(
    private readonly db: Executor,
    private readonly dialect: SqlDialect,
    private readonly onHosts: (hostIds: readonly string[]) => Promise<void> = async () => {},
  ) {}

  async append(entries: readonly Omit<ComputeChange, 'seq'>[]): Promise<void> {
    if (entries.length === 0) return;
    if (this.dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(hashtext(${FEED_LOCK}))`.execute(this.db);
    }
    await this.db
      .insertInto('compute_changes')
      .values(entries.map((e) => ({ at: e.at, resource_id: e.resourceId, host_id: e.hostId })))
      .execute();
    await this.onHosts(entries.flatMap((e) => (e.hostId === null ? [] : [e.hostId])));
    // Delivered at commit: other replicas wake their long-polls once the entries are readable.
    await notifyChange(this.db, 'compute');
  }

  async since(hostId: string, afterSeq: number, limit: number): Promise<readonly ComputeChange[]> {
    const rows = await this.db
      .selectFrom('compute_changes')
      .selectAll()
      .where('host_id', '=', hostId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      seq: row.seq,
      at: row.at,
      resourceId: row.resource_id,
      hostId: row.host_id,
    }));
  }

  async bounds(): Promise<{ oldest: number; latest: number }> {
    const row = await this.db
      .selectFrom('compute_changes')
      .select((eb) => [eb.fn.min('seq').as('oldest'), eb.fn.max('seq').as('latest')])
      .executeTakeFirst();
    return { oldest: row?.oldest ?? 0, latest: row?.latest ?? 0 };
  }

  async purgeBefore(before: number): Promise<number> {
    // The newest entry stays, so `bounds().latest` never goes back (a reader's position holds).
    const newest = this.db.selectFrom('compute_changes').select((eb) => eb.fn.max('seq').as('m'));
    const result = await this.db
      .deleteFrom('compute_changes')
      .where('at', '<', before)
      .where('seq', '<', newest)
      .executeTakeFirst();
    return affected(result);
  }
}
