// The installation record in SQL: one row, recorded by the first server to start.

import type { InstallationRecord, InstallationStore } from '../../core/installation.js';
import type { EpochMs } from '../../core/model.js';
import type { InstallationTable } from '../schema.js';
import type { Executor } from './shared.js';

/** The record's row is always this one. */
const ROW_ID = 1;

const toRecord = (row: InstallationTable): InstallationRecord => ({
  publicUrl: row.public_url,
  issuer: row.issuer,
  masterKeyCheck: row.master_key_check,
  recordedAt: row.recorded_at,
});

export class SqlInstallationStore implements InstallationStore {
  constructor(
    private readonly db: Executor,
    readonly masterKeyCheck: string,
  ) {}

  async get(): Promise<InstallationRecord | undefined> {
    const row = await this.db
      .selectFrom('installation')
      .selectAll()
      .where('id', '=', ROW_ID)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  /** Insert-if-absent and read, so the first of concurrent claims wins on both dialects. */
  async claim(record: InstallationRecord): Promise<InstallationRecord> {
    await this.db
      .insertInto('installation')
      .values({
        id: ROW_ID,
        public_url: record.publicUrl,
        issuer: record.issuer,
        master_key_check: record.masterKeyCheck,
        recorded_at: record.recordedAt,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    const stored = await this.get();
    // The row is never deleted, so the read after the insert always finds one.
    if (stored === undefined) throw new Error('the installation record vanished after its insert');
    return stored;
  }

  async update(
    values: Pick<InstallationRecord, 'publicUrl' | 'issuer'>,
    at: EpochMs,
  ): Promise<InstallationRecord | undefined> {
    await this.db
      .updateTable('installation')
      .set({ public_url: values.publicUrl, issuer: values.issuer, recorded_at: at })
      .where('id', '=', ROW_ID)
      .execute();
    return this.get();
  }
}
