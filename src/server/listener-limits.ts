// Caps and timeouts of the server's HTTP and HTTPS listeners, so no client can hold the process's file descriptors.
import type { Server as HttpServer, ServerOptions as HttpServerOptions } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { connectionBudget, openFileLimit } from '../config/file-limit.js';
import { applyListenerLimits, listenerOptions } from '../config/listener.js';
import type { Logger } from '../config/logger.js';
import type { Clock } from '../core/ports.js';

/**
 * The timeouts of every server listener (docs/compatibility.md, "IMDS connection limits"). A
 * request's headers within 10 s and the whole request (bodies are at most 1 MiB) within 30 s;
 * kept-alive connections idle 5 s (Node's default, which the agent's client expects); a TLS
 * handshake within 10 s; no traffic either way for 120 s closes a connection, which is longer
 * than an agent's long-poll (`VM_SYNC_MAX_WAIT_SECONDS`, 60 s) plus its client's 15 s.
 */
export const SERVER_LISTENER_TIMEOUTS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  tlsHandshakeTimeoutMs: 10_000,
  idleTimeoutMs: 120_000,
} as const;

/**
 * Each listener's share of the file descriptors left after the reserve: the HTTP and HTTPS
 * listeners a quarter each, so with IMDS's half under `tessera up` they never exceed the limit.
 */
export const SERVER_LISTENER_FILE_SHARE = 0.25;
/** The cap never exceeds this per listener, which bounds what idle connections cost in memory. */
export const SERVER_MAX_CONNECTIONS_CEILING = 65_536;

/** At most one log line per this long about connections refused at the cap. */
const DROP_LOG_INTERVAL_MS = 60_000;

/**
 * The options `createServer` of `node:http` takes for a server listener; with `tls`, those of
 * `node:https` (the handshake timeout besides).
 */
export function listenerServerOptions(tls: boolean): HttpServerOptions & {
  handshakeTimeout?: number;
} {
  return {
    ...listenerOptions(SERVER_LISTENER_TIMEOUTS),
    ...(tls ? { handshakeTimeout: SERVER_LISTENER_TIMEOUTS.tlsHandshakeTimeoutMs } : {}),
  };
}

/** The connection cap of one server listener, from the process's open-file limit. */
export function listenerMaxConnections(fileLimit: () => number = openFileLimit): number {
  return connectionBudget(fileLimit(), SERVER_LISTENER_FILE_SHARE, SERVER_MAX_CONNECTIONS_CEILING);
}

/**
 * Applies the keep-alive and idle timeouts and the connection cap to `server` (made with
 * {@link listenerServerOptions}). Over the cap Node closes a new connection unread; the log gets
 * one warning a minute at most. An accept error (EMFILE) is logged instead of ending the process.
 * There is no cap per client address: in production clients arrive through a proxy or a load
 * balancer, which is where a per-client limit belongs.
 */
export function limitListener(
  server: HttpServer | HttpsServer,
  options: { readonly clock: Clock; readonly logger: Logger; readonly max?: number },
): void {
  const { clock, logger } = options;
  const max = options.max ?? listenerMaxConnections();
  applyListenerLimits(server, { ...SERVER_LISTENER_TIMEOUTS, maxConnections: max }, (err) => {
    logger.error({ err }, 'listener error');
  });
  let loggedAt = -Infinity;
  let dropped = 0;
  server.on('drop', () => {
    dropped += 1;
    const now = clock.now();
    if (now - loggedAt < DROP_LOG_INTERVAL_MS) return;
    logger.warn({ refused: dropped, max }, 'connections refused: the listener is at its cap');
    loggedAt = now;
    dropped = 0;
  });
}
