// Key Vault secret versions in SQL; values are sealed with the master key.

import type { VaultSecretVersion } from '../../core/model.js';
import type { Page, PageRequest, SecretVersionUpdate, VaultSecretStore } from '../../core/ports.js';
import type { ColumnCipher } from '../column-cipher.js';
import { decodeCursor, toPage } from '../paging.js';
import type { VaultSecretsTable } from '../schema.js';
import {
  affected,
  type Executor,
  fromFlag,
  fromJson,
  insertOrConflict,
  keyOf,
  toFlag,
  toJson,
} from './shared.js';

type Row = Omit<VaultSecretsTable, 'seq'> & { seq: number };

const context = (vaultKey: string, nameKey: string, version: string): string =>
  `vault_secrets.value:${vaultKey}/${nameKey}/${version}`;

export class SqlVaultSecretStore implements VaultSecretStore {
  constructor(
    private readonly db: Executor,
    private readonly cipher: ColumnCipher,
  ) {}

  private toVersion(row: Row): VaultSecretVersion {
    return {
      vaultId: row.vault_key,
      name: row.name,
      version: row.version,
      value: this.cipher.open(row.value, context(row.vault_key, row.name_key, row.version)),
      contentType: row.content_type,
      tags: fromJson<Record<string, string>>(row.tags),
      enabled: fromFlag(row.enabled),
      notBefore: row.not_before,
      expiresAt: row.expires_at,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      deletedAt: row.deleted_at,
      scheduledPurgeAt: row.scheduled_purge_at,
    };
  }

  async addVersion(s: VaultSecretVersion): Promise<void> {
    const vaultKey = keyOf(s.vaultId);
    const nameKey = keyOf(s.name);
    await insertOrConflict(
      () =>
        this.db
          .insertInto('vault_secrets')
          .values({
            vault_key: vaultKey,
            name_key: nameKey,
            name: s.name,
            version: s.version,
            value: this.cipher.seal(s.value, context(vaultKey, nameKey, s.version)),
            content_type: s.contentType,
            tags: toJson(s.tags),
            enabled: toFlag(s.enabled),
            not_before: s.notBefore,
            expires_at: s.expiresAt,
            created_at: s.createdAt,
            updated_at: s.updatedAt,
            deleted_at: s.deletedAt,
            scheduled_purge_at: s.scheduledPurgeAt,
          })
          .execute(),
      `Secret '${s.name}' version '${s.version}' already exists.`,
    );
  }

  async getVersion(
    vaultId: string,
    name: string,
    version: string,
  ): Promise<VaultSecretVersion | undefined> {
    const row = await this.db
      .selectFrom('vault_secrets')
      .selectAll()
      .where('vault_key', '=', keyOf(vaultId))
      .where('name_key', '=', keyOf(name))
      .where('version', '=', version)
      .executeTakeFirst();
    return row && this.toVersion(row);
  }

  async getLatest(vaultId: string, name: string): Promise<VaultSecretVersion | undefined> {
    const row = await this.db
      .selectFrom('vault_secrets')
      .selectAll()
      .where('vault_key', '=', keyOf(vaultId))
      .where('name_key', '=', keyOf(name))
      .orderBy('seq', 'desc')
      .executeTakeFirst();
    return row && this.toVersion(row);
  }

  async listLatest(
    vaultId: string,
    options: { deleted: boolean },
    page: PageRequest,
  ): Promise<Page<VaultSecretVersion>> {
    const vaultKey = keyOf(vaultId);
    let query = this.db
      .selectFrom('vault_secrets as s')
      .selectAll('s')
      .where('s.vault_key', '=', vaultKey)
      .where('s.deleted_at', options.deleted ? 'is not' : 'is', null)
      .where((eb) =>
        eb(
          's.seq',
          '=',
          eb
            .selectFrom('vault_secrets as v')
            .select(({ fn }) => fn.max('v.seq').as('m'))
            .whereRef('v.vault_key', '=', 's.vault_key')
            .whereRef('v.name_key', '=', 's.name_key'),
        ),
      )
      .orderBy('s.name_key')
      .limit(page.limit + 1);
    if (page.cursor !== undefined) {
      const [after] = decodeCursor(page.cursor, ['string']) as [string];
      query = query.where('s.name_key', '>', after);
    }
    return toPage(
      await query.execute(),
      page.limit,
      (r) => this.toVersion(r),
      (r) => [r.name_key],
    );
  }

  async listVersions(
    vaultId: string,
    name: string,
    page: PageRequest,
  ): Promise<Page<VaultSecretVersion>> {
    let query = this.db
      .selectFrom('vault_secrets')
      .selectAll()
      .where('vault_key', '=', keyOf(vaultId))
      .where('name_key', '=', keyOf(name))
      .orderBy('seq')
      .limit(page.limit + 1);
    if (page.cursor !== undefined) {
      const [after] = decodeCursor(page.cursor, ['number']) as [number];
      query = query.where('seq', '>', after);
    }
    return toPage(
      await query.execute(),
      page.limit,
      (r) => this.toVersion(r),
      (r) => [r.seq],
    );
  }

  async updateVersion(
    vaultId: string,
    name: string,
    version: string,
    patch: SecretVersionUpdate,
  ): Promise<VaultSecretVersion | undefined> {
    const result = await this.db
      .updateTable('vault_secrets')
      .set({
        updated_at: patch.updatedAt,
        ...(patch.contentType === undefined ? {} : { content_type: patch.contentType }),
        ...(patch.tags === undefined ? {} : { tags: toJson(patch.tags) }),
        ...(patch.enabled === undefined ? {} : { enabled: toFlag(patch.enabled) }),
        ...(patch.notBefore === undefined ? {} : { not_before: patch.notBefore }),
        ...(patch.expiresAt === undefined ? {} : { expires_at: patch.expiresAt }),
      })
      .where('vault_key', '=', keyOf(vaultId))
      .where('name_key', '=', keyOf(name))
      .where('version', '=', version)
      .executeTakeFirst();
    return affected(result) === 0 ? undefined : this.getVersion(vaultId, name, version);
  }

  async setDeleted(
    vaultId: string,
    name: string,
    deletion: { deletedAt: number; scheduledPurgeAt: number } | null,
  ): Promise<number> {
    const result = await this.db
      .updateTable('vault_secrets')
      .set({
        deleted_at: deletion?.deletedAt ?? null,
        scheduled_purge_at: deletion?.scheduledPurgeAt ?? null,
      })
      .where('vault_key', '=', keyOf(vaultId))
      .where('name_key', '=', keyOf(name))
      .executeTakeFirst();
    return affected(result);
  }

  async purge(vaultId: string, name: string): Promise<number> {
    const result = await this.db
      .deleteFrom('vault_secrets')
      .where('vault_key', '=', keyOf(vaultId))
      .where('name_key', '=', keyOf(name))
      .executeTakeFirst();
    return affected(result);
  }

  async purgeVault(vaultId: string): Promise<number> {
    const result = await this.db
      .deleteFrom('vault_secrets')
      .where('vault_key', '=', keyOf(vaultId))
      .executeTakeFirst();
    return affected(result);
  }

  async purgeDue(now: number): Promise<number> {
    const result = await this.db
      .deleteFrom('vault_secrets')
      .where('scheduled_purge_at', 'is not', null)
      .where('scheduled_purge_at', '<=', now)
      .executeTakeFirst();
    return affected(result);
  }
}
