// Slows client-secret guessing: failures counted per client and per source address, and few scrypt checks at once.
import type { EpochMs } from '../model.js';
import type { Clock } from '../ports.js';

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

/**
 * Failed client secrets allowed in one window, per client and per source address, before
 * further attempts are refused (429 with `Retry-After`) without a secret being checked.
 */
export interface SecretFailurePolicy {
  readonly windowSeconds: number;
  readonly perClient: number;
  readonly perSource: number;
}

/** The defaults of `server.tokens.secretFailures` (docs/configuration.md). */
export const DEFAULT_SECRET_FAILURES: SecretFailurePolicy = {
  windowSeconds: 60,
  perClient: 10,
  perSource: 30,
};

/**
 * Secret checks (one scrypt each, about 50 ms of a libuv thread) run at most 2 at once, so half
 * of the default pool of 4 stays free for signing and other work; 32 more may wait, and any
 * beyond are refused at once (429, `Retry-After: 1`).
 */
export const SECRET_CHECKS = { concurrent: 2, queued: 32 } as const;

/** How many clients and addresses the secret throttle remembers at most. */
const SECRET_FAILURE_KEYS = 10_000;

/** The token issuer's guard on client secrets: failures per client and source, and turns. */
export interface SecretGuard {
  /** Whole seconds until `client` (and `source`) may try a secret again; 0 when both may now. */
  retryAfter(client: string, source: string | undefined): number;
  /** A turn to check a secret (see {@link ConcurrencyGate.acquire}), or undefined when too many wait. */
  turn(): Promise<() => void> | undefined;
  /** Counts a failed secret of `client` from `source`. */
  failed(client: string, source: string | undefined): void;
}

/** A {@link SecretGuard} under `policy`, its windows read from `clock`. */
export function createSecretGuard(
  policy: SecretFailurePolicy = DEFAULT_SECRET_FAILURES,
  clock: Clock,
): SecretGuard {
  const limiter = (maxFailures: number) =>
    createFailureLimiter({
      windowMs: policy.windowSeconds * 1000,
      maxFailures,
      maxKeys: SECRET_FAILURE_KEYS,
    });
  const byClient = limiter(policy.perClient);
  const bySource = limiter(policy.perSource);
  const gate = createConcurrencyGate(SECRET_CHECKS.concurrent, SECRET_CHECKS.queued);
  return {
    retryAfter(client, source) {
      const now = clock.now();
      return Math.max(
        byClient.retryAfter(client, now) ?? 0,
        source === undefined ? 0 : (bySource.retryAfter(source, now) ?? 0),
      );
    },
    turn: () => gate.acquire(),
    failed(client, source) {
      const now = clock.now();
      byClient.fail(client, now);
      if (source !== undefined) bySource.fail(source, now);
    },
  };
}
