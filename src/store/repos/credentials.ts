// Principal credentials (certificates and secret hashes) in SQL.

import type { Credential, CredentialKind } from '../../core/model.js';
import type { CredentialStore } from '../../core/ports.js';
import type { ExpressionBuilder } from 'kysely';
import type { CredentialsTable, Database } from '../schema.js';
import { affected, type Executor, fromFlag, insertOrConflict, toFlag } from './shared.js';
import { prepared } from '../prepared.js';

const toCredential = (row: CredentialsTable): Credential => ({
  id: row.id,
  principalId: row.principal_id,
  kind: row.kind as CredentialKind,
  thumbprintSha1: row.thumbprint_sha1,
  thumbprintSha256: row.thumbprint_sha256,
  certificate: row.certificate,
  secretHash: row.secret_hash,
  hint: row.hint,
  hostId: row.host_id,
  notBefore: row.not_before,
  notAfter: row.not_after,
  revoked: fromFlag(row.revoked),
  createdAt: row.created_at,
});

/**
 * Whether a credential row's identity is attached on the row's host: to a VM placed there, or to
 * a scale set with an instance there, the host still registered (as `isAttachedOnHost`).
 */
function attachedOnItsHost(eb: ExpressionBuilder<Database, 'credentials'>) {
  return eb.exists(
    eb
      .selectFrom('identity_attachments as a')
      .innerJoin('resources as r', 'r.holder_key', 'a.resource_key')
      .innerJoin('hosts as h', 'h.id', 'r.host_id')
      .select('a.principal_id')
      .whereRef('a.principal_id', '=', 'credentials.principal_id')
      .whereRef('r.host_id', '=', 'credentials.host_id'),
  );
}

/** A credential by thumbprint, with whether it is attached on its host (if bound to one). */
const forAssertion = (column: 'thumbprint_sha1' | 'thumbprint_sha256') =>
  prepared((db, principalId: string, thumbprint: string) =>
    db
      .selectFrom('credentials')
      .selectAll()
      .select((eb) =>
        eb.or([eb('credentials.host_id', 'is', null), attachedOnItsHost(eb)]).as('attached'),
      )
      .where('principal_id', '=', principalId)
      .where(column, '=', thumbprint)
      .orderBy('created_at', 'desc')
      .limit(1),
  );
const forAssertionBy = {
  sha1: forAssertion('thumbprint_sha1'),
  sha256: forAssertion('thumbprint_sha256'),
};

/** The unrevoked certificate of a principal issued to a host that is valid longest after `now`. */
const currentOnHost = prepared((db, principalId: string, hostId: string, now: number) =>
  db
    .selectFrom('credentials')
    .selectAll()
    .where('principal_id', '=', principalId)
    .where('host_id', '=', hostId)
    .where('kind', '=', 'certificate')
    .where('revoked', '=', 0)
    .where('not_after', '>', now)
    .orderBy('not_after', 'desc')
    .limit(1),
);

export class SqlCredentialStore implements CredentialStore {
  constructor(private readonly db: Executor) {}

  async add(c: Credential): Promise<void> {
    await insertOrConflict(
      () =>
        this.db
          .insertInto('credentials')
          .values({
            id: c.id,
            principal_id: c.principalId,
            kind: c.kind,
            thumbprint_sha1: c.thumbprintSha1,
            thumbprint_sha256: c.thumbprintSha256,
            certificate: c.certificate,
            secret_hash: c.secretHash,
            hint: c.hint,
            host_id: c.hostId,
            not_before: c.notBefore,
            not_after: c.notAfter,
            revoked: toFlag(c.revoked),
            created_at: c.createdAt,
          })
          .execute(),
      `Credential '${c.id}' already exists.`,
    );
  }

  async get(id: string): Promise<Credential | undefined> {
    const row = await this.db
      .selectFrom('credentials')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toCredential(row);
  }

  async listForPrincipal(principalId: string): Promise<readonly Credential[]> {
    const rows = await this.db
      .selectFrom('credentials')
      .selectAll()
      .where('principal_id', '=', principalId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toCredential);
  }

  async getByThumbprint(
    kind: 'sha1' | 'sha256',
    principalId: string,
    thumbprint: string,
  ): Promise<Credential | undefined> {
    const column = kind === 'sha1' ? 'thumbprint_sha1' : 'thumbprint_sha256';
    const row = await this.db
      .selectFrom('credentials')
      .selectAll()
      .where('principal_id', '=', principalId)
      .where(column, '=', thumbprint)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    return row && toCredential(row);
  }

  async getForAssertion(
    kind: 'sha1' | 'sha256',
    principalId: string,
    thumbprint: string,
  ): Promise<{ credential: Credential; attached: boolean } | undefined> {
    const [row] = (await forAssertionBy[kind](this.db, principalId, thumbprint)).rows;
    // SQLite answers 0/1, PostgreSQL a boolean.
    return row && { credential: toCredential(row), attached: Boolean(row.attached) };
  }

  async currentOnHost(
    principalId: string,
    hostId: string,
    now: number,
  ): Promise<Credential | undefined> {
    const [row] = (await currentOnHost(this.db, principalId, hostId, now)).rows;
    return row && toCredential(row);
  }

  async revoke(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('credentials')
      .set({ revoked: 1 })
      .where('id', '=', id)
      .executeTakeFirst();
    return affected(result) > 0;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('credentials').where('id', '=', id).executeTakeFirst();
    return affected(result) > 0;
  }

  async revokeUnattached(hostIds: readonly string[]): Promise<number> {
    const hosts = [...new Set(hostIds)];
    if (hosts.length === 0) return 0;
    const result = await this.db
      .updateTable('credentials')
      .set({ revoked: 1 })
      .where('host_id', 'in', hosts)
      .where('revoked', '=', 0)
      .where((eb) => eb.not(attachedOnItsHost(eb)))
      .executeTakeFirst();
    return affected(result);
  }

  async deleteExpired(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('credentials')
      .where('not_after', '<', before)
      .executeTakeFirst();
    return affected(result);
  }
}
