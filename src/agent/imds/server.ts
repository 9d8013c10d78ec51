// The IMDS listener: a plain `node:http` server running the IMDS handler on the configured address.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../core/ports.js';
import { closeServer, httpUrl, type AgentMetrics } from '../metrics.js';
import type { ImdsBackend } from './backend.js';
import { createImdsHandler, type ImdsLogger } from './handler.js';
import type { ImdsRateLimit } from './throttle.js';

/** Options of {@link createImdsServer}; `host`, `port`, `rateLimit` are `agent.imds.*`. */
export interface ImdsServerOptions {
  readonly backend: ImdsBackend;
  /** `169.254.169.254` in production, a loopback address in development and tests. */
  readonly host: string;
  /** 80 in production; 0 picks a free port. */
  readonly port: number;
  readonly rateLimit: ImdsRateLimit;
  readonly metrics?:
    | (Pick<AgentMetrics, 'imdsRequest' | 'imdsThrottled'> &
        Partial<Pick<AgentMetrics, 'legacyRequest'>>)
    | undefined;
  /** The time source of `expires_in` and the throttle; the system clock when absent. */
  readonly clock?: Clock | undefined;
  /** Where internal failures are reported (never a token, never per request on success). */
  readonly logger?: ImdsLogger | undefined;
}

/** A running IMDS listener. */
export interface ImdsServer {
  /** `http://host:port` with the bound port: what `AZURE_POD_IDENTITY_AUTHORITY_HOST` takes. */
  readonly url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Starts serving IMDS (see `createImdsHandler` for the routes and the order of checks) and
 * resolves once listening; rejects when the address cannot be bound. Connections are kept alive
 * (Node's default), as the SDKs reuse them.
 */
export async function createImdsServer(options: ImdsServerOptions): Promise<ImdsServer> {
  const server = createServer(
    createImdsHandler({
      backend: options.backend,
      rateLimit: options.rateLimit,
      metrics: options.metrics,
      clock: options.clock,
      logger: options.logger,
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { url: httpUrl(options.host, port), close: () => closeServer(server) };
}
