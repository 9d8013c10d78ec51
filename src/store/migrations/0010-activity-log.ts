// Migration 0010: ARM's Activity Log, the Begin and End events of every ARM write, delete and action.

import { type Kysely, type Migration, sql } from 'kysely';
import type { SqlDialect } from '../dialect.js';

/**
 * `activity_events` holds one row per event; `*_key` columns are the lower-cased copies lookups
 * compare. Every query names a subscription and a time range and reads newest first, so each
 * index ends in `(at, seq)`, the order and the page cursor:
 *
 * - `activity_events_subscription_at`: a subscription's events in a time range (every query);
 * - `activity_events_correlation`, `activity_events_resource`: one correlation id (az's
 *   deployment progress) or one resource in a time range (the repository steers the planner to
 *   them: SQLite has no statistics to tell which index is narrower);
 * - `activity_events_at`: the retention sweep's oldest-first delete.
 *
 * Resource-group, provider, caller and status filters read the subscription index and filter the
 * range. Builds the migration for one dialect (only the auto-increment column differs).
 */
export function activityLogMigration(dialect: SqlDialect): Migration {
  const serial =
    dialect === 'postgres'
      ? sql.raw('seq bigserial primary key')
      : sql.raw('seq integer primary key autoincrement');
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`
        create table activity_events (
          ${serial},
          event_data_id text not null unique,
          operation_id text not null,
          at bigint not null,
          subscription_key text not null,
          subscription_id text not null,
          tenant_id text not null,
          resource_group text,
          resource_group_key text,
          resource_id text not null,
          resource_id_key text not null,
          resource_type text not null,
          resource_provider text not null,
          resource_provider_key text not null,
          operation_name text not null,
          event_name text not null,
          status text not null,
          http_status integer,
          level text not null,
          caller_object_id text not null,
          caller_app_id text,
          caller text not null,
          correlation_id text not null,
          correlation_key text not null,
          client_request_id text,
          service_request_id text not null,
          method text not null,
          uri text,
          client_ip text,
          claims text not null
        )`.execute(db);
      const indexes = [
        ['activity_events_subscription_at', ['subscription_key', 'at', 'seq']],
        ['activity_events_correlation', ['correlation_key', 'at', 'seq']],
        ['activity_events_resource', ['resource_id_key', 'at', 'seq']],
        ['activity_events_at', ['at', 'seq']],
      ] as const;
      for (const [name, columns] of indexes) {
        await db.schema
          .createIndex(name)
          .on('activity_events')
          .columns([...columns])
          .execute();
      }
    },
  };
}
