import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSelfSignedCertificate, parseCertificate, thumbprintsOf } from '../core/keys/x509.js';
import { privatePemOf, sealedCredential } from './host-identity.js';

describe('sealedCredential', () => {
  it('reads the times and thumbprint, imports the key on first use, and seals the same PEM', async () => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const now = Date.UTC(2026, 11, 7);
    const certificate = await createSelfSignedCertificate({
      ...keys,
      commonName: 'identity',
      notBefore: now - 60_000,
      notAfter: now + 86_400_000,
      isCa: false,
    });
    const pem = keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const credential = sealedCredential('p-1', pem, certificate.pem);
    const parsed = parseCertificate(certificate.pem);
    expect(credential).toMatchObject({
      principalId: 'p-1',
      certificatePem: certificate.pem,
      notBefore: parsed.notBefore,
      notAfter: parsed.notAfter,
      x5tS256: thumbprintsOf(certificate.der).sha256,
    });
    expect(privatePemOf(credential)).toBe(pem);
    expect(credential.privateKey.equals(keys.privateKey)).toBe(true);
    expect(credential.privateKey).toBe(credential.privateKey);
  });

  it('refuses a certificate that is not one', () => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => sealedCredential('p-1', pem, 'not a certificate')).toThrow();
    expect(() =>
      sealedCredential('p-1', pem, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'),
    ).toThrow();
  });
});
