// signCmsAttached: checked by OpenSSL (`openssl cms -verify`) and by re-parsing with node:crypto.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signCmsAttached } from './cms.js';
import { createSelfSignedCertificate } from './x509.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-cms-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function opensslVerify(der: Buffer): string {
  const file = join(dir, `${String(Math.random()).slice(2)}.p7`);
  writeFileSync(file, der);
  return execFileSync('openssl', ['cms', '-verify', '-inform', 'DER', '-noverify', '-in', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function signer(privateKey: KeyObject, publicKey: KeyObject): Promise<Buffer> {
  const now = Date.now();
  const cert = await createSelfSignedCertificate({
    privateKey,
    publicKey,
    commonName: 'cms test',
    notBefore: now - 60_000,
    notAfter: now + 3_600_000,
    isCa: false,
  });
  return cert.der;
}

describe('signCmsAttached', () => {
  for (const kind of ['rsa', 'ec'] as const) {
    it(`signs attached content OpenSSL verifies (${kind})`, async () => {
      const { privateKey, publicKey } =
        kind === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const certificateDer = await signer(privateKey, publicKey);
      const content = Buffer.from('{"nonce":"1234567890"}');
      const der = signCmsAttached(content, { certificateDer, privateKey }, [certificateDer]);
      expect(opensslVerify(der)).toBe(content.toString());

      // The content flipped inside the structure no longer matches messageDigest.
      const at = der.indexOf(content);
      expect(at).toBeGreaterThan(0);
      const tampered = Buffer.from(der);
      tampered[at + 3] = 0x41;
      expect(() => opensslVerify(tampered)).toThrow();
    });
  }
});
