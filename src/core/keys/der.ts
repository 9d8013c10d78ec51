// DER (X.690) encoding and strict reading of the few structures the CA builds and reads itself.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** Tags used by the certificate and CSR code. */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** One TLV read from a buffer: the whole element is `[start, end)`, its contents `[body, end)`. */
export interface DerNode {
  readonly tag: number;
  readonly start: number;
  readonly body: number;
  readonly end: number;
}

/** A DER element of `tag` around `parts` (definite, minimal length: X.690 section 10.1). */
export function der(tag: number, ...parts: readonly Uint8Array[]): Buffer {
  const length = parts.reduce((n, p) => n + p.length, 0);
  let header: Buffer;
  if (length < 0x80) header = Buffer.from([tag, length]);
  else if (length < 0x100) header = Buffer.from([tag, 0x81, length]);
  else if (length < 0x10000) header = Buffer.from([tag, 0x82, length >> 8, length & 0xff]);
  else header = Buffer.from([tag, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff]);
  return Buffer.concat([header, ...parts]);
}

/** A BIT STRING with no unused bits around `bytes` (signatures, keys). */
export const bitString = (bytes: Uint8Array): Buffer => der(TAG.bitString, Buffer.of(0), bytes);

/**
 * Reads the element at `offset`, which must end at or before `limit`. Throws on anything that is
 * not DER: high tag numbers, indefinite or non-minimal lengths, lengths past `limit`.
 */
export function readDer(buf: Buffer, offset: number, limit = buf.length): DerNode {
  if (offset + 2 > limit) throw new Error('DER: truncated');
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: high tag numbers are not used here');
  const first = buf[offset + 1] as number;
  let body = offset + 2;
  let length = first;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 3 || body + count > limit) throw new Error('DER: bad length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[body + i] as number);
    body += count;
    if (length < 0x80 || (count > 1 && length < 1 << (8 * (count - 1)))) {
      throw new Error('DER: length not minimal');
    }
  }
  const end = body + length;
  if (end > limit) throw new Error('DER: truncated');
  return { tag, start: offset, body, end };
}

/** Reads a whole buffer as one element of `tag`, with nothing after it. */
export function readRoot(buf: Buffer, tag: number): DerNode {
  const node = readDer(buf, 0);
  if (node.tag !== tag || node.end !== buf.length) throw new Error('DER: unexpected outer element');
  return node;
}

/** The elements inside a constructed `node`, which must fill it exactly. */
export function childrenOf(buf: Buffer, node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  for (let at = node.body; at < node.end;) {
    const child = readDer(buf, at, node.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

/** The bytes of a whole element. */
export const bytesOf = (buf: Buffer, node: DerNode): Buffer => buf.subarray(node.start, node.end);

/** The contents of a BIT STRING with no unused bits (the only kind keys and signatures use). */
export function bitStringBytes(buf: Buffer, node: DerNode): Buffer {
  if (node.tag !== TAG.bitString || node.body >= node.end || buf[node.body] !== 0) {
    throw new Error('DER: expected a BIT STRING of whole bytes');
  }
  return buf.subarray(node.body + 1, node.end);
}

/** RFC 5280 section 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds. */
export function derTime(epochMs: number): Buffer {
  const iso = new Date(epochMs).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = Number(iso.slice(0, 4));
  return year >= 1950 && year <= 2049
    ? der(TAG.utcTime, Buffer.from(digits.slice(2), 'latin1'))
    : der(TAG.generalizedTime, Buffer.from(digits, 'latin1'));
}

/** Reads a UTCTime or GeneralizedTime of the form RFC 5280 requires (`...SSZ`) as epoch ms. */
export function readTime(buf: Buffer, node: DerNode): number {
  const text = buf.toString('latin1', node.body, node.end);
  const full =
    node.tag === TAG.utcTime && /^\d{12}Z$/.test(text)
      ? `${Number(text.slice(0, 2)) >= 50 ? '19' : '20'}${text}`
      : node.tag === TAG.generalizedTime && /^\d{14}Z$/.test(text)
        ? text
        : undefined;
  if (full === undefined) throw new Error('DER: bad time');
  const n = (from: number, to: number): number => Number(full.slice(from, to));
  return Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(8, 10), n(10, 12), n(12, 14));
}

/** A signature algorithm: the hash node:crypto signs with and its AlgorithmIdentifier (DER). */
export interface DerSignatureAlgorithm {
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  readonly identifier: Buffer;
}

const ecdsaWith = (hash: DerSignatureAlgorithm['hash'], last: number): DerSignatureAlgorithm => ({
  hash,
  // 1.2.840.10045.4.3.x, parameters absent (RFC 5758 section 3.2)
  identifier: Buffer.from(`300a06082a8648ce3d0403${last.toString(16).padStart(2, '0')}`, 'hex'),
});
const rsaWith = (hash: DerSignatureAlgorithm['hash'], last: number): DerSignatureAlgorithm => ({
  hash,
  // 1.2.840.113549.1.1.x with NULL parameters (RFC 4055 section 5)
  identifier: Buffer.from(
    `300d06092a864886f70d0101${last.toString(16).padStart(2, '0')}0500`,
    'hex',
  ),
});

/** The algorithms CSRs may be signed with, by AlgorithmIdentifier (hex), per key type. */
const VERIFIABLE: ReadonlyMap<string, { keyType: 'ec' | 'rsa'; algorithm: DerSignatureAlgorithm }> =
  new Map(
    [
      { keyType: 'ec' as const, algorithm: ecdsaWith('sha256', 2) },
      { keyType: 'ec' as const, algorithm: ecdsaWith('sha384', 3) },
      { keyType: 'ec' as const, algorithm: ecdsaWith('sha512', 4) },
      { keyType: 'rsa' as const, algorithm: rsaWith('sha256', 11) },
      { keyType: 'rsa' as const, algorithm: rsaWith('sha384', 12) },
      { keyType: 'rsa' as const, algorithm: rsaWith('sha512', 13) },
    ].map((entry) => [entry.algorithm.identifier.toString('hex'), entry]),
  );

/**
 * The algorithm `key` signs with: RSASSA-PKCS1-v1_5 SHA-256 for RSA, ECDSA with SHA-256 on P-256
 * and SHA-384 on P-384. Undefined for any other key.
 */
export function signatureAlgorithmFor(key: KeyObject): DerSignatureAlgorithm | undefined {
  if (key.asymmetricKeyType === 'rsa') return rsaWith('sha256', 11);
  if (key.asymmetricKeyType !== 'ec') return undefined;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === 'prime256v1') return ecdsaWith('sha256', 2);
  if (curve === 'secp384r1') return ecdsaWith('sha384', 3);
  return undefined;
}

/**
 * The algorithm an AlgorithmIdentifier names, if it is one a `keyType` key may have signed with;
 * undefined otherwise.
 */
export function verifiableAlgorithm(
  identifier: Buffer,
  keyType: string | undefined,
): DerSignatureAlgorithm | undefined {
  const entry = VERIFIABLE.get(identifier.toString('hex'));
  return entry !== undefined && entry.keyType === keyType ? entry.algorithm : undefined;
}

/** SubjectPublicKeyInfo of an EC P-256 key, named curve, up to the uncompressed point (RFC 5480). */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/**
 * The DER SubjectPublicKeyInfo of a public (or private) key, as OpenSSL encodes it. Not through
 * the key's JWK, though that is about 20 times cheaper: Node 20 holds the key's lock while it
 * turns a JWK's numbers into strings, and a garbage collection then that finalises the key's own
 * generation job (a key made with `generateKeyPair` a moment before) waits for the same lock: the
 * agent deadlocked that way while certifying 10,000 new keys.
 */
export function spkiOf(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ format: 'der', type: 'spki' });
}

/**
 * The public key of a DER SubjectPublicKeyInfo; throws if it is not one. A P-256 key with an
 * uncompressed point is read through its JWK (faster than OpenSSL 3's DER decoder; the point is
 * still checked to be on the curve).
 */
export function publicKeyFromSpki(spki: Buffer): KeyObject {
  if (spki.length === 91 && spki.subarray(0, P256_SPKI_PREFIX.length).equals(P256_SPKI_PREFIX)) {
    const at = P256_SPKI_PREFIX.length;
    if (spki[at] === 4) {
      return createPublicKey({
        format: 'jwk',
        key: {
          kty: 'EC',
          crv: 'P-256',
          x: spki.subarray(at + 1, at + 33).toString('base64url'),
          y: spki.subarray(at + 33, at + 65).toString('base64url'),
        },
      });
    }
  }
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

/** RFC 5280 section 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits of a DER SPKI. */
export function keyIdentifier(spki: Buffer): Buffer {
  const [, key] = childrenOf(spki, readRoot(spki, TAG.sequence));
  if (key === undefined) throw new Error('DER: bad SubjectPublicKeyInfo');
  return createHash('sha1').update(bitStringBytes(spki, key)).digest();
}

/** The subject (DER), SubjectPublicKeyInfo (DER) and validity of a DER certificate; throws if unreadable. */
export function certificateParts(certificate: Buffer): {
  subject: Buffer;
  spki: Buffer;
  notBefore: number;
  notAfter: number;
} {
  const [tbs] = childrenOf(certificate, readRoot(certificate, TAG.sequence));
  if (tbs?.tag !== TAG.sequence) throw new Error('X.509: bad certificate');
  const fields = childrenOf(certificate, tbs);
  // version is [0] EXPLICIT and optional (absent for v1)
  const at = fields[0]?.tag === 0xa0 ? 1 : 0;
  const [validity, subject, spki] = [fields[at + 3], fields[at + 4], fields[at + 5]];
  if (validity?.tag !== TAG.sequence || subject === undefined || spki === undefined) {
    throw new Error('X.509: bad TBSCertificate');
  }
  const [from, to] = childrenOf(certificate, validity);
  if (from === undefined || to === undefined) throw new Error('X.509: bad validity');
  return {
    subject: bytesOf(certificate, subject),
    spki: bytesOf(certificate, spki),
    notBefore: readTime(certificate, from),
    notAfter: readTime(certificate, to),
  };
}
