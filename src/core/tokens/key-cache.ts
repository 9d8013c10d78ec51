// Web Crypto keys imported once and reused: jose verifies with them without re-importing.
import { webcrypto, X509Certificate } from 'node:crypto';

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
      const spki = new X509Certificate(Buffer.from(certificateBase64, 'base64')).publicKey.export({
        type: 'spki',
        format: 'der',
      });
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
