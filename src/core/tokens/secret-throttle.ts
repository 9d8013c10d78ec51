// Slows client-secret guessing: failures counted per client and per source address, and few scrypt checks at once.
import type { EpochMs } from '../model.js';

/** Options of {@link createFailureLimiter}. */
export interface FailureLimiterOptions {
  /** A fixed window: failures are counted from the first one for this long, then forgotten. */
  readonly windowMs: number;
  /** Failures a key may have in one window; the next attempt is refused until it ends. */
  readonly maxFailures: number;
  /** The most keys remembered; beyond it the oldest window is forgotten first. */
  readonly maxKeys: number;
}

/** Failure counts per key (a client, a source address) in fixed windows. */
export interface FailureLimiter {
  /** Whole seconds (at least 1) until `key` may try again, or undefined when it may now. */
  retryAfter(key: string, now: EpochMs): number | undefined;
  /** Counts a failure of `key` at `now`. */
  fail(key: string, now: EpochMs): void;
  /** How many keys are remembered. */
  readonly size: number;
}

interface Window {
  readonly end: EpochMs;
  failures: number;
}

/**
 * A {@link FailureLimiter} over fixed windows: the first failure of a key opens a window of
 * `windowMs`; once it holds `maxFailures`, {@link FailureLimiter.retryAfter} answers the seconds
 * to its end, after which the key starts afresh. (A fixed window lets at most twice
 * `maxFailures` through across one window boundary; a sliding one would cost a timestamp per
 * failure.) Memory is bounded by `maxKeys`: a new key evicts the oldest window.
 */
export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const { windowMs, maxFailures, maxKeys } = options;
  // Insertion order is window order: a key is re-inserted whenever it opens a new window.
  const windows = new Map<string, Window>();

  return {
    retryAfter(key, now) {
      const window = windows.get(key);
      if (window === undefined) return undefined;
      if (now >= window.end) {
        windows.delete(key);
        return undefined;
      }
      if (window.failures < maxFailures) return undefined;
      return Math.max(1, Math.ceil((window.end - now) / 1000));
    },

    fail(key, now) {
      const window = windows.get(key);
      if (window !== undefined && now < window.end) {
        window.failures += 1;
        return;
      }
      windows.delete(key);
      if (windows.size >= maxKeys) {
        const oldest = windows.keys().next();
        if (oldest.done !== true) windows.delete(oldest.value);
      }
      windows.set(key, { end: now + windowMs, failures: 1 });
    },

    get size() {
      return windows.size;
    },
  };
}

/** Gives out at most `concurrent` slots; further callers wait in line, up to `queue` of them. */
export interface ConcurrencyGate {
  /**
   * A promise of a slot (call the function it resolves with to give it back, once), or
   * undefined, at once, when `queue` callers are waiting already.
   */
  acquire(): Promise<() => void> | undefined;
  /** Slots in use and callers waiting. */
  readonly active: number;
  readonly waiting: number;
}

/** A {@link ConcurrencyGate}; first come, first served. */
export function createConcurrencyGate(concurrent: number, queue: number): ConcurrencyGate {
  let active = 0;
  const waiting: ((release: () => void) => void)[] = [];

  function slot(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = waiting.shift();
      if (next === undefined) active -= 1;
      else next(slot());
    };
  }

  return {
    acquire() {
      if (active < concurrent) {
        active += 1;
        return Promise.resolve(slot());
      }
      if (waiting.length >= queue) return undefined;
      return new Promise((resolve) => waiting.push(resolve));
    },
    get active() {
      return active;
    },
    get waiting() {
      return waiting.length;
    },
  };
}
