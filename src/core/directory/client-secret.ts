// Client secrets for applications: generation, slow hashing (scrypt), constant-time checking.
import { randomBytes, randomInt, scrypt, type ScryptOptions, timingSafeEqual } from 'node:crypto';

/**
 * scrypt cost for new hashes: N=2^14, r=8, p=1 (RFC 7914; the interactive-login figure of the
 * scrypt paper). Uses 16 MiB of memory and about 50 ms of one core per hash on this
 * project's reference machine, so a stolen database costs an attacker the same per guess — while
 * the secret itself carries 216 random bits, which is what really protects it.
 */
const COST = { N: 16_384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Stored hashes beyond these are treated as malformed: at most 64 MiB and 4 passes per check. */
const LIMITS = { maxMemory: 64 * 1024 * 1024, maxR: 32, maxP: 4 } as const;
/**
 * The longest secret {@link verifyClientSecret} checks: Tessera's secrets are 40 characters and
 * host join tokens at most 512, so a longer one is wrong without spending a hash on it.
 */
export const MAX_SECRET_CHARS = 1024;
const PREFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * A new client secret: 40 characters, URL-safe, shaped like Entra's (three characters, `~`, then
 * 36 base64url characters from 27 random bytes). Entra shows the first three characters as the
 * secret's hint.
 */
export function generateClientSecret(): string {
  let prefix = '';
  for (let i = 0; i < 3; i++) prefix += PREFIX_ALPHABET.charAt(randomInt(PREFIX_ALPHABET.length));
  return `${prefix}~${randomBytes(27).toString('base64url')}`;
}

/**
 * Hashes a secret for storage as `scrypt$N$r$p$<salt b64url>$<hash b64url>` with a random
 * 16-byte salt and the cost documented on `COST` in this module. The format names its own parameters, so
 * the cost can be raised later without invalidating stored hashes.
 */
export async function hashClientSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(secret, salt, HASH_BYTES, COST);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), hash.toString('base64url')]
    .map(String)
    .join('$');
}

/**
 * True when `secret` matches the `stored` hash. Compares in constant time. Returns false, and
 * never throws, for a wrong secret, one longer than {@link MAX_SECRET_CHARS}, or a malformed or
 * out-of-bounds stored value. scrypt runs on libuv's thread pool (`crypto.scrypt`, never
 * `scryptSync`), so a check never blocks the event loop; callers bound how many run at once.
 */
export async function verifyClientSecret(secret: string, stored: string): Promise<boolean> {
  if (secret.length > MAX_SECRET_CHARS) return false;
  const parsed = parseStored(stored);
  if (parsed === undefined) return false;
  try {
    const actual = await derive(secret, parsed.salt, parsed.hash.length, parsed.cost);
    return timingSafeEqual(actual, parsed.hash);
  } catch {
    return false;
  }
}

/** The characters of a secret Entra shows to tell secrets apart: the first three. */
export function secretHint(secret: string): string {
  return secret.slice(0, 3);
}

interface Cost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

function derive(secret: string, salt: Buffer, length: number, cost: Cost): Promise<Buffer> {
  const options: ScryptOptions = {
    N: cost.N,
    r: cost.r,
    p: cost.p,
    // scrypt needs about 128 * N * r bytes; Node's default ceiling is 32 MiB.
    maxmem: 128 * cost.N * cost.r + 1024 * 1024,
  };
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, options, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

function parseStored(stored: string): { cost: Cost; salt: Buffer; hash: Buffer } | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [, n, r, p, salt, hash] = parts;
  const cost = { N: integer(n), r: integer(r), p: integer(p) };
  if (cost.N < 2 || (cost.N & (cost.N - 1)) !== 0) return undefined;
  if (cost.r < 1 || cost.r > LIMITS.maxR || cost.p < 1 || cost.p > LIMITS.maxP) return undefined;
  if (128 * cost.N * cost.r > LIMITS.maxMemory) return undefined;
  if (salt === undefined || hash === undefined) return undefined;
  if (!BASE64URL.test(salt) || !BASE64URL.test(hash)) return undefined;
  const saltBytes = Buffer.from(salt, 'base64url');
  const hashBytes = Buffer.from(hash, 'base64url');
  if (saltBytes.length < 8 || hashBytes.length < 16 || hashBytes.length > 64) return undefined;
  return { cost, salt: saltBytes, hash: hashBytes };
}

/** A decimal integer without sign or leading zeros, or -1. */
function integer(text: string | undefined): number {
  return text !== undefined && /^[1-9][0-9]{0,8}$/.test(text) ? Number(text) : -1;
}
