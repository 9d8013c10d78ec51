// The store port over Kysely: one repository per table, and transactions both dialects honour.

import type { Kysely } from 'kysely';
import type { Store } from '../core/ports.js';
import type { ChangeNotifications, ReplicaCoordination } from '../core/replicas.js';
import type { ColumnCipher } from './column-cipher.js';
import type { SqlDialect } from './dialect.js';
import { createGroupCommitLedger } from './group-commit.js';
import { SqlActivityLog } from './repos/activity-log.js';
import { SqlAssertionReplayStore } from './repos/assertion-replay.js';
import { SqlAttachmentStore } from './repos/attachments.js';
import { SqlAuditLog } from './repos/audit.js';
import { SqlChangeFeed } from './repos/change-feed.js';
import { SqlCertificateAuthorityStore } from './repos/certificate-authorities.js';
import { SqlCredentialStore } from './repos/credentials.js';
import { SqlHostStore } from './repos/hosts.js';
import { SqlInstallationStore } from './repos/installation.js';
import { SqlPrincipalStore } from './repos/principals.js';
import { SqlResourceStore } from './repos/resources.js';
import { SqlRoleStore } from './repos/roles.js';
import { SqlSigningKeyStore } from './repos/signing-keys.js';
import { SqlTenantStore } from './repos/tenants.js';
import { SqlVaultSecretStore } from './repos/vault-secrets.js';
import { createSqlReplicaCoordination } from './replicas.js';
import type { Database } from './schema.js';

/** What a SQL store is built from. */
export interface SqlStoreParts {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  readonly cipher: ColumnCipher;
  /** The master key's check value (`masterKeyCheckOf`), for the installation record. */
  readonly masterKeyCheck: string;
  /** How replicas hear of each other's writes; none on SQLite (see `openStore`). */
  readonly notifications?: ChangeNotifications | undefined;
}

/**
 * Builds a {@link Store} over `db`. `transaction` runs its work in a database transaction
 * (`BEGIN`/`COMMIT`, rolled back on any throw); a store handed to that work joins the same
 * transaction when it starts another.
 *
 * One rule holds at every commit, as a cascade would: a certificate issued to a host dies with
 * its (identity, host) attachment. A transaction that recorded a compute change (a detach, a VM
 * moved or deleted, an identity deleted: each names its hosts in the change feed) revokes, before
 * it commits, the certificates on those hosts whose identity is no longer attached there.
 */
export function createSqlStore(parts: SqlStoreParts): Store {
  const { db, dialect, notifications } = parts;
  const replicas = createSqlReplicaCoordination({ db, dialect, notifications });
  return bind({ ...parts, replicas }, parts.db, undefined);
}

/** `changedHosts`: inside a transaction, where the hosts its change-feed entries name gather. */
function bind(
  parts: SqlStoreParts & { readonly replicas: ReplicaCoordination },
  executor: Kysely<Database>,
  changedHosts: Set<string> | undefined,
): Store {
  const { cipher, dialect } = parts;
  const inTransaction = changedHosts !== undefined;
  const credentials = new SqlCredentialStore(executor);
  const store: Store = {
    dialect,
    tenants: new SqlTenantStore(executor),
    principals: new SqlPrincipalStore(executor),
    credentials,
    resources: new SqlResourceStore(executor),
    attachments: new SqlAttachmentStore(executor),
    changes: new SqlChangeFeed(executor, dialect, async (hostIds) => {
      if (changedHosts === undefined) await credentials.revokeUnattached(hostIds);
      else for (const hostId of hostIds) changedHosts.add(hostId);
    }),
    roles: new SqlRoleStore(executor),
    signingKeys: new SqlSigningKeyStore(executor, cipher),
    certificateAuthorities: new SqlCertificateAuthorityStore(executor, cipher),
    assertionReplay: new SqlAssertionReplayStore(executor),
    hosts: new SqlHostStore(executor, dialect),
    vaultSecrets: new SqlVaultSecretStore(executor, cipher),
    audit: new SqlAuditLog(executor),
    activity: new SqlActivityLog(executor),
    installation: new SqlInstallationStore(executor, parts.masterKeyCheck),
    replicas: parts.replicas,
    // Inside a transaction the caller's transaction is the commit; outside, issues share one.
    issueLedger: inTransaction
      ? {
          recordIssue: async (event, replay, at) => {
            const fresh =
              replay === undefined ||
              (await store.assertionReplay.claim(
                replay.clientId,
                replay.jti,
                replay.expiresAt,
                at,
              ));
            if (fresh) await store.audit.append(event);
            return fresh;
          },
        }
      : createGroupCommitLedger(() => store),
    transaction: (work) =>
      inTransaction
        ? work(store)
        : executor.transaction().execute(async (trx) => {
            const hosts = new Set<string>();
            const tx = bind(parts, trx, hosts);
            const result = await work(tx);
            if (hosts.size > 0) await tx.credentials.revokeUnattached([...hosts]);
            return result;
          }),
    close: async () => {
      if (!inTransaction) await executor.destroy();
    },
  };
  return store;
}
