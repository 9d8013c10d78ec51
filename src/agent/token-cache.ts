// Tokens per (VM, identity, resource): single-flight misses, background refresh, invalidation, outage service.
import type { Logger } from '../config/logger.js';
import { AppError } from '../core/errors.js';
import type { AgentIdentity, AgentTokenResponse, AgentVm } from '../wire/agent-api.js';
import { type AgentClock, type Backoff, backoffDelay, type CancelTimer } from './clock.js';
import { isTransient } from './server-client.js';

/** Fetches a fresh token from the server for `identity` of `vm`. */
export type TokenUpstream = (
  vm: AgentVm,
  identity: AgentIdentity,
  resource: string,
  peer: string | undefined,
) => Promise<AgentTokenResponse>;

/** Told about cache outcomes; called on the hot path, so keep it cheap. */
export interface TokenCacheObserver {
  readonly onCacheHit?: (() => void) | undefined;
  readonly onCacheMiss?: (() => void) | undefined;
}

/** Options of {@link createTokenCache}. */
export interface TokenCacheOptions {
  readonly upstream: TokenUpstream;
  readonly clock: AgentClock;
  readonly logger: Logger;
  readonly observer?: TokenCacheObserver | undefined;
  /** A cached token is served only while at least this much of it remains. Default 60 s. */
  readonly minRemainingSeconds?: number | undefined;
  /** In [0, 1): jitter for refresh times and retries. Default `Math.random`. */
  readonly random?: (() => number) | undefined;
}

/** The token cache. */
export interface TokenCache {
  /**
   * A token for `identity` of `vm` and `resource`: from the cache when one is held with enough
   * life left (unless `bypassCache`), else from the server, one request per key however many
   * callers wait. Fails with the server's AppError; with `ServiceUnavailable` (503,
   * `retryAfterSeconds`) when the server cannot be reached and nothing usable is cached.
   */
  get(
    vm: AgentVm,
    identity: AgentIdentity,
    resource: string,
    bypassCache: boolean,
    peer?: string,
  ): Promise<AgentTokenResponse>;
  /** Drops every token of the VM with this id (case-insensitive); fetches in flight are not cached. */
  invalidateVm(vmId: string): void;
  /** How many tokens are cached. */
  size(): number;
  /** Every cached token with what it is for (to carry across a restart, sealed). */
  exportTokens(): CachedTokenRecord[];
  /**
   * Caches tokens exported by {@link TokenCache.exportTokens}; `find` gives the current VM and
   * identity objects (records whose VM or identity is gone are skipped), and tokens too close to
   * expiry are not taken. Returns how many were cached.
   */
  importTokens(
    records: readonly CachedTokenRecord[],
    find: (
      vmId: string,
      principalId: string,
    ) => { vm: AgentVm; identity: AgentIdentity } | undefined,
  ): number;
  /** Drops everything and cancels every refresh. */
  clear(): void;
}

/** A cached token and what it is for. */
export interface CachedTokenRecord {
  readonly vmId: string;
  readonly principalId: string;
  readonly resource: string;
  readonly token: AgentTokenResponse;
}

/** Retry delays of a background refresh that failed transiently. */
const REFRESH_BACKOFF: Backoff = { initialMs: 1_000, maxMs: 60_000 };
/** A token is refreshed when this much, or a tenth of its lifetime if more, remains. */
const REFRESH_LEAD_MIN_MS = 5 * 60_000;

interface Entry {
  readonly token: AgentTokenResponse;
  /** Settled with `token`: what a hit returns, without allocating. */
  readonly resolved: Promise<AgentTokenResponse>;
  readonly serveUntil: number;
  readonly refreshAt: number;
  /** Asked for since it was fetched: worth refreshing. */
  used: boolean;
}

interface Slot {
  readonly vm: AgentVm;
  readonly identity: AgentIdentity;
  readonly resource: string;
  entry: Entry | undefined;
  inflight: Promise<AgentTokenResponse> | undefined;
  timer: CancelTimer | undefined;
  attempt: number;
  /** Set when invalidated: nothing more is cached or refreshed through it. */
  dead: boolean;
}

/** vm id -> principal id -> resource -> slot: nested maps, so a hit allocates nothing. */
type Slots = Map<string, Map<string, Map<string, Slot>>>;

/**
 * Makes the cache. Each cached token is refreshed in the background before it expires (when a
 * tenth of its lifetime or 5 minutes remain, whichever is more, minus up to half that again as
 * jitter) if it was asked for since it was fetched; a token fetched on a miss counts as asked
 * for, so it is refreshed once even if no one asks again. While the server is unreachable a
 * cached token is served until `minRemainingSeconds` before it expires; a refresh that the
 * server refuses (anything but 429/503) drops the token.
 */
export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const { upstream, clock, logger, observer } = options;
  const minRemainingMs = (options.minRemainingSeconds ?? 60) * 1000;
  const random = options.random ?? Math.random;
  const slots: Slots = new Map();
  let count = 0;

  const setEntry = (slot: Slot, entry: Entry | undefined): void => {
    if (slot.entry === undefined && entry !== undefined) count += 1;
    if (slot.entry !== undefined && entry === undefined) count -= 1;
    slot.entry = entry;
  };

  const forget = (slot: Slot): void => {
    slot.timer?.();
    slot.timer = undefined;
    setEntry(slot, undefined);
    const byIdentity = slots.get(slot.vm.id);
    const byResource = byIdentity?.get(slot.identity.principalId);
    if (byResource?.get(slot.resource) !== slot || slot.inflight !== undefined) return;
    byResource.delete(slot.resource);
    if (byResource.size === 0) byIdentity?.delete(slot.identity.principalId);
    if (byIdentity?.size === 0) slots.delete(slot.vm.id);
  };

  const schedule = (slot: Slot, at: number, action: () => void): void => {
    slot.timer?.();
    slot.timer = clock.setTimer(() => {
      slot.timer = undefined;
      if (!slot.dead) action();
    }, at - clock.now());
  };

  const onTimer = (slot: Slot): void => {
    const entry = slot.entry;
    if (entry === undefined) return;
    const now = clock.now();
    if (now >= entry.serveUntil) {
      forget(slot);
    } else if (entry.used) {
      refreshInBackground(slot);
    } else {
      schedule(slot, entry.serveUntil, () => {
        onTimer(slot);
      });
    }
  };

  const install = (slot: Slot, token: AgentTokenResponse, used: boolean): void => {
    const expiresAt = token.expiresOn * 1000;
    const serveUntil = expiresAt - minRemainingMs;
    if (slot.dead || serveUntil <= clock.now()) return;
    const lifetime = Math.max(0, expiresAt - token.notBefore * 1000);
    const lead = Math.max(REFRESH_LEAD_MIN_MS, lifetime / 10);
    const refreshAt = Math.max(clock.now(), expiresAt - lead - Math.floor(random() * lead * 0.5));
    setEntry(slot, { token, resolved: Promise.resolve(token), serveUntil, refreshAt, used });
    slot.attempt = 0;
    schedule(slot, refreshAt, () => {
      onTimer(slot);
    });
  };

  const fetch = (
    slot: Slot,
    peer: string | undefined,
    used: boolean,
  ): Promise<AgentTokenResponse> => {
    // Started after `inflight` is set, even if `upstream` throws at once.
    const pending = Promise.resolve()
      .then(() => upstream(slot.vm, slot.identity, slot.resource, peer))
      .then((token) => {
        if (token.clientId.toLowerCase() !== slot.identity.clientId.toLowerCase()) {
          // Never hand a VM a token for another identity, whatever the server said.
          throw new AppError('Internal', 'The server issued a token for another identity.', {
            status: 500,
          });
        }
        install(slot, token, used);
        return token;
      })
      .finally(() => {
        slot.inflight = undefined;
        if (slot.entry === undefined && !slot.dead) forget(slot);
      });
    slot.inflight = pending;
    return pending;
  };

  const refreshInBackground = (slot: Slot): void => {
    if (slot.inflight !== undefined || slot.dead) return;
    fetch(slot, undefined, false).catch((error: unknown) => {
      const entry = slot.entry;
      if (slot.dead || entry === undefined) return;
      if (isTransient(error) && clock.now() < entry.serveUntil) {
        const delay = backoffDelay(slot.attempt, REFRESH_BACKOFF, random);
        slot.attempt += 1;
        logger.debug(
          { err: error, retryInMs: delay },
          'token refresh failed; serving the cached token',
        );
        schedule(slot, Math.min(entry.serveUntil, clock.now() + delay), () => {
          onTimer(slot);
        });
      } else {
        logger.warn(
          { err: error, vmId: slot.vm.id, principalId: slot.identity.principalId },
          'token refresh refused; the cached token is dropped',
        );
        forget(slot);
      }
    });
  };

  const slotFor = (vm: AgentVm, identity: AgentIdentity, resource: string): Slot => {
    let byIdentity = slots.get(vm.id);
    if (byIdentity === undefined)
      slots.set(vm.id, (byIdentity = new Map<string, Map<string, Slot>>()));
    let byResource = byIdentity.get(identity.principalId);
    if (byResource === undefined)
      byIdentity.set(identity.principalId, (byResource = new Map<string, Slot>()));
    let slot = byResource.get(resource);
    if (slot === undefined) {
      slot = {
        vm,
        identity,
        resource,
        entry: undefined,
        inflight: undefined,
        timer: undefined,
        attempt: 0,
        dead: false,
      };
      byResource.set(resource, slot);
    }
    return slot;
  };

  const kill = (byIdentity: Map<string, Map<string, Slot>>): void => {
    for (const byResource of byIdentity.values()) {
      for (const slot of byResource.values()) {
        slot.dead = true;
        slot.timer?.();
        slot.timer = undefined;
        setEntry(slot, undefined);
      }
    }
  };

  return {
    get(vm, identity, resource, bypassCache, peer) {
      if (!bypassCache) {
        const slot = slots.get(vm.id)?.get(identity.principalId)?.get(resource);
        const entry = slot?.entry;
        if (entry !== undefined) {
          const now = clock.now();
          if (now < entry.serveUntil) {
            entry.used = true;
            if (now >= entry.refreshAt && slot !== undefined) refreshInBackground(slot);
            observer?.onCacheHit?.();
            return entry.resolved;
          }
        }
      }
      observer?.onCacheMiss?.();
      const slot = slotFor(vm, identity, resource);
      return slot.inflight ?? fetch(slot, peer, true);
    },
    invalidateVm(vmId) {
      const exact = slots.get(vmId);
      if (exact !== undefined) {
        kill(exact);
        slots.delete(vmId);
      }
      const lower = vmId.toLowerCase();
      for (const [id, byIdentity] of slots) {
        if (id.toLowerCase() === lower) {
          kill(byIdentity);
          slots.delete(id);
        }
      }
    },
    size: () => count,
    exportTokens() {
      const out: CachedTokenRecord[] = [];
      for (const byIdentity of slots.values()) {
        for (const byResource of byIdentity.values()) {
          for (const slot of byResource.values()) {
            if (slot.entry === undefined || clock.now() >= slot.entry.serveUntil) continue;
            out.push({
              vmId: slot.vm.id,
              principalId: slot.identity.principalId,
              resource: slot.resource,
              token: slot.entry.token,
            });
          }
        }
      }
      return out;
    },
    importTokens(records, find) {
      const before = count;
      for (const record of records) {
        const found = find(record.vmId, record.principalId);
        if (found === undefined) continue;
        if (found.identity.clientId.toLowerCase() !== record.token.clientId.toLowerCase()) continue;
        const slot = slotFor(found.vm, found.identity, record.resource);
        if (slot.entry === undefined) install(slot, record.token, true);
        if (slot.entry === undefined) forget(slot);
      }
      return count - before;
    },
    clear() {
      for (const byIdentity of slots.values()) kill(byIdentity);
      slots.clear();
    },
  };
}
