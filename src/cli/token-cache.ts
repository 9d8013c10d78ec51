// The CLI's token cache: an application's access tokens kept in `<dataDir>/token-cache.json` (mode 0600) until shortly before they expire.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import type { TokenProvider } from '../client/credentials.js';
import { ClientError } from '../client/errors.js';
import type { HttpSend } from '../client/http.js';
import { writeSecretFile } from '../config/index.js';
import { systemClock } from '../core/clock.js';
import { readPrivateFile } from './private-file.js';

/** The cache's file in a data directory, next to `login.json`. */
export const TOKEN_CACHE_FILE = 'token-cache.json';

/** A cached token is not used in its last five minutes: a command must not outlive its token. */
const RENEW_BEFORE_MS = 5 * 60_000;

/** Whose tokens: the token endpoint's authority (`{server}/{tenantId}`) and the client id. */
export interface TokenOwner {
  readonly authority: string;
  readonly clientId: string;
}

/** One cached token: its owner, its resource (the scope asked for) and when it expires. */
interface CachedToken extends TokenOwner {
  readonly resource: string;
  readonly accessToken: string;
  /** `exp` of the token, in seconds since the epoch. */
  readonly expiresOn: number;
}

const isEntry = (value: unknown): value is CachedToken => {
  if (typeof value !== 'object' || value === null) return false;
  const { authority, clientId, resource, accessToken, expiresOn } = value as Record<
    string,
    unknown
  >;
  return (
    [authority, clientId, resource, accessToken].every((s) => typeof s === 'string' && s !== '') &&
    typeof expiresOn === 'number' &&
    Number.isFinite(expiresOn)
  );
};

const sameKey = (a: CachedToken, owner: TokenOwner, resource: string): boolean =>
  a.authority === owner.authority && a.clientId === owner.clientId && a.resource === resource;

/**
 * The entries of the cache file; none when it is missing, is not this user's alone (mode 0600),
 * or is not the cache's JSON. Such a file is then replaced by the next write.
 */
async function readEntries(file: string): Promise<CachedToken[]> {
  const text = await readPrivateFile(file);
  if (text === undefined) return [];
  try {
    const { tokens } = JSON.parse(text) as { tokens?: unknown };
    return Array.isArray(tokens) ? tokens.filter(isEntry) : [];
  } catch {
    return [];
  }
}

/** Rewrites the file (mode 0600, atomically) with `change` applied and expired entries left out. */
async function updateEntries(
  file: string,
  nowMs: number,
  change: (entries: CachedToken[]) => CachedToken[],
): Promise<void> {
  const kept = change(await readEntries(file)).filter((e) => e.expiresOn * 1000 > nowMs);
  await writeSecretFile(file, `${JSON.stringify({ version: 1, tokens: kept }, null, 2)}\n`);
}

/** A {@link TokenProvider} whose tokens may come from the cache file. */
export interface CachingTokenProvider extends TokenProvider {
  /**
   * A new token in place of `rejected` when `rejected` came from the file (the server refused
   * it: its signing keys changed, or it is another server now); the entry is removed. Undefined
   * for a token this process got from the server itself.
   */
  renew(rejected: string): Promise<string | undefined>;
}

interface Held {
  readonly token: string;
  readonly expiresAtMs: number;
  readonly fromFile: boolean;
}

/**
 * Wraps `tokens` (which asks the server) with the cache in `<dataDir>/token-cache.json`: a token
 * for `owner` and the resource is taken from the file while more than five minutes remain before
 * its `exp`, else asked for and stored. A file that cannot be written costs only the caching.
 * Tokens are never printed or logged.
 */
export function createCachingTokenProvider(options: {
  readonly dataDir: string;
  readonly owner: TokenOwner;
  readonly tokens: TokenProvider;
  readonly now?: () => number;
}): CachingTokenProvider {
  const { owner, tokens } = options;
  const file = join(options.dataDir, TOKEN_CACHE_FILE);
  const now = options.now ?? (() => systemClock.now());
  const held = new Map<string, Held>();
  const usable = (h: Held | undefined): h is Held =>
    h !== undefined && h.expiresAtMs - RENEW_BEFORE_MS > now();

  const ask = async (resource: string): Promise<string> => {
    const token = await tokens.getToken(resource);
    const { exp } = decodeJwt(token);
    if (typeof exp !== 'number') return token;
    held.set(resource, { token, expiresAtMs: exp * 1000, fromFile: false });
    const entry: CachedToken = { ...owner, resource, accessToken: token, expiresOn: exp };
    await updateEntries(file, now(), (entries) => [
      ...entries.filter((e) => !sameKey(e, owner, resource)),
      entry,
    ]).catch(() => undefined);
    return token;
  };

  const getToken = async (resource: string): Promise<string> => {
    const mine = held.get(resource);
    if (usable(mine)) return mine.token;
    const cached = (await readEntries(file)).find((e) => sameKey(e, owner, resource));
    const fromFile: Held | undefined =
      cached === undefined
        ? undefined
        : { token: cached.accessToken, expiresAtMs: cached.expiresOn * 1000, fromFile: true };
    if (usable(fromFile)) {
      held.set(resource, fromFile);
      return fromFile.token;
    }
    return ask(resource);
  };

  const claim = async (resource: string, names: readonly string[]): Promise<string> => {
    const claims = decodeJwt(await getToken(resource));
    const value = names.map((n) => claims[n]).find((v) => typeof v === 'string');
    if (typeof value !== 'string') {
      throw new ClientError('UnexpectedResponse', `the token has no ${names.join(' or ')}`);
    }
    return value;
  };

  return {
    getToken,
    objectId: (resource) => claim(resource, ['oid']),
    clientId: (resource) => claim(resource, ['appid', 'azp']),
    async renew(rejected) {
      const resource = [...held].find(([, h]) => h.fromFile && h.token === rejected)?.[0];
      if (resource === undefined) return undefined;
      held.delete(resource);
      await updateEntries(file, now(), (entries) =>
        entries.filter((e) => e.accessToken !== rejected),
      ).catch(() => undefined);
      return ask(resource);
    },
  };
}

/**
 * `send`, but a 401 answer to a request that carried a cached token is retried once with a new
 * token ({@link CachingTokenProvider.renew}): a stale cache never fails a command.
 */
export function renewingRejectedTokens(send: HttpSend, tokens: CachingTokenProvider): HttpSend {
  return async (request) => {
    const answer = await send(request);
    const bearer = /^Bearer (\S+)$/.exec(request.headers?.authorization ?? '')?.[1];
    if (answer.status !== 401 || bearer === undefined) return answer;
    const fresh = await tokens.renew(bearer);
    if (fresh === undefined) return answer;
    return send({ ...request, headers: { ...request.headers, authorization: `Bearer ${fresh}` } });
  };
}

/** Forgets every cached token of the data directory (`tessera logout`). */
export async function clearTokenCache(dataDir: string): Promise<void> {
  await rm(join(dataDir, TOKEN_CACHE_FILE), { force: true });
}
