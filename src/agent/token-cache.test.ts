// The token cache: single flight, background refresh, invalidation, and what it serves during an outage.
import { describe, expect, it } from 'vitest';
import { AppError } from '../core/errors.js';
import type { AgentIdentity, AgentTokenResponse, AgentVm } from '../wire/agent-api.js';
import { deferred, identity, silentLogger, tokenFor, vm } from '../../test/agent/agent-fixtures.js';
import { createManualClock, type ManualClock } from './clock.js';
import { upstreamUnavailable } from './server-client.js';
import { createTokenCache, type TokenUpstream } from './token-cache.js';

const ARM = 'https://management.azure.com/';
const VAULT = 'https://vault.azure.net';
const HOUR = 3_600_000;

interface Harness {
  clock: ManualClock;
  calls: { vm: string; principalId: string; resource: string }[];
  hits: number;
  misses: number;
  cache: ReturnType<typeof createTokenCache>;
  /** What the upstream does next; by default, a fresh 24 h token. */
  next: TokenUpstream | undefined;
}

function harness(): Harness {
  const clock = createManualClock();
  const h: Harness = {
    clock,
    calls: [],
    hits: 0,
    misses: 0,
    next: undefined,
    cache: undefined as unknown as Harness['cache'],
  };
  let n = 0;
  const upstream: TokenUpstream = (v, who, resource, peer) => {
    h.calls.push({ vm: v.name, principalId: who.principalId, resource });
    if (h.next !== undefined) return h.next(v, who, resource, peer);
    n += 1;
    return Promise.resolve(tokenFor(who, resource, clock.now(), 86_700, `t${n}`));
  };
  h.cache = createTokenCache({
    upstream,
    clock,
    logger: silentLogger(),
    random: () => 0,
    observer: {
      onCacheHit: () => {
        h.hits += 1;
      },
      onCacheMiss: () => {
        h.misses += 1;
      },
    },
  });
  return h;
}

const uai = identity(1);
const other = identity(2);
const vmA = vm('a', ['10.0.0.4'], [uai, other]);
const vmB = vm('b', ['10.0.0.5'], [uai]);
const get = (
  h: Harness,
  v: AgentVm = vmA,
  who: AgentIdentity = uai,
  resource = ARM,
  bypass = false,
) => h.cache.get(v, who, resource, bypass);

describe('token cache', () => {
  it('makes one upstream request for concurrent misses of one key', async () => {
    const h = harness();
    const pending = deferred<AgentTokenResponse>();
    h.next = () => pending.promise;
    const all = Promise.all(Array.from({ length: 20 }, () => get(h)));
    pending.resolve(tokenFor(uai, ARM, h.clock.now(), 86_700, 'single'));
    const tokens = await all;
    expect(h.calls).toHaveLength(1);
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(['single']));
    expect(h.misses).toBe(20);
  });

  it('serves hits with the same object and promise, and keys by VM, identity and resource', async () => {
    const h = harness();
    const first = await get(h);
    const p1 = get(h);
    const p2 = get(h);
    expect(p1).toBe(p2);
    expect(await p1).toBe(first);
    expect(h.hits).toBe(2);
    await get(h, vmB);
    await get(h, vmA, other);
    await get(h, vmA, uai, VAULT);
    expect(h.calls.map((c) => `${c.vm}/${c.principalId.slice(-1)}/${c.resource}`)).toEqual([
      `a/1/${ARM}`,
      `b/1/${ARM}`,
      `a/2/${ARM}`,
      `a/1/${VAULT}`,
    ]);
    expect(h.cache.size()).toBe(4);
  });

  it('refreshes a token in the background before it expires and serves the old one meanwhile', async () => {
    const h = harness();
    const first = await get(h);
    // 86 700 s lifetime: refreshed when a tenth (8 670 s) remains (jitter 0 here).
    const refreshAt = first.expiresOn * 1000 - 8_670_000;
    await h.clock.advance(refreshAt - h.clock.now() - 1000);
    expect(h.calls).toHaveLength(1);
    const pending = deferred<AgentTokenResponse>();
    h.next = () => pending.promise;
    await h.clock.advance(1000);
    expect(h.calls).toHaveLength(2);
    expect((await get(h)).accessToken).toBe(first.accessToken);
    pending.resolve(tokenFor(uai, ARM, h.clock.now(), 86_700, 'refreshed'));
    await h.clock.advance(0);
    expect((await get(h)).accessToken).toBe('refreshed');
    expect(h.calls).toHaveLength(2);
  });

  it('lets a token no one asked for since its refresh lapse instead of refreshing it forever', async () => {
    const h = harness();
    await get(h);
    await h.clock.advance(24 * HOUR); // one background refresh (the miss counts as a use)
    expect(h.calls).toHaveLength(2);
    await h.clock.advance(25 * HOUR); // not asked for since: not refreshed, then forgotten
    expect(h.calls).toHaveLength(2);
    expect(h.cache.size()).toBe(0);
    expect(h.clock.pending()).toBe(0);
  });

  it("drops a VM's tokens on invalidation, and does not cache a fetch that was in flight", async () => {
    const h = harness();
    await get(h);
    await get(h, vmB);
    h.cache.invalidateVm(vmA.id.toUpperCase());
    expect(h.cache.size()).toBe(1);
    await get(h);
    expect(h.calls).toHaveLength(3);

    const pending = deferred<AgentTokenResponse>();
    h.next = () => pending.promise;
    const inFlight = get(h, vmA, other);
    h.cache.invalidateVm(vmA.id);
    pending.resolve(tokenFor(other, ARM, h.clock.now(), 86_700, 'before-change'));
    expect((await inFlight).accessToken).toBe('before-change');
    h.next = undefined;
    expect((await get(h, vmA, other)).accessToken).not.toBe('before-change');
  });

  it('bypassCache fetches a fresh token and replaces the cached one', async () => {
    const h = harness();
    const first = await get(h);
    const fresh = await get(h, vmA, uai, ARM, true);
    expect(fresh.accessToken).not.toBe(first.accessToken);
    expect(await get(h)).toBe(fresh);
    expect(h.calls).toHaveLength(2);
  });

  it('during an outage serves cached tokens until they expire and fails misses with a retryable 503', async () => {
    const h = harness();
    const cached = await get(h);
    h.next = () => Promise.reject(upstreamUnavailable('The Tessera server cannot be reached.', 5));
    expect(await get(h)).toBe(cached);
    const miss = await get(h, vmA, other).catch((e: unknown) => e);
    expect(miss).toBeInstanceOf(AppError);
    expect(miss).toMatchObject({ code: 'ServiceUnavailable', status: 503, retryAfterSeconds: 5 });
    // Refreshes fail and are retried; the cached token is served until 60 s before it expires.
    await h.clock.advance(cached.expiresOn * 1000 - h.clock.now() - 61_000);
    expect(h.calls.length).toBeGreaterThan(3);
    expect(await get(h)).toBe(cached);
    await h.clock.advance(2_000);
    await expect(get(h)).rejects.toMatchObject({ code: 'ServiceUnavailable' });
    // The server is back: a request gets a token again.
    h.next = undefined;
    expect((await get(h)).expiresOn).toBeGreaterThan(cached.expiresOn);
  });

  it('drops a cached token when the server refuses its refresh', async () => {
    const h = harness();
    const first = await get(h);
    h.next = () => Promise.reject(new AppError('Forbidden', 'not on this host', { status: 403 }));
    await h.clock.advance(first.expiresOn * 1000 - h.clock.now() - 8_000_000);
    expect(h.cache.size()).toBe(0);
    await expect(get(h)).rejects.toMatchObject({ status: 403 });
  });

  it('never caches or serves a token for another identity, or one about to expire', async () => {
    const h = harness();
    h.next = (_v, _who, resource) => Promise.resolve(tokenFor(other, resource, h.clock.now()));
    await expect(get(h)).rejects.toMatchObject({ code: 'Internal' });
    expect(h.cache.size()).toBe(0);
    h.next = (_v, who, resource) => Promise.resolve(tokenFor(who, resource, h.clock.now(), 30));
    await get(h);
    expect(h.cache.size()).toBe(0);
  });

  it('a failed miss leaves nothing behind and the next request tries again', async () => {
    const h = harness();
    h.next = () => Promise.reject(upstreamUnavailable('down', 5));
    await expect(get(h)).rejects.toMatchObject({ status: 503 });
    h.next = undefined;
    await get(h);
    expect(h.calls).toHaveLength(2);
    expect(h.cache.size()).toBe(1);
  });

  it('clear() drops everything and leaves no timer behind', async () => {
    const h = harness();
    await get(h);
    await get(h, vmB);
    h.cache.clear();
    expect(h.cache.size()).toBe(0);
    expect(h.clock.pending()).toBe(0);
  });

  it('exports its tokens and imports them into a new cache for the VMs and identities that still exist', async () => {
    const h = harness();
    const kept = await get(h);
    await get(h, vmB);
    const records = h.cache.exportTokens();
    expect(records).toHaveLength(2);
    const next = harness();
    const imported = next.cache.importTokens(records, (vmId, principalId) =>
      vmId === vmA.id && principalId === uai.principalId ? { vm: vmA, identity: uai } : undefined,
    );
    expect(imported).toBe(1);
    expect((await get(next)).accessToken).toBe(kept.accessToken);
    expect(next.calls).toHaveLength(0);
  });
});
