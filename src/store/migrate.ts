// Runs the versioned migrations at start, safely when several replicas start at once.

import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { Migrator, sql } from 'kysely';
import { isSqliteBusy, type SqlDialect } from './dialect.js';
import { initialMigration } from './migrations/0001-initial.js';
import { authorityAndReplayMigration } from './migrations/0002-authority-and-replay.js';
import { singleDefaultTenantMigration } from './migrations/0003-single-default-tenant.js';
import { roleAssignmentsPrincipalScopeMigration } from './migrations/0004-role-assignments-principal-scope.js';
import { etagsAndChangeFeedMigration } from './migrations/0005-etags-and-change-feed.js';
import { vaultNamesAndPurgeMigration } from './migrations/0006-vault-names-and-purge.js';
import { hostCertificateExpiryAndAuditKindMigration } from './migrations/0007-host-certificate-expiry-and-audit-kind.js';
import { placementAndHostCredentialsMigration } from './migrations/0008-placement-and-host-credentials.js';
import { boundedAuditStringsMigration } from './migrations/0009-bounded-audit-strings.js';
import { activityLogMigration } from './migrations/0010-activity-log.js';
import { roleNamesUniqueMigration } from './migrations/0011-role-names-unique.js';
import { installationMigration } from './migrations/0012-installation.js';
import { credentialsPrincipalHostMigration } from './migrations/0013-credentials-principal-host.js';
import type { Database } from './schema.js';

/** The migrations, in order. Names sort in the order they run; never rename one that shipped. */
export function migrationsFor(dialect: SqlDialect): Record<string, Migration> {
  return {
    '0001-initial': initialMigration(dialect),
    '0002-authority-and-replay': authorityAndReplayMigration,
    '0003-single-default-tenant': singleDefaultTenantMigration,
    '0004-role-assignments-principal-scope': roleAssignmentsPrincipalScopeMigration,
    '0005-etags-and-change-feed': etagsAndChangeFeedMigration(dialect),
    '0006-vault-names-and-purge': vaultNamesAndPurgeMigration,
    '0007-host-certificate-expiry-and-audit-kind': hostCertificateExpiryAndAuditKindMigration,
    '0008-placement-and-host-credentials': placementAndHostCredentialsMigration,
    '0009-bounded-audit-strings': boundedAuditStringsMigration,
    '0010-activity-log': activityLogMigration(dialect),
    '0011-role-names-unique': roleNamesUniqueMigration,
    '0012-installation': installationMigration,
    '0013-credentials-principal-host': credentialsPrincipalHostMigration,
  };
}

/**
 * Brings the schema up to date. On PostgreSQL a session advisory lock (per schema) serializes
 * replicas that start together, so exactly one runs each migration and the others wait, then find
 * nothing to do. On SQLite the database's own write lock does the same; a replica that loses the
 * race retries once the winner has committed.
 */
export async function migrateToLatest(
  db: Kysely<Database>,
  dialect: SqlDialect,
  schema: string | undefined,
): Promise<readonly string[]> {
  const provider: MigrationProvider = {
    getMigrations: () => Promise.resolve(migrationsFor(dialect)),
  };

  if (dialect === 'postgres') {
    const target = schema ?? 'public';
    return db.connection().execute(async (conn) => {
      const lockName = `tessera:migrate:${target}`;
      await sql`select pg_advisory_lock(hashtext(${lockName}))`.execute(conn);
      try {
        await sql`create schema if not exists ${sql.id(target)}`.execute(conn);
        return await runMigrator(
          new Migrator({ db: conn, provider, migrationTableSchema: target }),
        );
      } finally {
        await sql`select pg_advisory_unlock(hashtext(${lockName}))`.execute(conn);
      }
    });
  }

  for (let attempt = 1; ; attempt++) {
    try {
      return await runMigrator(new Migrator({ db, provider }));
    } catch (error) {
      if (!isSqliteBusy(error) || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

async function runMigrator(migrator: Migrator): Promise<readonly string[]> {
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw error instanceof Error ? error : new Error('migration failed', { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
