// Token-signing keys in SQL; the private key is sealed with the master key.

import { PostgresAdapter, sql } from 'kysely';
import type { SigningKey, SigningKeyStatus } from '../../core/model.js';
import type { SigningKeyStore } from '../../core/ports.js';
import type { ColumnCipher } from '../column-cipher.js';
import { notifyChange } from '../replicas.js';
import type { SigningKeysTable } from '../schema.js';
import { affected, type Executor, fromJson, insertOrConflict, toJson } from './shared.js';

const context = (kid: string): string => `signing_keys.private_key:${kid}`;

/** The PostgreSQL advisory lock rotations take (transaction-scoped, as the change feed's). */
const ROTATION_LOCK = 'tessera:signing_keys';

export class SqlSigningKeyStore implements SigningKeyStore {
  constructor(
    private readonly db: Executor,
    private readonly cipher: ColumnCipher,
  ) {}

  private toKey(row: SigningKeysTable): SigningKey {
    return {
      kid: row.kid,
      algorithm: row.algorithm as SigningKey['algorithm'],
      publicJwk: fromJson<Record<string, unknown>>(row.public_jwk),
      privateKeyPem: this.cipher.open(row.private_key, context(row.kid)),
      status: row.status as SigningKeyStatus,
      activatesAt: row.activates_at,
      retiresAt: row.retires_at,
      expiresAt: row.expires_at,
      createdAt: row.created_at,
    };
  }

  async add(k: SigningKey): Promise<void> {
    await insertOrConflict(
      () =>
        this.db
          .insertInto('signing_keys')
          .values({
            kid: k.kid,
            algorithm: k.algorithm,
            public_jwk: toJson(k.publicJwk),
            private_key: this.cipher.seal(k.privateKeyPem, context(k.kid)),
            status: k.status,
            activates_at: k.activatesAt,
            retires_at: k.retiresAt,
            expires_at: k.expiresAt,
            created_at: k.createdAt,
          })
          .execute(),
      `Signing key '${k.kid}' already exists.`,
    );
    // At commit, every replica drops its cached keys (see createSigningKeyService's `forget`).
    await notifyChange(this.db, 'signing-keys');
  }

  async get(kid: string): Promise<SigningKey | undefined> {
    const row = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where('kid', '=', kid)
      .executeTakeFirst();
    return row && this.toKey(row);
  }

  async listPublished(at: number): Promise<readonly SigningKey[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]))
      .orderBy('activates_at', 'desc')
      .orderBy('kid')
      .execute();
    return rows.map((row) => this.toKey(row));
  }

  async setStatus(
    kid: string,
    status: SigningKeyStatus,
    times: { retiresAt?: number | null; expiresAt?: number | null },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('signing_keys')
      .set({
        status,
        ...(times.retiresAt === undefined ? {} : { retires_at: times.retiresAt }),
        ...(times.expiresAt === undefined ? {} : { expires_at: times.expiresAt }),
      })
      .where('kid', '=', kid)
      .executeTakeFirst();
    await notifyChange(this.db, 'signing-keys');
    return affected(result) > 0;
  }

  /**
   * PostgreSQL: `pg_advisory_xact_lock`, held until commit or rollback. SQLite: a write that
   * changes nothing, as the transaction's first statement, takes the database's write lock before
   * anything is read (see sqlite-dialect.ts): another process's rotation waits for this one to
   * commit (busy timeout), then reads what it wrote instead of failing on a stale snapshot.
   * Outside a transaction there is nothing to hold the lock for: it throws.
   */
  async lockForRotation(): Promise<void> {
    if (!this.db.isTransaction) {
      throw new Error('lockForRotation() must run inside a transaction');
    }
    if (this.db.getExecutor().adapter instanceof PostgresAdapter) {
      await sql`select pg_advisory_xact_lock(hashtext(${ROTATION_LOCK}))`.execute(this.db);
    } else {
      await sql`update signing_keys set kid = kid where 1 = 0`.execute(this.db);
    }
  }

  async delete(kid: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('signing_keys')
      .where('kid', '=', kid)
      .executeTakeFirst();
    await notifyChange(this.db, 'signing-keys');
    return affected(result) > 0;
  }
}
