// Migration 0012: the installation record, what every server replica must agree on.

import { type Kysely, type Migration, sql } from 'kysely';

/**
 * `installation` holds at most one row (`id` is always 1): the public URL and issuer template
 * the first server recorded, and the master key's check value (an HMAC, never the key). A
 * server starting inserts its values unless the row exists (`on conflict do nothing`), then reads
 * the row: of replicas starting at once, one records and all compare against the same values.
 */
export const installationMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`
      create table installation (
        id integer primary key check (id = 1),
        public_url text not null,
        issuer text,
        master_key_check text not null,
        recorded_at bigint not null
      )`.execute(db);
  },
};
