// PKCS#10 certificate signing requests (RFC 2986) made and checked with node:crypto.
import { type KeyObject, sign, verify } from 'node:crypto';
import {
  bitString,
  bitStringBytes,
  bytesOf,
  childrenOf,
  der,
  publicKeyFromSpki,
  readRoot,
  signatureAlgorithmFor,
  spkiOf,
  TAG,
  verifiableAlgorithm,
} from './der.js';

/** 2.5.4.3 commonName */
const COMMON_NAME = Buffer.from('0603550403', 'hex');
/** version v1 (0) */
const VERSION_1 = Buffer.from('020100', 'hex');
/** attributes [0] IMPLICIT SET OF Attribute, empty */
const NO_ATTRIBUTES = Buffer.from('a000', 'hex');

/**
 * A DER CSR for the key pair, subject `CN={commonName}` (UTF8String), no attributes, signed with
 * `privateKey` (see `signatureAlgorithmFor`). Throws for a key that cannot sign one.
 */
export function createCsrDer(opts: {
  privateKey: KeyObject;
  publicKey: KeyObject;
  commonName: string;
}): Buffer {
  const algorithm = signatureAlgorithmFor(opts.publicKey);
  if (algorithm === undefined) throw new Error('no CSR signature algorithm for this key');
  const name = der(
    TAG.sequence,
    der(
      TAG.set,
      der(TAG.sequence, COMMON_NAME, der(TAG.utf8String, Buffer.from(opts.commonName, 'utf8'))),
    ),
  );
  const spki = spkiOf(opts.publicKey);
  const info = der(TAG.sequence, VERSION_1, name, spki, NO_ATTRIBUTES);
  const signature = sign(algorithm.hash, info, opts.privateKey);
  return der(TAG.sequence, info, algorithm.identifier, bitString(signature));
}

/** What a CSR's signature check found: `unsupported` for an algorithm not allowed for its key. */
export type CsrSignature = 'valid' | 'invalid' | 'unsupported';

/** A CSR whose structure was read: its key, and the check of its signature. */
export interface ParsedCsr {
  readonly publicKey: KeyObject;
  /** The SubjectPublicKeyInfo as the CSR encodes it (DER). */
  readonly spki: Buffer;
  /** Checks the signature with the CSR's own key (proof that the requester holds the private key). */
  checkSignature(): CsrSignature;
}

/**
 * Reads a DER CSR strictly (RFC 2986 section 4: version 0, subject, SubjectPublicKeyInfo,
 * attributes; then the signature algorithm and a BIT STRING). The subject and attributes are not
 * interpreted: the CA ignores them. The signature algorithm must be ECDSA for an EC key and
 * RSASSA-PKCS1-v1_5 for an RSA key, with SHA-256, -384 or -512. Throws an Error when the input is
 * not such a CSR or its key cannot be read.
 */
export function parseCsrDer(csr: Buffer): ParsedCsr {
  const root = readRoot(csr, TAG.sequence);
  const parts = childrenOf(csr, root);
  const [infoNode, algorithmNode, signatureNode] = parts;
  if (parts.length !== 3 || infoNode?.tag !== TAG.sequence || algorithmNode?.tag !== TAG.sequence) {
    throw new Error('PKCS#10: bad CertificationRequest');
  }
  const fields = childrenOf(csr, infoNode);
  const [version, subject, keyInfo, attributes] = fields;
  if (
    fields.length !== 4 ||
    version === undefined ||
    !bytesOf(csr, version).equals(VERSION_1) ||
    subject?.tag !== TAG.sequence ||
    keyInfo?.tag !== TAG.sequence ||
    attributes?.tag !== 0xa0
  ) {
    throw new Error('PKCS#10: bad CertificationRequestInfo');
  }
  const info = bytesOf(csr, infoNode);
  const identifier = bytesOf(csr, algorithmNode);
  const signature = bitStringBytes(csr, signatureNode ?? infoNode);
  const spki = bytesOf(csr, keyInfo);
  const publicKey = publicKeyFromSpki(spki);
  let checked: CsrSignature | undefined;
  return {
    publicKey,
    spki,
    checkSignature() {
      checked ??= signatureCheck(info, identifier, signature, publicKey);
      return checked;
    },
  };
}

function signatureCheck(
  info: Buffer,
  identifier: Buffer,
  signature: Buffer,
  publicKey: KeyObject,
): CsrSignature {
  const algorithm = verifiableAlgorithm(identifier, publicKey.asymmetricKeyType);
  if (algorithm === undefined) return 'unsupported';
  try {
    return verify(algorithm.hash, info, publicKey, signature) ? 'valid' : 'invalid';
  } catch {
    return 'invalid';
  }
}
