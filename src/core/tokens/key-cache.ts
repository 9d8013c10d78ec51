// Web Crypto keys imported once and reused: jose verifies with them without re-importing.
import { webcrypto, X509Certificate } from 'node:crypto';
import { certificateParts } from '../keys/der.js';

type CryptoKey = webcrypto.CryptoKey;

/** The Web Crypto algorithm of each JWS `alg` Tessera accepts (RFC 7518 section 3.1). */
const ALGORITHMS = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
} as const;

export type JwsAlgorithm = keyof typeof ALGORITHMS;

/**
 * A bounded map of imported keys. Importing a key (parsing the certificate, converting it for Web
 * Crypto) costs more than the signature check itself, so keys are kept by credential and `alg`.
 * The oldest entry goes when the map is full.
 */
export class KeyCache {
  private readonly keys = new Map<string, Promise<CryptoKey>>();

  constructor(private readonly capacity = 10_000) {}

  /** The public key of a certificate (DER, base64), imported for verifying `alg` signatures. */
  verifyKey(id: string, certificateBase64: string, alg: JwsAlgorithm): Promise<CryptoKey> {
    return this.remember(`v:${alg}:${id}`, () => {
      const spki = certificateSpki(Buffer.from(certificateBase64, 'base64'));
      return webcrypto.subtle.importKey('spki', spki, ALGORITHMS[alg], false, ['verify']);
    });
  }

  private remember(key: string, load: () => Promise<CryptoKey>): Promise<CryptoKey> {
    const hit = this.keys.get(key);
    if (hit !== undefined) return hit;
    const loading = load();
    // A failed import is not remembered: the next request tries again.
    loading.catch(() => this.keys.delete(key));
    if (this.keys.size >= this.capacity) {
      const oldest = this.keys.keys().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
    }
    this.keys.set(key, loading);
    return loading;
  }
}

/**
 * The SubjectPublicKeyInfo of a stored certificate (the directory's own records, checked when
 * issued or uploaded), read from the DER directly: OpenSSL's parse and re-export cost about 1 ms
 * for the first assertion of each new certificate. One the strict reader does not take (a
 * certificate uploaded in a looser encoding) goes through OpenSSL as before.
 */
function certificateSpki(der: Buffer): Buffer {
  try {
    return certificateParts(der).spki;
  } catch {
    return new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' });
  }
}
