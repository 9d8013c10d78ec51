// Migration 0002: the directory's certificate authorities and the client-assertion replay cache.

import type { Kysely, Migration } from 'kysely';

/** Same on both dialects. */
export const authorityAndReplayMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('certificate_authorities')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('certificate', 'text', (c) => c.notNull())
      .addColumn('private_key', 'text', (c) => c.notNull())
      .addColumn('not_before', 'bigint', (c) => c.notNull())
      .addColumn('not_after', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    // One row per assertion id seen, kept until the assertion would have expired anyway.
    await db.schema
      .createTable('assertion_replay')
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('jti', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('assertion_replay_pk', ['client_id', 'jti'])
      .execute();
    await db.schema
      .createIndex('assertion_replay_expiry')
      .on('assertion_replay')
      .column('expires_at')
      .execute();
  },
};
