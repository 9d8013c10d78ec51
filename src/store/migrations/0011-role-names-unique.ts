// Migration 0011: a role definition's name is unique in the directory, compared case-insensitively.

import { type Kysely, type Migration, sql } from 'kysely';

/**
 * ARM refuses a second role named like another (409 `RoleDefinitionWithSameNameExists`). The
 * check before a write cannot see a concurrent writer's uncommitted row; this index can, on both
 * dialects, so two creates of one name never both land.
 */
export const roleNamesUniqueMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`create unique index role_definitions_name on role_definitions (lower(role_name))`.execute(
      db,
    );
  },
};
