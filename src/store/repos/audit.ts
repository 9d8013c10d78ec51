// The audit log in SQL: append-only with bounded strings, read newest first, pruned by age and count.

import { boundAuditEvent } from '../../core/audit/bounds.js';
import type { AuditEvent, AuditOutcome } from '../../core/model.js';
import type { AuditLog, AuditQuery, AuditRetention, Page, PageRequest } from '../../core/ports.js';
import { decodeCursor, toPage } from '../paging.js';
import type { AuditEventsTable } from '../schema.js';
import { type Executor, fromJson, insertOrConflict, toJson } from './shared.js';
import { prepared } from '../prepared.js';
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

/** Every mint writes one: compiled once (prepared.ts), values in column order. */
const insertEvent = prepared(
  (
    db,
    id: string,
    at: number,
    kind: AuditEvent['kind'],
    outcome: AuditEvent['outcome'],
    tenantId: string | null,
    principalId: string | null,
    resource: string | null,
    vmId: string | null,
    hostId: string | null,
    tokenId: string | null,
    reason: string | null,
    details: string,
  ) =>
    db.insertInto('audit_events').values({
      id,
      at,
      kind,
      outcome,
      tenant_id: tenantId,
      principal_id: principalId,
      resource,
      vm_id: vmId,
      host_id: hostId,
      token_id: tokenId,
      reason,
      details,
    }),
);

export class SqlAuditLog implements AuditLog {
  constructor(private readonly db: Executor) {}

  async append(event: AuditEvent): Promise<void> {
    const e = boundAuditEvent(event);
    await insertOrConflict(
      () =>
        insertEvent(
          this.db,
          e.id,
          e.at,
          e.kind,
          e.outcome,
          e.tenantId,
          e.principalId,
          e.resource,
          e.vmId,
          e.hostId,
          e.tokenId,
          e.reason,
          toJson(e.details),
        ),
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
