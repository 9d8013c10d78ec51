// Migration 0003: at most one default tenant, so replicas racing on first start cannot make two.

import { type Kysely, type Migration, sql } from 'kysely';

/** Same on both dialects: both support partial unique indexes. */
export const singleDefaultTenantMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`create unique index tenants_single_default on tenants (is_default) where is_default = 1`.execute(
      db,
    );
  },
};
