// Tests for client-secret generation, scrypt hashing and verification.
import { randomBytes, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateClientSecret,
  hashClientSecret,
  MAX_SECRET_CHARS,
  secretHint,
  verifyClientSecret,
} from './client-secret.js';

describe('generateClientSecret', () => {
  it('makes 40 URL-safe characters shaped like an Entra secret, never the same twice', () => {
    const secrets = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const secret = generateClientSecret();
      expect(secret).toMatch(/^[A-Za-z0-9]{3}~[A-Za-z0-9_-]{36}$/);
      expect(encodeURIComponent(secret)).toBe(secret);
      secrets.add(secret);
    }
    expect(secrets.size).toBe(200);
  });

  it('shows the first three characters as the hint', () => {
    const secret = generateClientSecret();
    expect(secretHint(secret)).toBe(secret.slice(0, 3));
    expect(secretHint('abc~rest')).toBe('abc');
  });
});

describe('hashClientSecret / verifyClientSecret', () => {
  it('stores a self-describing scrypt hash with a fresh salt and verifies the right secret', async () => {
    const secret = generateClientSecret();
    const [first, second] = await Promise.all([hashClientSecret(secret), hashClientSecret(secret)]);
    expect(first).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(first).not.toBe(second);
    expect(first).not.toContain(secret);
    expect(await verifyClientSecret(secret, first)).toBe(true);
    expect(await verifyClientSecret(secret, second)).toBe(true);
  });

  it('refuses a wrong secret, including one differing in a single character', async () => {
    const secret = generateClientSecret();
    const stored = await hashClientSecret(secret);
    const lastChanged = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
    expect(await verifyClientSecret(lastChanged, stored)).toBe(false);
    expect(await verifyClientSecret('', stored)).toBe(false);
    expect(await verifyClientSecret(generateClientSecret(), stored)).toBe(false);
  });

  it('refuses a secret longer than any it makes, without spending a hash on it', async () => {
    const long = 'a'.repeat(MAX_SECRET_CHARS + 1);
    // The stored hash is of this very value: only the length bound can refuse it.
    const stored = await hashClientSecret(long);
    expect(await verifyClientSecret(long, stored)).toBe(false);
    const longest = 'a'.repeat(MAX_SECRET_CHARS);
    expect(await verifyClientSecret(longest, await hashClientSecret(longest))).toBe(true);
  });

  it('honours the cost written in the stored value', async () => {
    const salt = randomBytes(16);
    const hash = scryptSync('s3cret', salt, 32, { N: 1024, r: 4, p: 2 });
    const stored = `scrypt$1024$4$2$${salt.toString('base64url')}$${hash.toString('base64url')}`;
    expect(await verifyClientSecret('s3cret', stored)).toBe(true);
    expect(await verifyClientSecret('s3cret', stored.replace('$4$2$', '$8$1$'))).toBe(false);
  });

  it('answers false, without throwing, for malformed or out-of-bounds stored values', async () => {
    const good = await hashClientSecret('x');
    const [, , , , salt, hash] = good.split('$');
    const malformed = [
      '',
      'x',
      'plain-text-secret',
      good.replace('scrypt', 'bcrypt'),
      `${good}$extra`,
      good.split('$').slice(0, 5).join('$'),
      `scrypt$16383$8$1$${salt}$${hash}`, // N not a power of two
      `scrypt$1073741824$8$1$${salt}$${hash}`, // N = 2^30: would need 1 GiB
      `scrypt$16384$0$1$${salt}$${hash}`,
      `scrypt$16384$8$99$${salt}$${hash}`,
      `scrypt$131072$8$1$${salt}$${hash}`, // 128 MiB: over the memory bound
      `scrypt$-16384$8$1$${salt}$${hash}`,
      `scrypt$016384$8$1$${salt}$${hash}`,
      `scrypt$16384$8$1$$${hash}`,
      `scrypt$16384$8$1$${salt}$`,
      `scrypt$16384$8$1$${salt}$not+base64/url=`,
      `scrypt$16384$8$1$AAAA$${hash}`, // salt too short
      `scrypt$16384$8$1$${salt}$AAAA`, // hash too short
    ];
    for (const stored of malformed) {
      await expect(verifyClientSecret('x', stored), stored).resolves.toBe(false);
    }
    expect(await verifyClientSecret('x', good)).toBe(true);
  });
});
