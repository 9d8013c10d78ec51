// Token ids (`uti`): random, drawn from a pooled CSPRNG buffer so the hot path fills it rarely.
import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for ids, drawn from the CSPRNG 4 KiB at a time (as `crypto.randomUUID` pools its
 * entropy): one fill serves 256 ids, where a fill per id cost more than the id's other work.
 * Every byte is used once.
 */
const entropy = Buffer.alloc(4096);
let entropyUsed = entropy.length;

/** A v1 `uti`: 16 random bytes, base64url (22 characters), as Entra's. */
export function newTokenId(): string {
  if (entropyUsed + 16 > entropy.length) {
    randomFillSync(entropy);
    entropyUsed = 0;
  }
  const id = entropy.toString('base64url', entropyUsed, entropyUsed + 16);
  entropyUsed += 16;
  return id;
}
