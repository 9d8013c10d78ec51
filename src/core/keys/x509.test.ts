// Tests for the X.509 wrapper, with Node's OpenSSL-backed X509Certificate as the oracle.
import { createHash, generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import {
  createCertificateSigningRequest,
  createSelfSignedCertificate,
  issueCertificateFromCsr,
  parseCertificate,
  thumbprintsOf,
  verifyIssuedBy,
} from './x509.js';

const T0 = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;
const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const TENANT_ID = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

const ec = (): { privateKey: KeyObject; publicKey: KeyObject } =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = (bits = 2048): { privateKey: KeyObject; publicKey: KeyObject } =>
  generateKeyPairSync('rsa', { modulusLength: bits });

async function makeCa(commonName = 'Tessera Directory CA') {
  const keys = ec();
  const cert = await createSelfSignedCertificate({
    ...keys,
    commonName,
    notBefore: T0,
    notAfter: T0 + 3650 * DAY,
    isCa: true,
  });
  return { ...keys, cert, ca: { certificateDer: cert.der, privateKey: keys.privateKey } };
}

function issue(ca: Awaited<ReturnType<typeof makeCa>>, csrPem: string) {
  return issueCertificateFromCsr({
    csrPem,
    ca: ca.ca,
    clientId: CLIENT_ID,
    tenantId: TENANT_ID,
    notBefore: T0,
    notAfter: T0 + 7 * DAY,
  });
}

async function expectInvalid(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('InvalidParameter');
  expect((error as AppError).status).toBe(400);
  expect((error as AppError).message).toMatch(message);
}

/** DER of a critical keyUsage extension with the given BIT STRING content. */
const keyUsageDer = (bits: string): Buffer => Buffer.from(`300e0603551d0f0101ff0404${bits}`, 'hex');

describe('thumbprintsOf', () => {
  it('gives base64url SHA-1 and SHA-256 of the DER, equal to OpenSSL fingerprints', async () => {
    const { cert } = await makeCa();
    const { sha1, sha256 } = thumbprintsOf(cert.der);
    const node = new X509Certificate(cert.der);
    const hex = (b64: string): string =>
      Buffer.from(b64, 'base64url').toString('hex').toUpperCase().match(/../g)!.join(':');
    expect(hex(sha1)).toBe(node.fingerprint);
    expect(hex(sha256)).toBe(node.fingerprint256);
    expect(sha1).toMatch(/^[A-Za-z0-9_-]{27}$/);
    expect(sha256).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('createSelfSignedCertificate', () => {
  it('makes an EC P-256 CA certificate with cA=true and keyCertSign + cRLSign', async () => {
    const { cert, publicKey } = await makeCa();
    const node = new X509Certificate(cert.pem);
    expect(node.subject).toBe('CN=Tessera Directory CA');
    expect(node.issuer).toBe('CN=Tessera Directory CA');
    expect(node.ca).toBe(true);
    expect(node.verify(publicKey)).toBe(true);
    expect(new Date(node.validFrom).getTime()).toBe(T0);
    expect(new Date(node.validTo).getTime()).toBe(T0 + 3650 * DAY);
    expect(cert.der.includes(keyUsageDer('03020106'))).toBe(true);
    expect(node.toLegacyObject()).not.toHaveProperty('ext_key_usage');
  });

  it('makes an RSA leaf certificate signed with sha256WithRSAEncryption and digitalSignature', async () => {
    const keys = rsa();
    const cert = await createSelfSignedCertificate({
      ...keys,
      commonName: 'Tessera Token Signing',
      notBefore: T0,
      notAfter: T0 + DAY,
      isCa: false,
    });
    const node = new X509Certificate(cert.der);
    expect(node.ca).toBe(false);
    expect(node.verify(keys.publicKey)).toBe(true);
    expect(cert.der.includes(keyUsageDer('03020780'))).toBe(true);
    // OID 1.2.840.113549.1.1.11 sha256WithRSAEncryption
    expect(cert.der.includes(Buffer.from('06092a864886f70d01010b', 'hex'))).toBe(true);
  });

  it('refuses keys it cannot sign with', async () => {
    const keys = generateKeyPairSync('ed25519');
    await expectInvalid(
      createSelfSignedCertificate({
        ...keys,
        commonName: 'x',
        notBefore: T0,
        notAfter: T0 + DAY,
        isCa: false,
      }),
      /Only RSA and EC P-256 keys/,
    );
  });
});

describe('issueCertificateFromCsr', () => {
  it('issues CN={clientId}, DC={tenantId} for an EC P-256 CSR, ignoring the CSR subject', async () => {
    const ca = await makeCa();
    const leaf = ec();
    const csr = await createCertificateSigningRequest({ ...leaf, commonName: 'attacker-chosen' });
    const issued = await issue(ca, csr);
    const node = new X509Certificate(issued.der);
    // Node prints the DER order, one RDN per line: DC first, then CN.
    expect(node.subject).toBe(`DC=${TENANT_ID}\nCN=${CLIENT_ID}`);
    expect(node.issuer).toBe('CN=Tessera Directory CA');
    expect(node.checkIssued(new X509Certificate(ca.cert.der))).toBe(true);
    expect(node.verify(ca.publicKey)).toBe(true);
    expect(node.ca).toBe(false);
    expect(node.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(node.publicKey.equals(leaf.publicKey)).toBe(true);
    expect(issued.publicKey.equals(leaf.publicKey)).toBe(true);
    expect(new Date(node.validFrom).getTime()).toBe(T0);
    expect(new Date(node.validTo).getTime()).toBe(T0 + 7 * DAY);
    expect(issued.der.includes(keyUsageDer('03020780'))).toBe(true);
    // DC is 0.9.2342.19200300.100.1.25 as an IA5String
    expect(issued.der.includes(Buffer.from('060a0992268993f22c6401191624', 'hex'))).toBe(true);
    expect(issued.pem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(parseCertificate(issued.pem).subject).toBe(`CN=${CLIENT_ID}, DC=${TENANT_ID}`);
  });

  it('carries subject and authority key identifiers that chain to the CA', async () => {
    const ca = await makeCa();
    const leaf = ec();
    const issued = await issue(
      ca,
      await createCertificateSigningRequest({ ...leaf, commonName: 'a' }),
    );
    const keyId = (key: KeyObject): Buffer => {
      const spki = key.export({ format: 'der', type: 'spki' });
      // SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 4.2.1.2 method 1)
      return createHash('sha1')
        .update(spki.subarray(spki.length - 65))
        .digest();
    };
    const ski = Buffer.concat([Buffer.from('04160414', 'hex'), keyId(leaf.publicKey)]);
    const aki = Buffer.concat([Buffer.from('30168014', 'hex'), keyId(ca.publicKey)]);
    expect(issued.der.includes(ski)).toBe(true);
    expect(issued.der.includes(aki)).toBe(true);
  });

  it('issues for RSA-2048 CSRs and gives a positive 16-byte serial every time', async () => {
    const ca = await makeCa();
    const csr = await createCertificateSigningRequest({ ...rsa(), commonName: 'rsa' });
    const serials = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const serial = new X509Certificate((await issue(ca, csr)).der).serialNumber;
      expect(serial).toMatch(/^[0-7][0-9A-F]{31}$/);
      expect(serial.startsWith('00')).toBe(false);
      serials.add(serial);
    }
    expect(serials.size).toBe(20);
  });

  it('refuses an RSA key under 2048 bits and an EC key off P-256', async () => {
    const ca = await makeCa();
    const small = await createCertificateSigningRequest({ ...rsa(1024), commonName: 'x' });
    await expectInvalid(issue(ca, small), /not valid: an RSA key must have at least 2048 bits/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const wrongCurve = await createCertificateSigningRequest({ ...p384, commonName: 'x' });
    await expectInvalid(issue(ca, wrongCurve), /not valid: an EC key must be on the P-256 curve/);
  });

  it('refuses a CSR whose signature was tampered with or whose subject was altered', async () => {
    const ca = await makeCa();
    const pem = await createCertificateSigningRequest({ ...ec(), commonName: 'abcd' });
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const toPem = (bytes: Buffer): string =>
      `-----BEGIN CERTIFICATE REQUEST-----\n${bytes.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const signatureFlipped = Buffer.from(der);
    signatureFlipped[signatureFlipped.length - 3]! ^= 0x01;
    await expectInvalid(issue(ca, toPem(signatureFlipped)), /signing request is not valid/);
    const subjectAltered = Buffer.from(der.toString('latin1').replace('abcd', 'abce'), 'latin1');
    expect(subjectAltered.equals(der)).toBe(false);
    await expectInvalid(
      issue(ca, toPem(subjectAltered)),
      /^The certificate signing request is not valid: its signature does not verify\.$/,
    );
  });

  it('refuses input that is not a CSR', async () => {
    const ca = await makeCa();
    await expectInvalid(issue(ca, 'hello'), /not valid: it cannot be parsed/);
    await expectInvalid(issue(ca, ca.cert.pem), /not valid: it cannot be parsed/);
    await expectInvalid(
      issue(ca, '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----'),
      /not valid: it cannot be parsed/,
    );
    await expectInvalid(issue(ca, 'x'.repeat(70_000)), /not valid: it is too large/);
  });
});

describe('parseCertificate', () => {
  it('reads PEM and DER alike', async () => {
    const { cert, publicKey } = await makeCa();
    const fromPem = parseCertificate(cert.pem);
    const fromDer = parseCertificate(cert.der);
    expect(fromPem).toEqual(fromDer);
    expect(fromDer.der.equals(cert.der)).toBe(true);
    expect(fromDer.publicKey.equals(publicKey)).toBe(true);
    expect(fromDer).toMatchObject({
      notBefore: T0,
      notAfter: T0 + 3650 * DAY,
      subject: 'CN=Tessera Directory CA',
      issuer: 'CN=Tessera Directory CA',
      ...thumbprintsOf(cert.der),
    });
  });

  it('fails with InvalidParameter for anything else', () => {
    for (const input of ['nope', Buffer.from('30030201', 'hex'), Buffer.alloc(0)]) {
      expect(() => parseCertificate(input)).toThrow(AppError);
      expect(() => parseCertificate(input)).toThrow(/^The certificate is not valid/);
    }
  });
});

describe('verifyIssuedBy', () => {
  it('accepts the issuing CA and refuses a foreign CA with the same name', async () => {
    const ca = await makeCa();
    const impostor = await makeCa();
    const issued = await issue(
      ca,
      await createCertificateSigningRequest({ ...ec(), commonName: 'a' }),
    );
    expect(await verifyIssuedBy(issued.der, ca.cert.der)).toBe(true);
    expect(await verifyIssuedBy(issued.der, impostor.cert.der)).toBe(false);
  });

  it('refuses a CA whose name differs, and unreadable input', async () => {
    const ca = await makeCa();
    const other = await makeCa('Another CA');
    const issued = await issue(
      ca,
      await createCertificateSigningRequest({ ...ec(), commonName: 'a' }),
    );
    expect(await verifyIssuedBy(issued.der, other.cert.der)).toBe(false);
    expect(await verifyIssuedBy(Buffer.from('junk'), ca.cert.der)).toBe(false);
    expect(await verifyIssuedBy(issued.der, Buffer.from('junk'))).toBe(false);
  });
});
