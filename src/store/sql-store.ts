// The store port over Kysely: one repository per table, and transactions both dialects honour.

import type { Kysely } from 'kysely';
import type { Store } from '../core/ports.js';
import type { ColumnCipher } from './column-cipher.js';
import type { SqlDialect } from './dialect.js';
import { createGroupCommitLedger } from './group-commit.js';
import { SqlAssertionReplayStore } from './repos/assertion-replay.js';
import { SqlAttachmentStore } from './repos/attachments.js';
import { SqlAuditLog } from './repos/audit.js';
import { SqlChangeFeed } from './repos/change-feed.js';
import { SqlCertificateAuthorityStore } from './repos/certificate-authorities.js';
import { SqlCredentialStore } from './repos/credentials.js';
import { SqlHostStore } from './repos/hosts.js';
import { SqlPrincipalStore } from './repos/principals.js';
import { SqlResourceStore } from './repos/resources.js';
import { SqlRoleStore } from './repos/roles.js';
import { SqlSigningKeyStore } from './repos/signing-keys.js';
import { SqlTenantStore } from './repos/tenants.js';
import { SqlVaultSecretStore } from './repos/vault-secrets.js';
import type { Database } from './schema.js';

/** What a SQL store is built from. */
export interface SqlStoreParts {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  readonly cipher: ColumnCipher;
}

/**
 * Builds a {@link Store} over `db`. `transaction` runs its work in a database transaction
 * (`BEGIN`/`COMMIT`, rolled back on any throw); a store handed to that work joins the same
 * transaction when it starts another.
 */
export function createSqlStore(parts: SqlStoreParts): Store {
  return bind(parts, parts.db, false);
}

function bind(parts: SqlStoreParts, executor: Kysely<Database>, inTransaction: boolean): Store {
  const { cipher, dialect } = parts;
  const store: Store = {
    dialect,
    tenants: new SqlTenantStore(executor),
    principals: new SqlPrincipalStore(executor),
    credentials: new SqlCredentialStore(executor),
    resources: new SqlResourceStore(executor),
    attachments: new SqlAttachmentStore(executor),
    changes: new SqlChangeFeed(executor, dialect),
    roles: new SqlRoleStore(executor),
    signingKeys: new SqlSigningKeyStore(executor, cipher),
    certificateAuthorities: new SqlCertificateAuthorityStore(executor, cipher),
    assertionReplay: new SqlAssertionReplayStore(executor),
    hosts: new SqlHostStore(executor, dialect),
    vaultSecrets: new SqlVaultSecretStore(executor, cipher),
    audit: new SqlAuditLog(executor),
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
        : executor.transaction().execute((trx) => work(bind(parts, trx, true))),
    close: async () => {
      if (!inTransaction) await executor.destroy();
    },
  };
  return store;
}
