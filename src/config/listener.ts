// The timeouts and connection cap every Tessera HTTP listener applies (server, IMDS, extension shim).
import type { Server as HttpServer, ServerOptions as HttpServerOptions } from 'node:http';
import type { Server as HttpsServer } from 'node:https';

/** How long a listener waits at each stage, and how many connections it holds. */
export interface ListenerLimits {
  /** A request's headers must arrive within this (a silent connection is closed then too). */
  readonly headersTimeoutMs: number;
  /** The whole request must arrive within this; at least `headersTimeoutMs`. */
  readonly requestTimeoutMs: number;
  /** An idle kept-alive connection closes after this. */
  readonly keepAliveTimeoutMs: number;
  /** A connection with no traffic either way closes after this; none when absent. */
  readonly idleTimeoutMs?: number;
  /** Connections open at once; Node closes a new one unread over it. None when absent. */
  readonly maxConnections?: number;
}

/** How often unfinished requests are held against the timeouts (Node's default: every 30 s). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** The `createServer` options of `node:http` (and `node:https`) that carry `limits`. */
export function listenerOptions(limits: ListenerLimits): HttpServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, limits.headersTimeoutMs),
  };
}

/**
 * Applies the rest of `limits` to `server` (made with {@link listenerOptions}): keep-alive and
 * idle timeouts, the connection cap. An error once listening (a failed accept: EMFILE) goes to
 * `onError` instead of ending the process, and with it every other client's service.
 */
export function applyListenerLimits(
  server: HttpServer | HttpsServer,
  limits: ListenerLimits,
  onError: (err: Error) => void,
): void {
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  if (limits.idleTimeoutMs !== undefined) server.setTimeout(limits.idleTimeoutMs);
  if (limits.maxConnections !== undefined) server.maxConnections = limits.maxConnections;
  server.on('error', (err) => {
    if (server.listening) onError(err);
  });
}
