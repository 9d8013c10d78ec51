// The directory's certificate authorities in SQL; the private key is sealed with the master key.

import type { CertificateAuthority } from '../../core/model.js';
import type { CertificateAuthorityStore } from '../../core/ports.js';
import type { ColumnCipher } from '../column-cipher.js';
import type { CertificateAuthoritiesTable } from '../schema.js';
import { type Executor, insertOrConflict } from './shared.js';

const context = (id: string): string => `certificate_authorities.private_key:${id}`;

export class SqlCertificateAuthorityStore implements CertificateAuthorityStore {
  constructor(
    private readonly db: Executor,
    private readonly cipher: ColumnCipher,
  ) {}

  private toAuthority(row: CertificateAuthoritiesTable): CertificateAuthority {
    return {
      id: row.id,
      certificate: row.certificate,
      privateKeyPem: this.cipher.open(row.private_key, context(row.id)),
      notBefore: row.not_before,
      notAfter: row.not_after,
      createdAt: row.created_at,
    };
  }

  async add(ca: CertificateAuthority): Promise<void> {
    await insertOrConflict(
      () =>
        this.db
          .insertInto('certificate_authorities')
          .values({
            id: ca.id,
            certificate: ca.certificate,
            private_key: this.cipher.seal(ca.privateKeyPem, context(ca.id)),
            not_before: ca.notBefore,
            not_after: ca.notAfter,
            created_at: ca.createdAt,
          })
          .execute(),
      `Certificate authority '${ca.id}' already exists.`,
    );
  }

  async get(id: string): Promise<CertificateAuthority | undefined> {
    const row = await this.db
      .selectFrom('certificate_authorities')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && this.toAuthority(row);
  }

  async current(at: number): Promise<CertificateAuthority | undefined> {
    const row = await this.db
      .selectFrom('certificate_authorities')
      .selectAll()
      .where('not_before', '<=', at)
      .where('not_after', '>', at)
      .orderBy('not_after', 'desc')
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .executeTakeFirst();
    return row && this.toAuthority(row);
  }

  async list(): Promise<readonly CertificateAuthority[]> {
    const rows = await this.db
      .selectFrom('certificate_authorities')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
    return rows.map((row) => this.toAuthority(row));
  }
}
