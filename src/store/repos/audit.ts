// The audit log in SQL: append-only with bounded strings, read newest first, pruned by age and count.

import { boundAuditEvent } from '../../core/audit/bounds.js';
import type { AuditEvent, AuditOutcome } from '../../core/model.js';
import type { AuditLog, AuditQuery, AuditRetention, Page, PageRequest } from '../../core/ports.js';
import { decodeCursor, toPage } from '../paging.js';
import type { AuditEventsTable } from '../schema.js';
import { type Executor, fromJson, insertOrConflict, toJson } from './shared.js';
import { pruneEvents } from './event-retention.js';

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

  /** Deletes at most `limit` events `policy` no longer keeps (see `pruneEvents`). */
  prune(policy: AuditRetention, limit: number): Promise<number> {
    return pruneEvents(this.db, 'audit_events', policy, limit);
  }
}
