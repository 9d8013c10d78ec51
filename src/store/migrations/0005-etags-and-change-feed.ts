// Migration 0005: an etag on every resource (optimistic concurrency) and the agents' change feed.

import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';
import type { SqlDialect } from '../dialect.js';

/** Builds the migration for one dialect (only the auto-increment column differs). */
export function etagsAndChangeFeedMigration(dialect: SqlDialect): Migration {
  const serial =
    dialect === 'postgres'
      ? sql.raw('seq bigserial primary key')
      : sql.raw('seq integer primary key autoincrement');
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('resources').addColumn('etag', 'text').execute();
      // Rows written before this migration get a stable etag of their own.
      await sql`update resources set etag = '"m' || cast(updated_at as text) || '"'`.execute(db);

      await sql`
        create table compute_changes (
          ${serial},
          at bigint not null,
          resource_id text not null,
          host_id text
        )`.execute(db);
      await db.schema
        .createIndex('compute_changes_host')
        .on('compute_changes')
        .columns(['host_id', 'seq'])
        .execute();
      await db.schema
        .createIndex('compute_changes_at')
        .on('compute_changes')
        .column('at')
        .execute();
    },
  };
}
