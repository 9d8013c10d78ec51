// Migration 0006: vault names unique in the database itself (whatever their case), and due purges found by index.

import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Vault names are global DNS labels. ARM checked them by listing every vault, which cost
 * O(vaults) per create and let two replicas both take a name; a partial unique index on the
 * lower-cased name settles it in one seek and in one place. The purge sweep's index serves
 * `vault_secrets.purgeDue`, which ran every minute over the whole table. Same SQL on both
 * dialects (SQLite and PostgreSQL both have expression and partial indexes).
 */
export const vaultNamesAndPurgeMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`create unique index resources_vault_name on resources (lower(name)) where type_key = 'microsoft.keyvault/vaults'`.execute(
      db,
    );
    await db.schema
      .createIndex('vault_secrets_scheduled_purge')
      .on('vault_secrets')
      .column('scheduled_purge_at')
      .execute();
  },
};
