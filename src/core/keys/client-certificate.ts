// The DER of a client-authentication certificate the directory's CA issues, signed with node:crypto.
import { createPublicKey, type KeyObject, sign } from 'node:crypto';
import { invalidParameter } from '../errors.js';
import {
  bitString,
  certificateParts,
  der,
  type DerSignatureAlgorithm,
  derTime,
  keyIdentifier,
  signatureAlgorithmFor,
  TAG,
} from './der.js';

const OID_CN = Buffer.from('0603550403', 'hex');
const OID_DC = Buffer.from('060a0992268993f22c640119', 'hex');
const OID_SKI = Buffer.from('0603551d0e', 'hex');
const OID_AKI = Buffer.from('0603551d23', 'hex');
/** [0] EXPLICIT version v3 (2) */
const VERSION_3 = Buffer.from('a003020102', 'hex');
/** basicConstraints (critical) with cA absent (false) */
const BASIC_CONSTRAINTS = Buffer.from('300c0603551d130101ff04023000', 'hex');
/** keyUsage (critical) digitalSignature */
const KEY_USAGE = Buffer.from('300e0603551d0f0101ff040403020780', 'hex');
/** extendedKeyUsage (not critical) clientAuth, 1.3.6.1.5.5.7.3.2 */
const EXTENDED_KEY_USAGE = Buffer.from('30130603551d25040c300a06082b06010505070302', 'hex');

/** What issuing needs of a CA, read from its certificate once. */
interface Authority {
  readonly privateKey: KeyObject;
  readonly subject: Buffer;
  readonly authorityKeyIdentifier: Buffer;
  readonly algorithm: DerSignatureAlgorithm;
}

/** By certificate (the CA's record keeps the same Buffer while it is current; CAs rotate rarely). */
const authorities = new WeakMap<Buffer, Authority>();

/**
 * The DER certificate for the key `subjectSpki`: subject `DC={tenantId}, CN={clientId}` (DER order; DC an
 * IA5String, CN a UTF8String), issuer the CA's subject as its certificate encodes it, the
 * validity in whole seconds, and the extensions basicConstraints (critical, cA false), keyUsage
 * (critical, digitalSignature), extendedKeyUsage clientAuth, subject and authority key
 * identifiers (RFC 5280 section 4.2.1.2 method 1). Signed by the CA's key: ECDSA with SHA-256 for
 * P-256 (SHA-384 for P-384), RSASSA-PKCS1-v1_5 SHA-256 for RSA. The caller has checked the CSR.
 *
 * Fails with an `InvalidParameter` AppError for a CA key of another type.
 */
export function buildClientCertificate(opts: {
  ca: { certificateDer: Buffer; privateKey: KeyObject };
  /** The subject's SubjectPublicKeyInfo as its CSR encodes it: the certificate carries it as is. */
  subjectSpki: Buffer;
  clientId: string;
  tenantId: string;
  /** A positive INTEGER's minimal DER contents. */
  serial: Buffer;
  notBefore: number;
  notAfter: number;
}): Buffer {
  const ca = authorityOf(opts.ca);
  const spki = opts.subjectSpki;
  const subject = der(
    TAG.sequence,
    der(TAG.set, der(TAG.sequence, OID_DC, der(TAG.ia5String, Buffer.from(opts.tenantId)))),
    der(TAG.set, der(TAG.sequence, OID_CN, der(TAG.utf8String, Buffer.from(opts.clientId)))),
  );
  const subjectKeyIdentifier = der(
    TAG.sequence,
    OID_SKI,
    der(TAG.octetString, der(TAG.octetString, keyIdentifier(spki))),
  );
  const extensions = der(
    TAG.sequence,
    BASIC_CONSTRAINTS,
    KEY_USAGE,
    EXTENDED_KEY_USAGE,
    subjectKeyIdentifier,
    ca.authorityKeyIdentifier,
  );
  const tbs = der(
    TAG.sequence,
    VERSION_3,
    der(TAG.integer, opts.serial),
    ca.algorithm.identifier,
    ca.subject,
    der(TAG.sequence, derTime(opts.notBefore), derTime(opts.notAfter)),
    subject,
    spki,
    der(0xa3, extensions),
  );
  const signature = sign(ca.algorithm.hash, tbs, opts.ca.privateKey);
  return der(TAG.sequence, tbs, ca.algorithm.identifier, bitString(signature));
}

function authorityOf(ca: { certificateDer: Buffer; privateKey: KeyObject }): Authority {
  const known = authorities.get(ca.certificateDer);
  if (known?.privateKey === ca.privateKey) return known;
  const algorithm = signatureAlgorithmFor(createPublicKey(ca.privateKey));
  if (algorithm === undefined) {
    throw invalidParameter('key', 'Only RSA and EC P-256 keys can sign certificates.');
  }
  const { subject, spki } = certificateParts(ca.certificateDer);
  const authority: Authority = {
    privateKey: ca.privateKey,
    subject,
    // keyIdentifier [0] only, not critical (RFC 5280 section 4.2.1.1)
    authorityKeyIdentifier: der(
      TAG.sequence,
      OID_AKI,
      der(TAG.octetString, der(TAG.sequence, der(0x80, keyIdentifier(spki)))),
    ),
    algorithm,
  };
  authorities.set(ca.certificateDer, authority);
  return authority;
}
