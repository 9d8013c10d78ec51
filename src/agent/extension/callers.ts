// Who may call the extension shim (loopback only, as with Azure's extension) and when each caller is told it is deprecated.
import type { Clock } from '../../core/ports.js';
import { normaliseAddress } from '../../wire/imds/address.js';

/**
 * Whether a socket's remote address is loopback: `127.0.0.0/8`, `::1`, or either IPv4-mapped
 * (`::ffff:127.0.0.1`). The extension refused other callers with `unauthorized_client` ("a
 * request that didn't use local loopback"); the shim does too, so binding it to a wider address
 * never hands the VM's tokens to the network.
 */
export function isLoopbackAddress(address: string): boolean {
  const normalised = normaliseAddress(address);
  if (normalised === '::1') return true;
  if (normalised.indexOf(':') >= 0) return false;
  return normalised.startsWith('127.');
}

/** Options of {@link createDeprecationNotices}. */
export interface DeprecationNoticesOptions {
  readonly clock: Clock;
  /** How long a caller stays quiet after its warning; one hour by default. */
  readonly intervalMs?: number;
  /** Callers remembered at most; beyond it the oldest notices are forgotten. */
  readonly maxCallers?: number;
}

/** Decides when a caller gets the deprecation warning again. */
export interface DeprecationNotices {
  /**
   * True when the caller (source address and `User-Agent`) has not been warned within the
   * interval; records the warning. Never throws.
   */
  shouldWarn(address: string, userAgent: string): boolean;
}

const HOUR_MS = 3_600_000;

/**
 * Creates the once-per-caller-per-interval rule of the shim's deprecation warning. Memory is
 * bounded: at `maxCallers`, notices older than the interval are dropped, and if none are, all are
 * (those callers are then warned once more).
 */
export function createDeprecationNotices(options: DeprecationNoticesOptions): DeprecationNotices {
  const { clock } = options;
  const intervalMs = options.intervalMs ?? HOUR_MS;
  const maxCallers = options.maxCallers ?? 10_000;
  const warnedAt = new Map<string, number>();

  const prune = (now: number): void => {
    for (const [key, at] of warnedAt) if (now - at >= intervalMs) warnedAt.delete(key);
    if (warnedAt.size >= maxCallers) warnedAt.clear();
  };

  return {
    shouldWarn(address, userAgent) {
      const now = clock.now();
      const key = `${address}\n${userAgent}`;
      const last = warnedAt.get(key);
      if (last !== undefined && now - last < intervalMs && now >= last) return false;
      if (last === undefined && warnedAt.size >= maxCallers) prune(now);
      warnedAt.set(key, now);
      return true;
    },
  };
}
