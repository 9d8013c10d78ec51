// Tests for token-signing key rotation, on a real SQLite store with a fake clock.
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { createHash, X509Certificate } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../../test/fixtures/temp-store.js';
import { TEST_MASTER_KEY } from '../../../test/fixtures/keys.js';
import { openStore } from '../../store/index.js';
import type { Store } from '../ports.js';
import {
  createSigningKeyService,
  DEFAULT_SIGNING_KEY_POLICY,
  selectSigningKey,
  type SigningKeyService,
} from './signing-keys.js';

const T0 = Date.UTC(2025, 0, 1);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const {
  rotationIntervalMs: INTERVAL,
  publishLeadMs: LEAD,
  maxTokenLifetimeMs: MAX_TOKEN,
} = DEFAULT_SIGNING_KEY_POLICY;

let tmp: TempStore;
let store: Store;
const clock = {
  t: T0,
  now(): number {
    return this.t;
  },
};

beforeEach(async () => {
  tmp = await openTempStore('tessera-signing-');
  store = tmp.store;
  clock.t = T0;
});
afterEach(async () => {
  await tmp.close();
});

const service = (s: Store = store, refreshMs = 1_000): SigningKeyService =>
  createSigningKeyService({ store: s, clock, refreshMs });
const kids = async (svc: SigningKeyService): Promise<string[]> =>
  (await svc.jwks()).keys.map((k) => k.kid).sort();

async function mint(svc: SigningKeyService): Promise<string> {
  const { kid, x5t, privateKey } = await svc.signingKey();
  return new SignJWT({ sub: 'x' })
    .setProtectedHeader({ alg: 'RS256', kid, x5t, typ: 'JWT' })
    .setIssuedAt(Math.floor(clock.t / 1000))
    .setExpirationTime(Math.floor((clock.t + 3_600_000) / 1000))
    .sign(privateKey);
}

async function verifies(svc: SigningKeyService, token: string): Promise<boolean> {
  const jwks = createLocalJWKSet(await svc.jwks());
  return jwtVerify(token, jwks, { currentDate: new Date(clock.t), algorithms: ['RS256'] }).then(
    () => true,
    () => false,
  );
}

describe('signing keys', () => {
  it('first start: one key signs at once, published as Azure publishes it', async () => {
    const svc = service();
    await svc.ensure();
    const { keys } = await svc.jwks();
    expect(keys).toHaveLength(1);
    const jwk = keys[0]!;
    expect(Object.keys(jwk)).toEqual(['kty', 'use', 'kid', 'x5t', 'n', 'e', 'x5c']);
    expect(jwk).toMatchObject({ kty: 'RSA', use: 'sig', e: 'AQAB' });
    const der = Buffer.from(jwk.x5c[0]!, 'base64');
    expect(jwk.kid).toBe(createHash('sha1').update(der).digest('base64url'));
    expect(jwk.x5t).toBe(jwk.kid);
    const cert = new X509Certificate(der);
    expect(cert.subject).toBe('CN=Tessera Token Signing');
    expect(new Date(cert.validFrom).getTime()).toBeLessThanOrEqual(T0);
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(T0 + INTERVAL + LEAD + MAX_TOKEN);
    const signing = await svc.signingKey();
    expect(signing.kid).toBe(jwk.kid);
    expect(signing.x5t).toBe(jwk.kid);
    expect(cert.publicKey.export({ format: 'jwk' }).n).toBe(jwk.n);
    const stored = await store.signingKeys.get(jwk.kid);
    expect(stored).toMatchObject({
      status: 'active',
      activatesAt: T0,
      retiresAt: null,
      createdAt: T0,
    });
    expect(stored?.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    await svc.ensure();
    expect(await kids(svc)).toHaveLength(1);
  });

  it('signingKey() on a fresh install creates the first key itself', async () => {
    const svc = service();
    const { kid } = await svc.signingKey();
    expect(await kids(svc)).toEqual([kid]);
  });

  it('tokens signed with signingKey() verify with jose against jwks()', async () => {
    const svc = service();
    const token = await mint(svc);
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as unknown;
    expect(header).toEqual({
      alg: 'RS256',
      kid: (await svc.signingKey()).kid,
      x5t: (await svc.signingKey()).kid,
      typ: 'JWT',
    });
    expect(await verifies(svc, token)).toBe(true);
    const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    expect(await verifies(svc, tampered)).toBe(false);
  });

  it('scheduled rollover: publishes the next key a full cache period before it signs', async () => {
    const svc = service();
    const first = (await svc.signingKey()).kid;
    clock.t = T0 + INTERVAL - LEAD - 1;
    await svc.ensure();
    expect(await kids(svc)).toEqual([first]);

    clock.t = T0 + INTERVAL - LEAD;
    await svc.ensure();
    const published = await kids(svc);
    expect(published).toHaveLength(2);
    const next = published.find((k) => k !== first)!;
    expect(await store.signingKeys.get(next)).toMatchObject({
      status: 'next',
      activatesAt: T0 + INTERVAL,
    });
    expect(await store.signingKeys.get(first)).toMatchObject({
      status: 'active',
      retiresAt: T0 + INTERVAL,
      expiresAt: T0 + INTERVAL + MAX_TOKEN,
    });
    expect((await svc.signingKey()).kid).toBe(first);
    const oldToken = await mint(svc);

    // The switch happens at the activation instant, from cached timestamps alone.
    const cachedOnly = service(store, 10 * DAY);
    await cachedOnly.signingKey();
    clock.t = T0 + INTERVAL - 1;
    expect((await svc.signingKey()).kid).toBe(first);
    expect((await cachedOnly.signingKey()).kid).toBe(first);
    clock.t = T0 + INTERVAL;
    expect((await svc.signingKey()).kid).toBe(next);
    expect((await cachedOnly.signingKey()).kid).toBe(next);
    await svc.ensure();
    expect((await store.signingKeys.get(first))?.status).toBe('retired');
    expect((await store.signingKeys.get(next))?.status).toBe('active');

    // The retired key stays published until its last token has expired, then leaves.
    clock.t = T0 + INTERVAL + MAX_TOKEN - 1;
    expect(await kids(svc)).toEqual([first, next].sort());
    expect(await kids(cachedOnly)).toEqual([first, next].sort());
    clock.t = T0 + INTERVAL + MAX_TOKEN;
    expect(await kids(svc)).toEqual([next]);
    expect(await kids(cachedOnly)).toEqual([next]);
    expect(await verifies(svc, oldToken)).toBe(false);
    expect(await verifies(svc, await mint(svc))).toBe(true);
  });

  it('a late ensure() still gives the next key a full publish lead', async () => {
    const svc = service();
    const first = (await svc.signingKey()).kid;
    clock.t = T0 + INTERVAL + 5 * DAY;
    await svc.ensure();
    const next = (await kids(svc)).find((k) => k !== first)!;
    expect((await store.signingKeys.get(next))?.activatesAt).toBe(clock.t + LEAD);
    expect((await svc.signingKey()).kid).toBe(first);
  });

  it('rotate(): the new key is published now and signs one publish lead later', async () => {
    const svc = service();
    const first = (await svc.signingKey()).kid;
    clock.t = T0 + 3 * DAY;
    const rotation = await svc.rotate();
    const rotated = rotation.key;
    expect(rotated).toMatchObject({
      status: 'next',
      activatesAt: clock.t + LEAD,
      createdAt: clock.t,
    });
    expect(rotation.signing.kid).toBe(first);
    expect(rotation.unpublished).toEqual([]);
    expect(await kids(svc)).toEqual([first, rotated.kid].sort());
    expect((await svc.signingKey()).kid).toBe(first);
    clock.t += LEAD;
    expect((await svc.signingKey()).kid).toBe(rotated.kid);
    // A second rotation while one is pending withdraws the pending key: it never signed.
    const again = (await svc.rotate()).key;
    const pending = await svc.rotate();
    expect(pending.unpublished).toEqual([again.kid]);
    expect(await kids(svc)).toEqual([first, rotated.kid, pending.key.kid].sort());
    expect((await store.signingKeys.get(again.kid))?.status).toBe('retired');
  });

  it('rotate({ immediate: true }): the new key signs now and the old keys are unpublished now', async () => {
    const svc = service();
    const other = service(store, 1_000);
    const oldToken = await mint(svc);
    const old = (await svc.signingKey()).kid;
    expect((await other.signingKey()).kid).toBe(old);
    clock.t += HOUR;
    const rotation = await svc.rotate({ immediate: true });
    const rotated = rotation.key;
    expect(rotated).toMatchObject({ status: 'active', activatesAt: clock.t });
    expect(rotation.signing.kid).toBe(rotated.kid);
    expect(rotation.unpublished).toEqual([old]);
    expect((await svc.signingKey()).kid).toBe(rotated.kid);
    expect(await kids(svc)).toEqual([rotated.kid]);
    expect(await store.signingKeys.get(old)).toMatchObject({
      status: 'retired',
      retiresAt: clock.t,
      expiresAt: clock.t,
    });
    expect(await verifies(svc, oldToken)).toBe(false);
    // Another replica keeps its cache at most refreshMs, then follows.
    clock.t += 1_000;
    expect((await other.signingKey()).kid).toBe(rotated.kid);
  });

  it('two instances racing on one store end with one key and agree on it', async () => {
    const a = service();
    const b = service();
    await Promise.all([a.ensure(), b.ensure(), a.signingKey(), b.signingKey()]);
    expect(await kids(a)).toHaveLength(1);
    expect((await a.signingKey()).kid).toBe((await b.signingKey()).kid);
    clock.t = T0 + INTERVAL - LEAD;
    await Promise.all([a.ensure(), b.ensure()]);
    expect(await kids(b)).toHaveLength(2);
    clock.t = T0 + INTERVAL;
    expect((await a.signingKey()).kid).toBe((await b.signingKey()).kid);
  });

  it('replicas on separate connections agree, and a duplicate from a race does not break selection', async () => {
    const a = service();
    const replica = await tmp.reopen();
    try {
      const b = service(replica);
      const kidA = (await a.signingKey()).kid;
      expect((await b.signingKey()).kid).toBe(kidA);

      // Simulate what two PostgreSQL replicas racing can leave: a second "first" key, written
      // concurrently with a slightly later activation, made in a database of its own.
      const elsewhere = join(tmp.dir, 'other');
      const other = (
        await openStore({
          database: { driver: 'sqlite', file: join(elsewhere, 't.db') },
          masterKey: TEST_MASTER_KEY,
        })
      ).store;
      clock.t = T0 + 10;
      await service(other).ensure();
      const duplicate = (await other.signingKeys.listPublished(clock.t))[0]!;
      await other.close();
      await store.signingKeys.add(duplicate);

      clock.t = T0 + 2_000;
      expect((await a.signingKey()).kid).toBe(duplicate.kid);
      expect((await b.signingKey()).kid).toBe(duplicate.kid);
      await b.ensure();
      // The overtaken key retires when the duplicate activated and expires after the last token.
      expect(await store.signingKeys.get(kidA)).toMatchObject({
        status: 'retired',
        retiresAt: T0 + 10,
        expiresAt: T0 + 10 + MAX_TOKEN,
      });
      expect(await kids(a)).toEqual([kidA, duplicate.kid].sort());
      clock.t = T0 + 10 + MAX_TOKEN;
      expect(await kids(b)).toEqual([duplicate.kid]);
    } finally {
      await replica.close();
    }
  });
});

describe('selectSigningKey', () => {
  const key = (kid: string, activatesAt: number, retiresAt: number | null = null) => ({
    kid,
    algorithm: 'RS256' as const,
    publicJwk: {},
    privateKeyPem: '',
    status: 'active' as const,
    activatesAt,
    retiresAt,
    expiresAt: null,
    createdAt: 0,
  });

  it('picks the latest activated key, smallest kid on ties, skipping retired and future keys', () => {
    const keys = [key('b', 10), key('a', 10), key('c', 5), key('d', 20), key('e', 15, 16)];
    expect(selectSigningKey(keys, 12)?.kid).toBe('a');
    expect(selectSigningKey(keys, 15)?.kid).toBe('e');
    expect(selectSigningKey(keys, 16)?.kid).toBe('a');
    expect(selectSigningKey(keys, 20)?.kid).toBe('d');
    expect(selectSigningKey(keys, 4)).toBeUndefined();
  });
});
