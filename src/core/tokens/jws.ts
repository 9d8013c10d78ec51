// RS256 compact JWS (RFC 7515 section 7.1) signed with node:crypto: the issuer's hot path.
import { type KeyObject, sign } from 'node:crypto';

/**
 * Signs `claims` under `header` with an RSA private key, RS256 (RSASSA-PKCS1-v1_5 with SHA-256,
 * RFC 7518 section 3.3), and returns the compact serialization. The signature is computed on
 * libuv's thread pool (node:crypto's callback form), so the event loop goes on serving while a
 * token is signed and the machine's cores share the signatures. Against jose with a Web Crypto
 * key this skips the JWT builder's copies and the Web Crypto layer: the same bytes out (one
 * JSON encoding of each part, base64url without padding), measured in bench/mint-costs.ts.
 */
export function signRs256(
  header: Readonly<Record<string, unknown>>,
  claims: Readonly<Record<string, unknown>>,
  privateKey: KeyObject,
): Promise<string> {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa') {
    return Promise.reject(new TypeError('RS256 needs an RSA private key.'));
  }
  const signingInput = `${base64url(JSON.stringify({ ...header, alg: 'RS256' }))}.${base64url(JSON.stringify(claims))}`;
  return new Promise((resolve, reject) => {
    sign('sha256', Buffer.from(signingInput), privateKey, (error, signature) => {
      if (error !== null) reject(error);
      else resolve(`${signingInput}.${signature.toString('base64url')}`);
    });
  });
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
