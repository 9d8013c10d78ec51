// The store contract for the installation record: one row, and servers starting at once agree on it, on every backend.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type InstallationRecord, masterKeyCheckOf } from '../../src/core/installation.js';
import type { Store } from '../../src/core/ports.js';
import { openStore } from '../../src/store/index.js';
import { OTHER_MASTER_KEY, TEST_MASTER_KEY } from '../fixtures/keys.js';
import { openTarget, T0, type OpenedTarget } from './contract-fixtures.js';
import { storeTargets } from './targets.js';

const record = (over: Partial<InstallationRecord> = {}): InstallationRecord => ({
  publicUrl: 'https://lb.example',
  issuer: null,
  masterKeyCheck: masterKeyCheckOf(TEST_MASTER_KEY),
  recordedAt: T0,
  ...over,
});

describe.each(storeTargets())('store contract (installation) on $name', (target) => {
  let t: OpenedTarget;
  /** A second server's store: its own connections to the same database. */
  let other: Store;

  beforeAll(async () => {
    t = await openTarget(target);
    other = (await openStore({ database: t.options, masterKey: TEST_MASTER_KEY })).store;
  });
  afterAll(async () => {
    await other.close();
    await t.close();
  });
  beforeEach(async () => {
    await t.raw.db.deleteFrom('installation').execute();
  });

  it('has no record until the first claim, which records and returns its values', async () => {
    expect(await t.store.installation.get()).toBeUndefined();
    expect(await t.store.installation.update({ publicUrl: 'https://x', issuer: null }, T0)).toBe(
      undefined,
    );
    expect(await t.store.installation.get()).toBeUndefined();

    const first = record({ issuer: 'https://sts.windows.net/{tenantId}/' });
    expect(await t.store.installation.claim(first)).toEqual(first);
    expect(await other.installation.get()).toEqual(first);
  });

  it('keeps the first record: a later claim gets it back and changes nothing', async () => {
    const first = record();
    await t.store.installation.claim(first);
    const later = record({
      publicUrl: 'http://10.0.0.2:8443',
      issuer: 'https://other/{tenantId}/',
      masterKeyCheck: masterKeyCheckOf(OTHER_MASTER_KEY),
      recordedAt: T0 + 1_000,
    });
    expect(await other.installation.claim(later)).toEqual(first);
    expect(await t.store.installation.get()).toEqual(first);
  });

  it('two servers claiming at once both get the one record that was stored', async () => {
    for (let round = 0; round < 10; round += 1) {
      await t.raw.db.deleteFrom('installation').execute();
      const a = record({ publicUrl: `https://a-${round}.example`, recordedAt: T0 + round });
      const b = record({ publicUrl: `https://b-${round}.example`, recordedAt: T0 + round });
      const [gotA, gotB] = await Promise.all([
        t.store.installation.claim(a),
        other.installation.claim(b),
      ]);
      expect(gotA).toEqual(gotB);
      expect([a, b]).toContainEqual(gotA);
      expect(await t.store.installation.get()).toEqual(gotA);
      const { count } = await t.raw.db
        .selectFrom('installation')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirstOrThrow();
      expect(count).toBe(1);
    }
  });

  it('updates the URL and issuer, keeping the master key check', async () => {
    await t.store.installation.claim(record());
    const updated = await other.installation.update(
      { publicUrl: 'https://new.example', issuer: 'https://new.example/{tenantId}/v2.0' },
      T0 + 5_000,
    );
    expect(updated).toEqual(
      record({
        publicUrl: 'https://new.example',
        issuer: 'https://new.example/{tenantId}/v2.0',
        recordedAt: T0 + 5_000,
      }),
    );
    expect(await t.store.installation.get()).toEqual(updated);
  });

  it('holds one row only', async () => {
    await t.store.installation.claim(record());
    await expect(
      t.raw.db
        .insertInto('installation')
        .values({
          id: 2,
          public_url: 'https://second.example',
          issuer: null,
          master_key_check: 'x',
          recorded_at: T0,
        })
        .execute(),
    ).rejects.toThrow(/check|constraint/i);
  });

  it("gives the check value of the key it was opened with, which tells keys apart and isn't the key", async () => {
    expect(t.store.installation.masterKeyCheck).toBe(masterKeyCheckOf(TEST_MASTER_KEY));
    expect(t.store.installation.masterKeyCheck).toMatch(/^[0-9a-f]{64}$/);
    expect(t.store.installation.masterKeyCheck).not.toContain(TEST_MASTER_KEY.toString('hex'));
    const elsewhere = await openStore({ database: t.options, masterKey: OTHER_MASTER_KEY });
    try {
      expect(elsewhere.store.installation.masterKeyCheck).not.toBe(
        t.store.installation.masterKeyCheck,
      );
    } finally {
      await elsewhere.store.close();
    }
  });
});
