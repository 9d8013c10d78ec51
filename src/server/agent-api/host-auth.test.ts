import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import {
  createCertificateSigningRequest,
  createSelfSignedCertificate,
  issueCertificateFromCsr,
  thumbprintsOf,
} from '../../core/keys/x509.js';
import { createHostAuthenticator, type HostAuthenticator } from './host-auth.js';

const AUDIENCE = 'https://tessera.test/agent/v1';
const T0 = Date.UTC(2026, 11, 7, 12);
const DAY_MS = 86_400_000;

/** A CA, one host certified by it, and an authenticator over a store holding that host. */
async function world() {
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ca = await createSelfSignedCertificate({
    ...caKeys,
    commonName: 'ca',
    notBefore: T0 - DAY_MS,
    notAfter: T0 + 30 * DAY_MS,
    isCa: true,
  });
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const csrPem = await createCertificateSigningRequest({ ...keys, commonName: 'host' });
  const issued = await issueCertificateFromCsr({
    csrPem,
    ca: { certificateDer: ca.der, privateKey: caKeys.privateKey },
    clientId: 'host-1',
    tenantId: 'tenant',
    notBefore: T0 - 60_000,
    notAfter: T0 + DAY_MS,
  });
  const hosts = new Map<string, Host>([
    [
      'host-1',
      {
        id: 'host-1',
        name: 'one',
        joinTokenHash: null,
        certificateThumbprint: thumbprintsOf(issued.der).sha256,
        registeredAt: T0,
        lastSeenAt: T0,
        createdAt: T0,
        certificateNotAfter: T0 + DAY_MS,
      },
    ],
  ]);
  const counts = { anchors: 0, hostReads: 0 };
  const clock = { at: T0, now: () => clock.at };
  const store = {
    hosts: {
      get: (id: string) => {
        counts.hostReads++;
        return Promise.resolve(hosts.get(id));
      },
      update: () => Promise.resolve(undefined),
    },
  } as unknown as Store;
  const auth: HostAuthenticator = createHostAuthenticator({
    store,
    clock,
    audiences: [AUDIENCE],
    trustAnchors: () => {
      counts.anchors++;
      return Promise.resolve([ca.der]);
    },
  });
  const assertion = (lifetime = 300): Promise<string> => {
    const iat = Math.floor(clock.at / 1000);
    return new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', x5c: [issued.der.toString('base64')] })
      .setSubject('host-1')
      .setAudience(AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(iat + lifetime)
      .sign(keys.privateKey);
  };
  return { auth, hosts, counts, clock, assertion };
}

describe('host authentication: an assertion verified once, checked every time', () => {
  let w: Awaited<ReturnType<typeof world>>;
  beforeAll(async () => {
    w = await world();
  });

  it('accepts the same assertion again, reading the host each time', async () => {
    w.clock.at = T0;
    const jws = await w.assertion();
    const reads = w.counts.hostReads;
    for (let i = 0; i < 3; i++) {
      expect((await w.auth.authenticate(`TesseraHost ${jws}`)).id).toBe('host-1');
    }
    expect(w.counts.hostReads - reads).toBe(3);
    expect(w.counts.anchors).toBe(1);
  });

  it("refuses a remembered assertion once past its 'exp' (60 s skew), as on its first use", async () => {
    w.clock.at = T0;
    const jws = await w.assertion(120);
    await w.auth.authenticate(`TesseraHost ${jws}`);
    w.clock.at = T0 + 170_000;
    await expect(w.auth.authenticate(`TesseraHost ${jws}`)).resolves.toBeDefined();
    w.clock.at = T0 + 181_000;
    await expect(w.auth.authenticate(`TesseraHost ${jws}`)).rejects.toThrow(
      'The host assertion has expired.',
    );
  });

  it('refuses a remembered assertion at once when the host is registered with another certificate', async () => {
    w.clock.at = T0;
    const jws = await w.assertion();
    await w.auth.authenticate(`TesseraHost ${jws}`);
    const host = w.hosts.get('host-1');
    if (host === undefined) throw new Error('no host');
    w.hosts.set('host-1', { ...host, certificateThumbprint: 'another' });
    try {
      await expect(w.auth.authenticate(`TesseraHost ${jws}`)).rejects.toThrow(
        'The host certificate is not the one registered for this host.',
      );
    } finally {
      w.hosts.set('host-1', host);
    }
  });

  it('refuses a remembered assertion once its certificate has expired', async () => {
    w.clock.at = T0 + DAY_MS - 100_000;
    const jws = await w.assertion(300);
    await w.auth.authenticate(`TesseraHost ${jws}`);
    w.clock.at = T0 + DAY_MS;
    await expect(w.auth.authenticate(`TesseraHost ${jws}`)).rejects.toThrow(
      'The host certificate is not valid now',
    );
  });

  it('verifies other bytes anew: an altered signature of a remembered assertion is refused', async () => {
    w.clock.at = T0;
    const jws = await w.assertion();
    await w.auth.authenticate(`TesseraHost ${jws}`);
    const [head, body, signature = ''] = jws.split('.');
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    await expect(w.auth.authenticate(`TesseraHost ${head}.${body}.${flipped}`)).rejects.toThrow(
      "The host assertion's signature does not verify.",
    );
  });
});
