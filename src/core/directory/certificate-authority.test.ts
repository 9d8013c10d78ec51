// Tests for the directory CA service on a real SQLite store: creation, sharing, renewal.
import { X509Certificate } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../../test/fixtures/temp-store.js';
import type { Store } from '../ports.js';
import {
  createCertificateAuthorityService,
  DEFAULT_CA_LIFETIME_MS,
} from './certificate-authority.js';

const T0 = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;

let tmp: TempStore;
let store: Store;
const clock = {
  t: T0,
  now(): number {
    return this.t;
  },
};

beforeEach(async () => {
  tmp = await openTempStore('tessera-ca-');
  store = tmp.store;
  clock.t = T0;
});
afterEach(async () => {
  await tmp.close();
});

describe('certificate authority service', () => {
  it('creates an EC P-256 CA on first use, stores it sealed, and caches it', async () => {
    const ca = createCertificateAuthorityService({ store, clock });
    expect(await ca.trustAnchors()).toEqual([]);
    const current = await ca.current();
    expect(current.id).toBe('directory-ca-1');
    const cert = new X509Certificate(current.certificateDer);
    expect(cert.subject).toBe('CN=Tessera Directory CA');
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(current.privateKey.asymmetricKeyType).toBe('ec');
    expect(new Date(cert.validTo).getTime()).toBe(T0 + DEFAULT_CA_LIFETIME_MS);
    expect(new Date(cert.validFrom).getTime()).toBeLessThan(T0);
    const stored = await store.certificateAuthorities.get('directory-ca-1');
    expect(stored?.certificate).toBe(current.certificateDer.toString('base64'));
    expect(await ca.current()).toBe(current);
    expect(await ca.trustAnchors()).toEqual([current.certificateDer]);
  });

  it('two services racing on one store, and a replica on its own connection, share one CA', async () => {
    const a = createCertificateAuthorityService({ store, clock });
    const b = createCertificateAuthorityService({ store, clock });
    const [fromA, fromB, again] = await Promise.all([a.current(), b.current(), a.current()]);
    expect(fromB.id).toBe(fromA.id);
    expect(again.id).toBe(fromA.id);
    expect(fromB.certificateDer.equals(fromA.certificateDer)).toBe(true);
    expect(await store.certificateAuthorities.list()).toHaveLength(1);

    const replica = await tmp.reopen();
    try {
      const c = createCertificateAuthorityService({ store: replica, clock });
      expect((await c.current()).certificateDer.equals(fromA.certificateDer)).toBe(true);
    } finally {
      await replica.close();
    }
  });

  it('renews when a tenth of the lifetime is left and trusts old CAs until they expire', async () => {
    const lifetime = 100 * DAY;
    const ca = createCertificateAuthorityService({ store, clock, caLifetimeMs: lifetime });
    const first = await ca.current();
    clock.t = T0 + 90 * DAY - 1;
    expect((await ca.current()).id).toBe(first.id);
    clock.t = T0 + 90 * DAY;
    const second = await ca.current();
    expect(second.id).toBe('directory-ca-2');
    expect(second.certificateDer.equals(first.certificateDer)).toBe(false);
    const other = createCertificateAuthorityService({ store, clock, caLifetimeMs: lifetime });
    expect((await other.current()).id).toBe('directory-ca-2');
    expect(await ca.trustAnchors()).toEqual(
      expect.arrayContaining([first.certificateDer, second.certificateDer]),
    );
    clock.t = T0 + lifetime;
    expect(await ca.trustAnchors()).toEqual([second.certificateDer]);
  });
});
