// Encryption at rest for secret columns: AES-256-GCM under the master key, bound to row and column.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'tsv1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals and opens secret column values. `context` names the row and column (for example
 * `signing_keys.private_key:kid-1`); it is authenticated, so a sealed value copied into another
 * row or column does not open.
 */
export interface ColumnCipher {
  seal(plaintext: string, context: string): string;
  /** Throws if the value was tampered with, belongs to another context, or its key is unknown. */
  open(sealed: string, context: string): string;
}

/** A short, non-secret name for a key, stored beside each sealed value so keys can be rotated. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('tessera-master-key-id').update(key).digest('hex').slice(0, 8);
}

/**
 * Builds a cipher that seals with `current` and opens values sealed with `current` or any of
 * `previous` (for master-key rotation).
 */
export function createColumnCipher(
  current: Buffer,
  previous: readonly Buffer[] = [],
): ColumnCipher {
  for (const key of [current, ...previous]) {
    if (key.length !== 32) throw new Error('column cipher keys must be 32 bytes');
  }
  const currentId = keyIdOf(current);
  const keys = new Map<string, Buffer>([[currentId, current]]);
  for (const key of previous) keys.set(keyIdOf(key), key);

  return {
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        VERSION,
        currentId,
        iv.toString('base64url'),
        body.toString('base64url'),
        tag.toString('base64url'),
      ].join('.');
    },
    open(sealed, context) {
      const parts = sealed.split('.');
      const [version, keyId, iv, body, tag] = parts;
      if (
        parts.length !== 5 ||
        version !== VERSION ||
        keyId === undefined ||
        iv === undefined ||
        body === undefined ||
        tag === undefined
      ) {
        throw new Error('sealed value has an unknown format');
      }
      const key = keys.get(keyId);
      if (key === undefined) throw new Error(`sealed value uses unknown master key ${keyId}`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(body, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    },
  };
}
