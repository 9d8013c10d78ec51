// The IMDS listener: a plain `node:http` server running the IMDS handler on the configured address.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyListenerLimits, listenerOptions } from '../../config/listener.js';
import { systemClock } from '../../core/clock.js';
import type { Clock } from '../../core/ports.js';
import { closeServer, httpUrl, type AgentMetrics } from '../metrics.js';
import type { ImdsBackend } from './backend.js';
import {
  DEFAULT_IMDS_CONNECTION_LIMITS,
  guardConnections,
  resolveImdsConnectionLimits,
  type ConnectionLogger,
  type ImdsConnectionLimits,
} from './connection-guard.js';
import { createImdsHandler, type ImdsLogger } from './handler.js';
import type { ImdsRateLimit } from './throttle.js';

/** Options of {@link createImdsServer}; `host` to `connections` are `agent.imds.*`. */
export interface ImdsServerOptions {
  readonly backend: ImdsBackend;
  /** `169.254.169.254` in production, a loopback address in development and tests. */
  readonly host: string;
  /** 80 in production; 0 picks a free port. */
  readonly port: number;
  readonly rateLimit: ImdsRateLimit;
  /** Caps and timeouts of connections; {@link DEFAULT_IMDS_CONNECTION_LIMITS} when absent. */
  readonly connections?: ImdsConnectionLimits | undefined;
  readonly metrics?:
    | (Pick<AgentMetrics, 'imdsRequest' | 'imdsThrottled'> &
        Partial<Pick<AgentMetrics, 'legacyRequest' | 'imdsConnectionRefused'>>)
    | undefined;
  /** The time of `expires_in`, the throttle and the refusal log; the system clock when absent. */
  readonly clock?: Clock | undefined;
  /**
   * Where internal failures and refused connections (address and count, at most one line per
   * address a minute) are reported; never a token, never per request on success.
   */
  readonly logger?: (ImdsLogger & ConnectionLogger) | undefined;
}

/** A running IMDS listener. */
export interface ImdsServer {
  /** `http://host:port` with the bound port: what `AZURE_POD_IDENTITY_AUTHORITY_HOST` takes. */
  readonly url: string;
  /** The connection limits in effect, `max` resolved. */
  readonly connections: ImdsConnectionLimits;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Starts serving IMDS (see `createImdsHandler` for the routes and the order of checks) and
 * resolves once listening; rejects when the address cannot be bound, or with `ConfigInvalid`
 * when the connection caps do not fit (see `resolveImdsConnectionLimits`). Connections are kept
 * alive, as the SDKs reuse them, within `connections`: a connection over the per-address or the
 * process-wide cap is closed before any of it is read; headers must arrive within
 * `headersTimeoutMs` (a silent connection is closed then too, after a 408), the whole request
 * within `requestTimeoutMs`; an idle kept-alive connection closes after `keepAliveTimeoutMs`,
 * one with no traffic either way after `idleTimeoutMs`.
 */
export async function createImdsServer(options: ImdsServerOptions): Promise<ImdsServer> {
  const clock = options.clock ?? systemClock;
  const limits = resolveImdsConnectionLimits(options.connections ?? DEFAULT_IMDS_CONNECTION_LIMITS);
  const { logger, metrics } = options;
  const server = createServer(
    listenerOptions(limits),
    createImdsHandler({
      backend: options.backend,
      rateLimit: options.rateLimit,
      metrics,
      clock,
      logger,
    }),
  );
  // The caps are guardConnections' (per address and in all), not Node's maxConnections.
  applyListenerLimits(server, limits, (err) => {
    logger?.error({ err }, 'IMDS listener error');
  });
  guardConnections(server, {
    perAddress: limits.perAddress,
    max: limits.max,
    clock,
    logger,
    onRefused: (reason) => {
      metrics?.imdsConnectionRefused?.(reason);
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: httpUrl(options.host, port),
    connections: limits,
    close: () => closeServer(server),
  };
}
