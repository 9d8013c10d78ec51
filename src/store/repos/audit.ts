// The audit log in SQL: append-only with bounded strings, read newest first, pruned by age and count.

import { boundAuditEvent } from '../../core/audit/bounds.js';
import type { AuditEvent, AuditOutcome } from '../../core/model.js';
import type { AuditLog, AuditQuery, AuditRetention, Page, PageRequest } from '../../core/ports.js';
import { decodeCursor, toPage } from '../paging.js';
import type { AuditEventsTable } from '../schema.js';
import { affected, type Executor, fromJson, insertOrConflict, toJson } from './shared.js';

type Row = Omit<AuditEventsTable, 'seq'> & { seq: number };

const toEvent = (row: Row): AuditEvent => ({
  id: row.id,
  at: row.at,
  kind: row.kind,
  outcome: row.outcome as AuditOutcome,
  tenantId: row.tenant_id,
  principalId: row.principal_id,
  resource: row.resource,
  vmId: row.vm_id,
  hostId: row.host_id,
  tokenId: row.token_id,
  reason: row.reason,
  details: fromJson<Record<string, unknown>>(row.details),
});

export class SqlAuditLog implements AuditLog {
  constructor(private readonly db: Executor) {}

  async append(event: AuditEvent): Promise<void> {
    const e = boundAuditEvent(event);
    await insertOrConflict(
      () =>
        this.db
          .insertInto('audit_events')
          .values({
            id: e.id,
            at: e.at,
            kind: e.kind,
            outcome: e.outcome,
            tenant_id: e.tenantId,
            principal_id: e.principalId,
            resource: e.resource,
            vm_id: e.vmId,
            host_id: e.hostId,
            token_id: e.tokenId,
            reason: e.reason,
            details: toJson(e.details),
          })
          .execute(),
      `Audit event '${e.id}' already exists.`,
    );
  }

  async list(q: AuditQuery, page: PageRequest): Promise<Page<AuditEvent>> {
    let query = this.db
      .selectFrom('audit_events')
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(page.limit + 1);
    if (q.principalId !== undefined) query = query.where('principal_id', '=', q.principalId);
    if (q.since !== undefined) query = query.where('at', '>=', q.since);
    if (q.outcome !== undefined) query = query.where('outcome', '=', q.outcome);
    if (q.kind !== undefined) query = query.where('kind', '=', q.kind);
    if (page.cursor !== undefined) {
      const [before] = decodeCursor(page.cursor, ['number']) as [number];
      query = query.where('seq', '<', before);
    }
    return toPage(await query.execute(), page.limit, toEvent, (r) => [r.seq]);
  }

  /**
   * Two range deletes, each bounded to `limit` rows and each found through an index (`at`, and
   * the `seq` key), so a replica deleting the same range at the same time only waits, then
   * deletes nothing: no `LIMIT` on `DELETE` (SQLite lacks it) and no row-by-row `IN` list.
   */
  async prune(policy: AuditRetention, limit: number): Promise<number> {
    const byAge = await this.pruneOlderThan(policy.before, limit);
    if (byAge >= limit) return byAge;
    return byAge + (await this.pruneBeyondNewest(policy.keep, limit - byAge));
  }

  private async pruneOlderThan(before: number, limit: number): Promise<number> {
    // The limit-th oldest old event; none: fewer than `limit` are old, so delete them all.
    const edge = await this.db
      .selectFrom('audit_events')
      .select(['at', 'seq'])
      .where('at', '<', before)
      .orderBy('at')
      .orderBy('seq')
      .offset(limit - 1)
      .limit(1)
      .executeTakeFirst();
    let query = this.db.deleteFrom('audit_events').where('at', '<', before);
    if (edge !== undefined) {
      query = query.where((eb) =>
        eb.or([
          eb('at', '<', edge.at),
          eb.and([eb('at', '=', edge.at), eb('seq', '<=', edge.seq)]),
        ]),
      );
    }
    return affected(await query.executeTakeFirst());
  }

  private async pruneBeyondNewest(keep: number, limit: number): Promise<number> {
    const bounds = await this.db
      .selectFrom('audit_events')
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
    return affected(
      await this.db.deleteFrom('audit_events').where('seq', '<=', cut).executeTakeFirst(),
    );
  }
}
