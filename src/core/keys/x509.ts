// X.509 for the directory: self-signed and CA-issued certificates, CSRs, thumbprints, parsing.
import 'reflect-metadata';
import {
  createHash,
  createPublicKey,
  type KeyObject,
  randomBytes,
  webcrypto,
  X509Certificate as NodeX509Certificate,
} from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { type AppError, invalidParameter } from '../errors.js';
import { buildClientCertificate } from './client-certificate.js';
import { certificateParts, publicKeyFromSpki } from './der.js';
import { createCsrDer, type ParsedCsr, parseCsrDer } from './pkcs10.js';

x509.cryptoProvider.set(webcrypto);

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
/** Larger inputs are refused before parsing: a CSR or a certificate is a few kilobytes. */
const MAX_INPUT_CHARS = 64 * 1024;

/** A certificate as both DER and PEM. */
export interface EncodedCertificate {
  readonly der: Buffer;
  readonly pem: string;
}

/** What {@link parseCertificate} reads from a certificate. Times are epoch milliseconds. */
export interface ParsedCertificate {
  readonly der: Buffer;
  readonly publicKey: KeyObject;
  /** The SubjectPublicKeyInfo as the certificate encodes it (DER). */
  readonly spki: Buffer;
  readonly notBefore: number;
  readonly notAfter: number;
  /** RFC 4514 order (last RDN first), as OpenSSL, .NET and Azure show it. */
  readonly subject: string;
  /** RFC 4514 order (last RDN first). */
  readonly issuer: string;
  /** base64url SHA-1 of the DER: the `x5t` header value. */
  readonly sha1: string;
  /** base64url SHA-256 of the DER: the `x5t#S256` header value. */
  readonly sha256: string;
}

/**
 * The `x5t` (SHA-1) and `x5t#S256` (SHA-256) thumbprints of a DER certificate: base64url, no
 * padding (RFC 7515 sections 4.1.7 and 4.1.8).
 */
export function thumbprintsOf(der: Uint8Array): { sha1: string; sha256: string } {
  return {
    sha1: createHash('sha1').update(der).digest('base64url'),
    sha256: createHash('sha256').update(der).digest('base64url'),
  };
}

/**
 * Makes a self-signed certificate for a key pair. RSA keys sign with RSASSA-PKCS1-v1_5 SHA-256, EC
 * P-256 keys with ECDSA SHA-256. With `isCa` the certificate carries a critical basicConstraints
 * cA=true and keyUsage keyCertSign + cRLSign; otherwise keyUsage digitalSignature.
 *
 * Fails with an `InvalidParameter` AppError for another key type. Times are epoch milliseconds,
 * truncated to whole seconds by the encoding.
 */
export async function createSelfSignedCertificate(opts: {
  privateKey: KeyObject;
  publicKey: KeyObject;
  commonName: string;
  notBefore: number;
  notAfter: number;
  isCa: boolean;
}): Promise<EncodedCertificate> {
  const algorithm = signingAlgorithmOf(opts.publicKey);
  const [signingKey, publicKey] = await Promise.all([
    importPrivate(opts.privateKey, algorithm),
    importPublic(opts.publicKey, algorithm),
  ]);
  const name = new x509.Name([{ CN: [opts.commonName] }]);
  const extensions: x509.Extension[] = opts.isCa
    ? [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
      ]
    : [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ];
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(publicKey));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: name,
    issuer: name,
    notBefore: new Date(opts.notBefore),
    notAfter: new Date(opts.notAfter),
    publicKey,
    signingKey,
    signingAlgorithm: algorithm.sign,
    extensions,
  });
  return encode(certificate);
}

/**
 * Issues a client-authentication certificate for the public key in a PKCS#10 CSR. The CSR's own
 * signature must verify (proof that the requester holds the private key) and its key must be RSA
 * of at least 2048 bits or EC P-256. The CSR's subject and extensions are ignored: the subject is
 * exactly `CN={clientId}, DC={tenantId}` (RFC 4514 order; the DER holds DC first, then CN), the
 * issuer is the CA's subject, the serial is 16 random bytes (positive), and the extensions are
 * basicConstraints cA=false, keyUsage digitalSignature, extendedKeyUsage clientAuth, and
 * subject/authority key identifiers. The CA never sees the requester's private key.
 *
 * Fails with an `InvalidParameter` AppError ("The certificate signing request is not valid: …")
 * when the CSR cannot be parsed, its signature does not verify, or its key is not acceptable.
 */
export function issueCertificateFromCsr(
  opts: CsrIssueOptions,
): Promise<EncodedCertificate & { publicKey: KeyObject }> {
  return Promise.resolve(opts).then(issueNow);
}

/** What {@link issueCertificateFromCsr} issues from, and for whom. */
export interface CsrIssueOptions {
  readonly csrPem: string;
  readonly ca: { readonly certificateDer: Buffer; readonly privateKey: KeyObject };
  readonly clientId: string;
  readonly tenantId: string;
  readonly notBefore: number;
  readonly notAfter: number;
}

function issueNow(opts: CsrIssueOptions): EncodedCertificate & { publicKey: KeyObject } {
  const csr = parseCsr(opts.csrPem);
  const signature = csr.checkSignature();
  if (signature === 'unsupported') throw badCsr('its signature cannot be checked');
  if (signature === 'invalid') throw badCsr('its signature does not verify');
  const subjectKey = csr.publicKey;
  const keyProblem = unacceptableKey(subjectKey);
  if (keyProblem !== undefined) throw badCsr(keyProblem);

  const certificate = buildClientCertificate({
    ca: opts.ca,
    subjectSpki: csr.spki,
    clientId: opts.clientId,
    tenantId: opts.tenantId,
    serial: Buffer.from(randomSerial(), 'hex'),
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
  });
  // Read back as parseCertificate would (the times as encoded: whole seconds).
  issuedHere.set(certificate, parsedFrom(certificate, subjectKey, certificateParts(certificate)));
  return { der: certificate, pem: pemOf(certificate, 'CERTIFICATE'), publicKey: subjectKey };
}

/**
 * Issues a TLS server certificate for `publicKey`, signed by `ca`: subject `CN={first name}`,
 * subjectAltName with every DNS name and IP address (RFC 5280 section 4.2.1.6; clients check
 * only the SAN), extendedKeyUsage serverAuth. For the local CA `tessera up` makes.
 */
export async function issueServerCertificate(opts: {
  ca: { certificateDer: Buffer; privateKey: KeyObject };
  publicKey: KeyObject;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  notBefore: number;
  notAfter: number;
}): Promise<EncodedCertificate> {
  const caCertificate = new x509.X509Certificate(opts.ca.certificateDer);
  const caAlgorithm = signingAlgorithmOf(createPublicKey(opts.ca.privateKey));
  const subjectAlgorithm = signingAlgorithmOf(opts.publicKey);
  const [signingKey, publicKey] = await Promise.all([
    importPrivate(opts.ca.privateKey, caAlgorithm),
    importPublic(opts.publicKey, subjectAlgorithm),
  ]);
  const names = [
    ...opts.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...opts.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: new x509.Name([{ CN: [opts.dnsNames[0] ?? opts.ipAddresses[0] ?? 'localhost'] }]),
    issuer: caCertificate.subjectName,
    notBefore: new Date(opts.notBefore),
    notAfter: new Date(opts.notAfter),
    publicKey,
    signingKey,
    signingAlgorithm: caAlgorithm.sign,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([SERVER_AUTH], false),
      new x509.SubjectAlternativeNameExtension(names, false),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCertificate.publicKey),
    ],
  });
  return encode(certificate);
}

/**
 * Makes a PKCS#10 CSR (PEM) for a key pair, signed with that key: what an agent sends to have a
 * certificate issued. The subject is `CN={commonName}` (the CA ignores it). RSA signs with
 * RSASSA-PKCS1-v1_5 SHA-256, EC with ECDSA over the curve's hash.
 */
export function createCertificateSigningRequest(opts: {
  privateKey: KeyObject;
  publicKey: KeyObject;
  commonName: string;
}): Promise<string> {
  return new Promise((resolve) => {
    signingAlgorithmOf(opts.publicKey);
    resolve(pemOf(createCsrDer(opts), 'CERTIFICATE REQUEST'));
  });
}

/**
 * Reads a PKCS#10 CSR (PEM) without checking its signature: the caller calls `checkSignature`.
 * Fails with an `InvalidParameter` AppError when it is too large or not a readable CSR.
 */
export function parseCsr(csrPem: string): ParsedCsr {
  if (csrPem.length > MAX_INPUT_CHARS) throw badCsr('it is too large');
  const known = recentCsrs.get(csrPem);
  if (known !== undefined) return known;
  let csr: ParsedCsr;
  try {
    csr = parseCsrDer(pemBody(csrPem, 'CERTIFICATE REQUEST'));
  } catch {
    throw badCsr('it cannot be parsed');
  }
  if (recentCsrs.size >= RECENT_CSRS) recentCsrs.clear();
  recentCsrs.set(csrPem, csr);
  return csr;
}

/**
 * CSRs read lately, by PEM: the agent API checks a CSR before the directory issues from it, and
 * reading one (and checking its signature, which the ParsedCsr remembers) is the dearer half of
 * issuing. Reading is a pure function of the text, so a hit answers exactly as a new read would.
 */
const recentCsrs = new Map<string, ParsedCsr>();
const RECENT_CSRS = 256;

/**
 * Reads a certificate given as DER or PEM. Does not check its signature or validity period.
 * Fails with an `InvalidParameter` AppError when it is not a readable X.509 certificate.
 */
export function parseCertificate(derOrPem: Buffer | string): ParsedCertificate {
  if (typeof derOrPem !== 'string') {
    const known = issuedHere.get(derOrPem);
    if (known !== undefined) return known;
  }
  if (derOrPem.length > MAX_INPUT_CHARS) throw badCertificate('it is too large');
  let der: Buffer;
  let parts: ReturnType<typeof certificateParts>;
  let publicKey: KeyObject;
  try {
    der = typeof derOrPem === 'string' ? pemBody(derOrPem, 'CERTIFICATE') : Buffer.from(derOrPem);
    // OpenSSL reads the whole certificate and refuses what is not one; the parts are read here.
    new NodeX509Certificate(der);
    parts = certificateParts(der);
    publicKey = publicKeyFromSpki(parts.spki);
  } catch {
    throw badCertificate('it cannot be parsed');
  }
  return parsedFrom(der, publicKey, parts);
}

/** Certificates this process issued ({@link issueCertificateFromCsr}), by their DER Buffer. */
const issuedHere = new WeakMap<Buffer, ParsedCertificate>();

/**
 * A ParsedCertificate of a certificate already read. The names in RFC 4514 form need
 * @peculiar/x509's parse, which costs more than all the rest: made when first read (most callers
 * want the key, the times and the thumbprints).
 */
function parsedFrom(
  der: Buffer,
  publicKey: KeyObject,
  parts: { spki: Buffer; notBefore: number; notAfter: number },
): ParsedCertificate {
  let names: { subject: string; issuer: string } | undefined;
  const namesOf = (): { subject: string; issuer: string } => {
    if (names !== undefined) return names;
    const certificate = new x509.X509Certificate(der);
    names = {
      subject: rfc4514(certificate.subjectName),
      issuer: rfc4514(certificate.issuerName),
    };
    return names;
  };
  return {
    der,
    publicKey,
    spki: parts.spki,
    notBefore: parts.notBefore,
    notAfter: parts.notAfter,
    get subject() {
      return namesOf().subject;
    },
    get issuer() {
      return namesOf().issuer;
    },
    ...thumbprintsOf(der),
  };
}

/**
 * True when `certDer` names `caDer`'s subject as its issuer and its signature verifies with the
 * CA's public key. Checks neither validity period nor revocation. False for unreadable input.
 */
export async function verifyIssuedBy(certDer: Buffer, caDer: Buffer): Promise<boolean> {
  try {
    const certificate = new x509.X509Certificate(certDer);
    const ca = new x509.X509Certificate(caDer);
    const sameName = Buffer.from(certificate.issuerName.toArrayBuffer()).equals(
      Buffer.from(ca.subjectName.toArrayBuffer()),
    );
    if (!sameName) return false;
    return await certificate.verify({ publicKey: ca.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

/**
 * Why a public key may not hold a directory certificate, or undefined when it may: RSA of at
 * least 2048 bits or EC P-256 only.
 */
export function unacceptableKey(key: KeyObject): string | undefined {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    return (details?.modulusLength ?? 0) >= 2048
      ? undefined
      : 'an RSA key must have at least 2048 bits';
  }
  if (key.asymmetricKeyType === 'ec') {
    return details?.namedCurve === 'prime256v1'
      ? undefined
      : 'an EC key must be on the P-256 curve';
  }
  return `the key type '${key.asymmetricKeyType ?? 'unknown'}' is not supported; use RSA (2048 bits or more) or EC P-256`;
}

interface SigningAlgorithm {
  readonly importParams: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;
  readonly sign: webcrypto.Algorithm | webcrypto.EcdsaParams;
}

function signingAlgorithmOf(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === 'rsa') {
    return {
      importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      sign: { name: 'RSASSA-PKCS1-v1_5' },
    };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') {
      return {
        importParams: { name: 'ECDSA', namedCurve: 'P-256' },
        sign: { name: 'ECDSA', hash: 'SHA-256' },
      };
    }
    if (curve === 'secp384r1') {
      return {
        importParams: { name: 'ECDSA', namedCurve: 'P-384' },
        sign: { name: 'ECDSA', hash: 'SHA-384' },
      };
    }
  }
  throw invalidParameter('key', 'Only RSA and EC P-256 keys can sign certificates.');
}

function importPrivate(key: KeyObject, algorithm: SigningAlgorithm): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey(
    'pkcs8',
    key.export({ format: 'der', type: 'pkcs8' }),
    algorithm.importParams,
    false,
    ['sign'],
  );
}

function importPublic(key: KeyObject, algorithm: SigningAlgorithm): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey(
    'spki',
    key.export({ format: 'der', type: 'spki' }),
    algorithm.importParams,
    true,
    ['verify'],
  );
}

/** The DER inside one PEM block with `label`; throws if there is none. */
export function pemBody(pem: string, label: string): Buffer {
  const match = new RegExp(
    `-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`,
  ).exec(pem);
  if (match?.[1] === undefined) throw new Error(`no PEM block labelled '${label}'`);
  return Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
}

/** 16 random bytes as hex, first byte in 0x01-0x7f so the DER INTEGER is positive and minimal. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** DER as PEM (RFC 7468: base64 in 64-character lines). */
function pemOf(bytes: Buffer, label: string): string {
  const lines = bytes.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function encode(certificate: x509.X509Certificate): EncodedCertificate {
  return { der: Buffer.from(certificate.rawData), pem: certificate.toString('pem') };
}

/** A name in RFC 4514 order (last RDN first), attributes joined by ', ' as OpenSSL prints them. */
function rfc4514(name: x509.Name): string {
  return name
    .toJSON()
    .map((rdn) =>
      Object.entries(rdn)
        .flatMap(([type, values]) => values.map((value) => `${type}=${escapeValue(value)}`))
        .join('+'),
    )
    .reverse()
    .join(', ');
}

function escapeValue(value: string): string {
  return value
    .replace(/[\\,+"<>;]/g, (c) => `\\${c}`)
    .replace(/^[#\s]/, (c) => `\\${c}`)
    .replace(/\s$/, (c) => `\\${c}`);
}

function badCsr(why: string): AppError {
  return invalidParameter('csr', `The certificate signing request is not valid: ${why}.`);
}

function badCertificate(why: string): AppError {
  return invalidParameter('certificate', `The certificate is not valid: ${why}.`);
}
