// IMDS throttling per VM: a request rate for each category and a concurrency cap for identity.
import type { Clock } from '../../core/ports.js';

/** The limits of `agent.imds.rateLimit` (config), per calling VM. */
export interface ImdsRateLimit {
  /** `off` disables throttling (benchmarks, load tests). */
  readonly mode: 'on' | 'off';
  /** `/metadata/identity/*` requests per second (Azure: 20). */
  readonly identityPerSecond: number;
  /** `/metadata/identity/*` requests in flight (Azure: 5). */
  readonly identityConcurrent: number;
  /** Other metadata requests per second (Azure: 5). */
  readonly otherPerSecond: number;
}

/** Azure's documented limits (IMDS documentation, "Rate limiting"; PROTOCOL.md 1.7). */
export const AZURE_IMDS_RATE_LIMIT: ImdsRateLimit = {
  mode: 'on',
  identityPerSecond: 20,
  identityConcurrent: 5,
  otherPerSecond: 5,
};

/** The two throttled categories. */
export type ThrottleCategory = 'identity' | 'other';

/**
 * Admission control. `admit` answers 0 when the request may go on and otherwise the seconds
 * after which a retry can succeed (the `Retry-After` value); an admitted identity request must
 * be followed by exactly one `release` of the same key.
 */
export interface ImdsThrottle {
  admit(key: string, category: ThrottleCategory): number;
  release(key: string): void;
}

interface Bucket {
  identityTokens: number;
  otherTokens: number;
  /** Clock time (ms) the token counts were last brought up to date. */
  at: number;
  inFlight: number;
}

/** Above this many tracked callers, idle ones are forgotten. */
const PRUNE_ABOVE = 4096;

const NO_THROTTLE: ImdsThrottle = { admit: () => 0, release: () => undefined };

/**
 * A throttle per key (the caller's address). Rates are token buckets holding one second's worth
 * (a burst of `perSecond` requests, then `perSecond` a second); a refused request uses no
 * token. The concurrency cap counts identity requests between `admit` and `release`. With
 * `mode: 'off'` nothing is ever refused.
 */
export function createImdsThrottle(limits: ImdsRateLimit, clock: Clock): ImdsThrottle {
  if (limits.mode === 'off') return NO_THROTTLE;
  const { identityPerSecond, identityConcurrent, otherPerSecond } = limits;
  const buckets = new Map<string, Bucket>();

  const prune = (now: number): void => {
    for (const [key, b] of buckets) {
      if (b.inFlight === 0 && now - b.at >= 1000) buckets.delete(key);
    }
  };

  const bucketFor = (key: string, now: number): Bucket => {
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      if (buckets.size >= PRUNE_ABOVE) prune(now);
      bucket = {
        identityTokens: identityPerSecond,
        otherTokens: otherPerSecond,
        at: now,
        inFlight: 0,
      };
      buckets.set(key, bucket);
      return bucket;
    }
    const elapsed = now - bucket.at;
    if (elapsed > 0) {
      bucket.identityTokens = Math.min(
        identityPerSecond,
        bucket.identityTokens + (elapsed * identityPerSecond) / 1000,
      );
      bucket.otherTokens = Math.min(
        otherPerSecond,
        bucket.otherTokens + (elapsed * otherPerSecond) / 1000,
      );
      bucket.at = now;
    }
    return bucket;
  };

  const wait = (tokens: number, perSecond: number): number =>
    Math.max(1, Math.ceil((1 - tokens) / perSecond));

  return {
    admit(key, category) {
      const bucket = bucketFor(key, clock.now());
      if (category === 'other') {
        if (bucket.otherTokens < 1) return wait(bucket.otherTokens, otherPerSecond);
        bucket.otherTokens -= 1;
        return 0;
      }
      if (bucket.identityTokens < 1) return wait(bucket.identityTokens, identityPerSecond);
      if (bucket.inFlight >= identityConcurrent) return 1;
      bucket.identityTokens -= 1;
      bucket.inFlight += 1;
      return 0;
    },
    release(key) {
      const bucket = buckets.get(key);
      if (bucket !== undefined && bucket.inFlight > 0) bucket.inFlight -= 1;
    },
  };
}
