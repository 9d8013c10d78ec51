// Migration 0004: an index on (principal, scope) so an access check reads a principal's assignments at given scopes by seeks.

import type { Kysely, Migration } from 'kysely';

/**
 * The unique constraint (principal, role, scope) leads with the principal but puts the role
 * before the scope, so a lookup by principal and scope had to walk every assignment of the
 * principal. Same on both dialects.
 */
export const roleAssignmentsPrincipalScopeMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createIndex('role_assignments_principal_scope')
      .on('role_assignments')
      .columns(['principal_id', 'scope_key'])
      .execute();
  },
};
