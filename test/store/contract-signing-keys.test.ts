// The store contract for signing-key rotation: two replicas rotating at once leave one story, on every backend.

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSigningKeyService,
  selectSigningKey,
  type SigningKeyRotation,
} from '../../src/core/keys/signing-keys.js';
import type { Store } from '../../src/core/ports.js';
import { openStore } from '../../src/store/index.js';
import { TEST_MASTER_KEY } from '../fixtures/keys.js';
import { openTarget, T0, type OpenedTarget } from './contract-fixtures.js';
import { storeTargets } from './targets.js';

const ROUNDS = 5;

/** RSA keys made once, so both replicas reach their transactions together (as in a race). */
const keyPairs: { privateKey: KeyObject; publicKey: KeyObject }[] = [];

describe.each(storeTargets())('store contract (signing-key rotation) on $name', (target) => {
  let t: OpenedTarget;
  /**
   * The second replica: its own connection pool on PostgreSQL. On SQLite the same store: two
   * connections of one process would wait on each other synchronously (better-sqlite3), so two
   * processes racing is test/security/small-items.test.ts's `tessera signing-key` case.
   */
  let other: Store;
  const clock = { t: T0, now: () => clock.t };

  beforeAll(async () => {
    t = await openTarget(target);
    other =
      target.name === 'postgres'
        ? (await openStore({ database: t.options, masterKey: TEST_MASTER_KEY })).store
        : t.store;
    while (keyPairs.length < 2 * ROUNDS + 2) {
      keyPairs.push(generateKeyPairSync('rsa', { modulusLength: 2048 }));
    }
  });
  afterAll(async () => {
    if (other !== t.store) await other.close();
    await t.close();
  });

  let next = 0;
  const replica = (store: Store) =>
    createSigningKeyService({
      store,
      clock,
      generateKeyPair: () => Promise.resolve(keyPairs[next++ % keyPairs.length]!),
    });

  it('two immediate rotations at once: the later unpublishes the earlier, one key signs', async () => {
    const a = replica(t.store);
    const b = replica(other);
    await a.ensure();
    for (let round = 0; round < ROUNDS; round += 1) {
      clock.t += 1_000;
      const before = (await t.store.signingKeys.listPublished(clock.t)).map((k) => k.kid);
      const results: SigningKeyRotation[] = await Promise.all([
        a.rotate({ immediate: true }),
        b.rotate({ immediate: true }),
      ]);
      const published = await t.store.signingKeys.listPublished(clock.t);
      expect(published.map((k) => k.kid)).toHaveLength(1);
      const winner = results.find((r) => r.key.kid === published[0]!.kid);
      const loser = results.find((r) => r !== winner);
      expect(winner).toBeDefined();
      expect(selectSigningKey(published, clock.t)?.kid).toBe(winner!.key.kid);
      // The loser committed first and unpublished the keys there were; the winner read the
      // loser's key, committed second and took it out of the JWKS: one story, in commit order.
      expect([...loser!.unpublished].sort()).toEqual([...before].sort());
      expect(winner!.unpublished).toEqual([loser!.key.kid]);
      expect(winner!.signing.kid).toBe(winner!.key.kid);
      expect((await t.store.signingKeys.get(loser!.key.kid))?.status).toBe('retired');
    }
  });

  it('lockForRotation() holds only inside a transaction', async () => {
    await expect(t.store.signingKeys.lockForRotation()).rejects.toThrow(/inside a transaction/);
  });
});
