// IMDS connection limits: a cap per source address and one per process, so one VM cannot hold the connections every VM shares.
import type { Server, Socket } from 'node:net';
import { connectionBudget, openFileLimit } from '../../config/file-limit.js';
import { configInvalid } from '../../core/errors.js';
import type { Clock } from '../../core/ports.js';
import { normaliseAddress } from '../../wire/imds/address.js';

/** The limits of `agent.imds.connections` (config). */
export interface ImdsConnectionLimits {
  /** Connections open at once from one source address (one VM). */
  readonly perAddress: number;
  /** Connections open at once in all; 0 derives it from the open-file limit. */
  readonly max: number;
  /** Time to send a request's headers; a connection that sends nothing is closed then too. */
  readonly headersTimeoutMs: number;
  /** Time to send a whole request (IMDS requests have no body); at least `headersTimeoutMs`. */
  readonly requestTimeoutMs: number;
  /** How long an idle kept-alive connection stays open after a response. */
  readonly keepAliveTimeoutMs: number;
  /** A connection with no byte in or out for this long is closed, request pending or not. */
  readonly idleTimeoutMs: number;
}

/**
 * Tessera's defaults (docs/compatibility.md, "IMDS connection limits"). Azure lets a VM have 5
 * identity requests in flight; 64 connections leave SDK pools, several processes per VM and
 * one-shot clients far from the cap while one VM holds at most 64 file descriptors. 60 s of
 * silence is longer than any token request waits for the server (15 s per attempt).
 */
export const DEFAULT_IMDS_CONNECTION_LIMITS: ImdsConnectionLimits = {
  perAddress: 64,
  max: 0,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
};

/**
 * IMDS's share of the file descriptors left after the reserve; the server's listeners get the
 * rest (`tessera up` runs them all in one process).
 */
export const IMDS_FILE_SHARE = 0.5;
/** The derived process-wide cap is at most this, which bounds the memory idle connections take. */
export const IMDS_MAX_CONNECTIONS_CEILING = 16_384;

/**
 * `limits` with `max` filled in: when 0, {@link IMDS_FILE_SHARE} of the open-file limit `fileLimit`
 * after the reserve (`connectionBudget`). Fails with `ConfigInvalid` unless `max` is at least
 * twice `perAddress`, so one address can never take the whole budget.
 */
export function resolveImdsConnectionLimits(
  limits: ImdsConnectionLimits,
  fileLimit: () => number = openFileLimit,
): ImdsConnectionLimits {
  let max = limits.max;
  let from = 'agent.imds.connections.max';
  if (max === 0) {
    const files = fileLimit();
    max = connectionBudget(files, IMDS_FILE_SHARE, IMDS_MAX_CONNECTIONS_CEILING);
    from = `the open-file limit (${String(files)}; raise it with ulimit -n or LimitNOFILE, or set agent.imds.connections.max)`;
  }
  if (max < 2 * limits.perAddress) {
    throw configInvalid(
      `agent.imds.connections.perAddress (${String(limits.perAddress)}) must be at most half of the IMDS connection cap (${String(max)}, from ${from})`,
    );
  }
  return { ...limits, max };
}

/** Connections open per canonical source address. */
export interface ConnectionCounter {
  /** Counts one more connection from `address` and answers true, unless it already has the cap. */
  admit(address: string): boolean;
  /** Forgets one connection from `address` (once per admitted connection). */
  release(address: string): void;
  /** Connections open from `address`. */
  openFrom(address: string): number;
  /** Addresses with a connection open. */
  readonly addresses: number;
}

/** A {@link ConnectionCounter} allowing `perAddress` connections per address. */
export function createConnectionCounter(perAddress: number): ConnectionCounter {
  const open = new Map<string, number>();
  return {
    admit(address) {
      const n = open.get(address) ?? 0;
      if (n >= perAddress) return false;
      open.set(address, n + 1);
      return true;
    },
    release(address) {
      const n = open.get(address);
      if (n === undefined) return;
      if (n <= 1) open.delete(address);
      else open.set(address, n - 1);
    },
    openFrom: (address) => open.get(address) ?? 0,
    get addresses() {
      return open.size;
    },
  };
}

/** How often a refusal may be logged per key (address, or the process-wide cap). */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;
/** Keys remembered for {@link createRefusalNotices}; beyond, stale ones are forgotten. */
const MAX_NOTICE_KEYS = 1024;

/** Rate limits log lines about refused connections. */
export interface RefusalNotices {
  /**
   * Records one refusal under `key`. Answers 0 when no line should be written now, else the
   * refusals since the last line for `key` (this one included): at most one line per key per
   * {@link REFUSAL_LOG_INTERVAL_MS}.
   */
  record(key: string): number;
}

/** Refusal notices on `clock`, bounded to about {@link MAX_NOTICE_KEYS} keys. */
export function createRefusalNotices(clock: Clock): RefusalNotices {
  const seen = new Map<string, { at: number; refused: number }>();
  return {
    record(key) {
      const now = clock.now();
      const entry = seen.get(key);
      if (entry !== undefined && now - entry.at < REFUSAL_LOG_INTERVAL_MS) {
        entry.refused += 1;
        return 0;
      }
      const refused = (entry?.refused ?? 0) + 1;
      if (entry === undefined && seen.size >= MAX_NOTICE_KEYS) {
        for (const [k, e] of seen) if (now - e.at >= REFUSAL_LOG_INTERVAL_MS) seen.delete(k);
        // Still full of fresh keys: forgetting them costs at most one more line each.
        if (seen.size >= MAX_NOTICE_KEYS) seen.clear();
      }
      seen.set(key, { at: now, refused: 0 });
      return refused;
    },
  };
}

/** Which cap refused a connection. */
export type ConnectionRefusal = 'address' | 'total';

/** Where refused connections are reported (a pino logger fits); gets addresses and counts only. */
export interface ConnectionLogger {
  warn(details: object, message: string): void;
}

/** Options of {@link guardConnections}. */
export interface GuardConnectionsOptions {
  readonly perAddress: number;
  /** Becomes `server.maxConnections`. */
  readonly max: number;
  /** The time of the log's rate limit. */
  readonly clock: Clock;
  /** Called once per refused connection (a metrics counter). */
  readonly onRefused?: ((reason: ConnectionRefusal) => void) | undefined;
  readonly logger?: ConnectionLogger | undefined;
}

/**
 * Caps `server`'s connections: over `max` in all Node closes a new connection before any
 * listener sees it ('drop'); over `perAddress` from one source address (IPv4-mapped IPv6 folded
 * to IPv4) the connection is destroyed on 'connection', before a byte of it is read. Each
 * refusal calls `onRefused`; the log gets at most one line per address, and one for the
 * process-wide cap, per minute. Add it before the server listens.
 */
export function guardConnections(server: Server, options: GuardConnectionsOptions): void {
  const { perAddress, max, onRefused, logger } = options;
  const counter = createConnectionCounter(perAddress);
  const notices = createRefusalNotices(options.clock);
  server.maxConnections = max;

  server.on('connection', (socket: Socket) => {
    const remote = socket.remoteAddress;
    // Already closed by the peer: nothing to count.
    if (remote === undefined) {
      socket.destroy();
      return;
    }
    const address = normaliseAddress(remote);
    if (!counter.admit(address)) {
      socket.destroy();
      onRefused?.('address');
      const refused = notices.record(address);
      if (refused > 0) {
        logger?.warn(
          { caller: address, refused, perAddress },
          'IMDS refused connections: too many open from one address',
        );
      }
      return;
    }
    socket.once('close', () => {
      counter.release(address);
    });
  });

  server.on('drop', (data) => {
    onRefused?.('total');
    const refused = notices.record('');
    if (refused > 0) {
      const caller =
        data?.remoteAddress === undefined ? undefined : normaliseAddress(data.remoteAddress);
      logger?.warn(
        { caller, refused, max },
        'IMDS refused connections: the process-wide connection cap is reached',
      );
    }
  });
}
