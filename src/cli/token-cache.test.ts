// The CLI's token cache: one token per authority, client and resource, kept privately until five minutes before it expires.
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TokenProvider } from '../client/credentials.js';
import type { HttpRequest } from '../client/http.js';
import {
  createCachingTokenProvider,
  renewingRejectedTokens,
  TOKEN_CACHE_FILE,
  type TokenOwner,
} from './token-cache.js';

const NOW = 1_800_000_000_000;
const HOUR = 3600;
const ARM = 'https://management.azure.com/.default';
const VAULT = 'https://vault.azure.net/.default';
const owner: TokenOwner = { authority: 'https://127.0.0.1:8444/t1', clientId: 'app-1' };

const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Tokens minted by any fake server so far: each token differs from every other. */
let serial = 0;

/** A server that mints unsigned tokens, each `lifetime` seconds long. */
function server(lifetime = HOUR): TokenProvider & { minted: string[] } {
  const minted: string[] = [];
  const getToken = (scope: string): Promise<string> => {
    const claims = {
      aud: scope,
      exp: NOW / 1000 + lifetime,
      n: (serial += 1),
      oid: 'o',
      appid: 'a',
    };
    const token = `${b64({ alg: 'none' })}.${b64(claims)}.sig`;
    minted.push(token);
    return Promise.resolve(token);
  };
  return {
    minted,
    getToken,
    objectId: () => Promise.resolve('o'),
    clientId: () => Promise.resolve('a'),
  };
}

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tessera-token-cache-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const cached = (tokens: TokenProvider, who = owner, now = NOW) =>
  createCachingTokenProvider({ dataDir, owner: who, tokens, now: () => now });

describe('createCachingTokenProvider', () => {
  it('asks the server once, then every later process takes the token from a 0600 file', async () => {
    const first = server();
    const token = await cached(first).getToken(ARM);
    expect((await stat(join(dataDir, TOKEN_CACHE_FILE))).mode & 0o777).toBe(0o600);

    const later = server();
    const reused = cached(later);
    expect(await reused.getToken(ARM)).toBe(token);
    expect(await reused.objectId(ARM)).toBe('o');
    expect(later.minted).toEqual([]);
  });

  it('asks again within five minutes of expiry, and for another authority, client or resource', async () => {
    const first = server();
    await cached(first).getToken(ARM);
    // Six minutes before it expires the token is still served; five minutes before, it is not.
    const late = server();
    expect(await cached(late, owner, NOW + (HOUR - 6 * 60) * 1000).getToken(ARM)).toBe(
      first.minted[0],
    );
    expect(late.minted).toEqual([]);
    const again = server();
    await cached(again, owner, NOW + (HOUR - 5 * 60) * 1000).getToken(ARM);
    await cached(again, { ...owner, authority: 'https://127.0.0.1:8444/t2' }).getToken(ARM);
    await cached(again, { ...owner, clientId: 'app-2' }).getToken(ARM);
    await cached(again).getToken(VAULT);
    expect(again.minted).toHaveLength(4);
  });

  it.each([
    ['others may read it', async (file: string) => chmod(file, 0o644)],
    ['it is not the cache', async (file: string) => writeFile(file, '{"tokens": "nope"', 'utf8')],
  ])('ignores the file when %s, and rewrites it', async (_name, spoil) => {
    const file = join(dataDir, TOKEN_CACHE_FILE);
    await cached(server()).getToken(ARM);
    await spoil(file);
    const next = server();
    await cached(next).getToken(ARM);
    expect(next.minted).toHaveLength(1);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const { tokens } = JSON.parse(await readFile(file, 'utf8')) as { tokens: unknown[] };
    expect(tokens).toEqual([expect.objectContaining({ ...owner, resource: ARM })]);
  });

  it('replaces a cached token the server refused, once, and never a fresh one', async () => {
    const stale = await cached(server()).getToken(ARM);
    const next = server();
    const tokens = cached(next);
    expect(await tokens.getToken(ARM)).toBe(stale);

    const sent: HttpRequest[] = [];
    const send = renewingRejectedTokens((request) => {
      sent.push(request);
      const status = request.headers?.authorization === `Bearer ${stale}` ? 401 : 200;
      return Promise.resolve({ status, headers: {}, text: '{}' });
    }, tokens);
    const answer = await send({
      method: 'GET',
      url: 'https://x/',
      headers: { authorization: `Bearer ${stale}` },
    });
    expect(answer.status).toBe(200);
    expect(sent.map((r) => r.headers?.authorization)).toEqual([
      `Bearer ${stale}`,
      `Bearer ${next.minted[0] ?? ''}`,
    ]);
    // The new token replaced the refused one in the file; a refused fresh token is the answer.
    expect(await cached(server()).getToken(ARM)).toBe(next.minted[0]);
    expect(await tokens.renew(next.minted[0] ?? '')).toBeUndefined();
  });
});
