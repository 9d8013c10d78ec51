// Migration 0007: when each host's certificate expires, and audit events found by kind.

import type { Kysely, Migration } from 'kysely';

/**
 * `hosts.certificate_not_after` holds the `notAfter` of the host certificate last issued
 * (registration or renewal), for operators to see which hosts are about to lapse; rows written
 * before this migration stay null until their host next renews. The audit index serves the
 * portal's events list filtered by `kind`, newest first. Same on both dialects.
 */
export const hostCertificateExpiryAndAuditKindMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('hosts').addColumn('certificate_not_after', 'bigint').execute();
    await db.schema
      .createIndex('audit_events_kind')
      .on('audit_events')
      .columns(['kind', 'seq'])
      .execute();
  },
};
