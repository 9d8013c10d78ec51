// ARM's Activity Log in SQL: appended in one statement, read newest first by subscription and time, pruned like the audit log.

import { sql } from 'kysely';
import { boundActivityEvent } from '../../core/audit/activity-bounds.js';
import type {
  ActivityEvent,
  ActivityEventName,
  ActivityLevel,
  ActivityStatus,
} from '../../core/model.js';
import type {
  ActivityLog,
  ActivityQuery,
  AuditRetention,
  Page,
  PageRequest,
} from '../../core/ports.js';
import { decodeCursor, toPage } from '../paging.js';
import type { ActivityEventsTable } from '../schema.js';
import { type Executor, fromJson, insertOrConflict, keyOf, toJson } from './shared.js';
import { pruneEvents } from './event-retention.js';

type Row = Omit<ActivityEventsTable, 'seq'> & { seq: number };

const toEvent = (row: Row): ActivityEvent => ({
  eventDataId: row.event_data_id,
  operationId: row.operation_id,
  at: row.at,
  subscriptionId: row.subscription_id,
  tenantId: row.tenant_id,
  resourceGroup: row.resource_group,
  resourceId: row.resource_id,
  resourceType: row.resource_type,
  resourceProvider: row.resource_provider,
  operationName: row.operation_name,
  eventName: row.event_name as ActivityEventName,
  status: row.status as ActivityStatus,
  httpStatus: row.http_status,
  level: row.level as ActivityLevel,
  callerObjectId: row.caller_object_id,
  callerAppId: row.caller_app_id,
  caller: row.caller,
  correlationId: row.correlation_id,
  clientRequestId: row.client_request_id,
  serviceRequestId: row.service_request_id,
  method: row.method,
  uri: row.uri,
  clientIp: row.client_ip,
  claims: fromJson<Record<string, string>>(row.claims),
});

function toRow(event: ActivityEvent): Omit<ActivityEventsTable, 'seq'> {
  const e = boundActivityEvent(event);
  return {
    event_data_id: e.eventDataId,
    operation_id: e.operationId,
    at: e.at,
    subscription_key: keyOf(e.subscriptionId),
    subscription_id: e.subscriptionId,
    tenant_id: e.tenantId,
    resource_group: e.resourceGroup,
    resource_group_key: e.resourceGroup === null ? null : keyOf(e.resourceGroup),
    resource_id: e.resourceId,
    resource_id_key: keyOf(e.resourceId),
    resource_type: e.resourceType,
    resource_provider: e.resourceProvider,
    resource_provider_key: keyOf(e.resourceProvider),
    operation_name: e.operationName,
    event_name: e.eventName,
    status: e.status,
    http_status: e.httpStatus,
    level: e.level,
    caller_object_id: e.callerObjectId,
    caller_app_id: e.callerAppId,
    caller: e.caller,
    correlation_id: e.correlationId,
    correlation_key: keyOf(e.correlationId),
    client_request_id: e.clientRequestId,
    service_request_id: e.serviceRequestId,
    method: e.method,
    uri: e.uri,
    client_ip: e.clientIp,
    claims: toJson(e.claims),
  };
}

export class SqlActivityLog implements ActivityLog {
  constructor(private readonly db: Executor) {}

  async append(events: readonly ActivityEvent[]): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map(toRow);
    await insertOrConflict(
      () => this.db.insertInto('activity_events').values(rows).execute(),
      `An activity event with one of the ids '${rows.map((r) => r.event_data_id).join("', '")}' already exists.`,
    );
  }

  async query(q: ActivityQuery, page: PageRequest): Promise<Page<ActivityEvent>> {
    // With a correlation id or a resource id, that index is the narrow one; SQLite has no
    // statistics to know it, so the subscription test is made one no index serves.
    const narrowed = q.correlationId !== undefined || q.resourceId !== undefined;
    const subscriptionKey = narrowed
      ? sql<string>`subscription_key || ''`
      : sql.ref('subscription_key');
    let query = this.db
      .selectFrom('activity_events')
      .selectAll()
      .where(subscriptionKey, '=', keyOf(q.subscriptionId))
      .where('at', '>=', q.from)
      .where('at', '<=', q.to)
      .orderBy('at', 'desc')
      .orderBy('seq', 'desc')
      .limit(page.limit + 1);
    if (q.resourceGroup !== undefined)
      query = query.where('resource_group_key', '=', keyOf(q.resourceGroup));
    if (q.resourceId !== undefined)
      query = query.where('resource_id_key', '=', keyOf(q.resourceId));
    if (q.resourceProvider !== undefined)
      query = query.where('resource_provider_key', '=', keyOf(q.resourceProvider));
    if (q.correlationId !== undefined)
      query = query.where('correlation_key', '=', keyOf(q.correlationId));
    if (q.caller !== undefined)
      query = query.where((eb) => eb(eb.fn('lower', ['caller']), '=', keyOf(q.caller ?? '')));
    if (q.status !== undefined)
      query = query.where((eb) => eb(eb.fn('lower', ['status']), '=', keyOf(q.status ?? '')));
    if (page.cursor !== undefined) {
      const [at, seq] = decodeCursor(page.cursor, ['number', 'number']) as [number, number];
      // A row-value comparison, so both dialects walk the (…, at, seq) index from the cursor.
      query = query.where((eb) => eb(eb.refTuple('at', 'seq'), '<', eb.tuple(at, seq)));
    }
    return toPage(await query.execute(), page.limit, toEvent, (r) => [r.at, r.seq]);
  }

  /** Deletes at most `limit` events `policy` no longer keeps (see `pruneEvents`). */
  prune(policy: AuditRetention, limit: number): Promise<number> {
    return pruneEvents(this.db, 'activity_events', policy, limit);
  }
}
