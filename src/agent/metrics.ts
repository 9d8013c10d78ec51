// The agent's Prometheus metrics and the admin listener that serves them at `/metrics`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The IMDS routes requests are counted by. */
export type ImdsRouteLabel =
  'token' | 'info' | 'instance' | 'versions' | 'attested' | 'probe' | 'other';

/** Which certificate an expiry belongs to. */
export type CertificateKind = 'host' | 'identity';

/** A server URL (replica) the agent may call, as the metrics show it. */
export interface ServerReplicaSample {
  /** No user name or password. */
  readonly url: string;
  /** False while it is skipped after a failure. */
  readonly live: boolean;
  /** True for the one in use. */
  readonly current: boolean;
}

/**
 * The agent's metrics. The IMDS surface calls `imdsRequest`, `imdsThrottled` and
 * `imdsConnectionRefused`; the token cache calls `cacheLookup` and `observeUpstream`; key
 * handling calls `setCertificateExpiry`.
 * Every hook is cheap enough for the hot path and never throws.
 */
export interface AgentMetrics {
  readonly registry: Registry;
  /** One IMDS response sent, by route and status. */
  imdsRequest(route: ImdsRouteLabel, status: number): void;
  /** One IMDS request refused with 429. */
  imdsThrottled(category: 'identity' | 'other'): void;
  /**
   * One connection to IMDS closed unread: its source address already had `perAddress` open
   * (`address`), or the process had `max` (`total`); see `agent.imds.connections`.
   */
  imdsConnectionRefused(reason: 'address' | 'total'): void;
  /** One token-cache lookup. */
  cacheLookup(hit: boolean): void;
  /** The duration of one request to the server (token, certificate, sync), in seconds. */
  observeUpstream(seconds: number, outcome: 'ok' | 'error'): void;
  /** When a certificate expires (unix seconds), e.g. per identity client id or the host's. */
  setCertificateExpiry(kind: CertificateKind, id: string, notAfterSeconds: number): void;
  /** Forgets a certificate (its identity was detached). */
  clearCertificateExpiry(kind: CertificateKind, id: string): void;
  /**
   * One IMDS token request forwarded by the legacy extension shim inside VM `vmId` (its ARM id),
   * so operators can see which VMs still call `localhost:50342` (`tessera extension`).
   */
  legacyRequest(vmId: string): void;
  /** Where the server URLs' state is read from at each scrape (`tessera_agent_server_replica`). */
  watchReplicas(source: () => readonly ServerReplicaSample[]): void;
  /** The Prometheus text exposition of everything above. */
  render(): Promise<string>;
}

/** Options of {@link createAgentMetrics}. */
export interface AgentMetricsOptions {
  /** Also export Node's process metrics (`process_*`, `nodejs_*`); default true. */
  readonly defaultMetrics?: boolean;
}

/** Counts kept in plain maps on the hot path and handed to prom-client when it is scraped. */
class Tally {
  private readonly counts = new Map<string, Map<number | string, number>>();

  add(a: string, b: number | string): void {
    let inner = this.counts.get(a);
    if (inner === undefined) {
      inner = new Map();
      this.counts.set(a, inner);
    }
    inner.set(b, (inner.get(b) ?? 0) + 1);
  }

  entries(): [string, string, number][] {
    const out: [string, string, number][] = [];
    for (const [a, inner] of this.counts) for (const [b, n] of inner) out.push([a, String(b), n]);
    return out;
  }
}

const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Creates the agent's metrics in a registry of their own (not prom-client's global one). */
export function createAgentMetrics(options: AgentMetricsOptions = {}): AgentMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const requests = new Tally();
  const lookups = new Tally();

  new Counter({
    name: 'tessera_agent_imds_requests_total',
    help: 'IMDS responses sent, by route and HTTP status.',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [route, status, n] of requests.entries()) this.inc({ route, status }, n);
    },
  });
  const throttled = new Counter({
    name: 'tessera_agent_imds_throttled_total',
    help: 'IMDS requests refused with 429, by category (identity or other).',
    labelNames: ['category'] as const,
    registers: [registry],
  });
  const refusedConnections = new Counter({
    name: 'tessera_agent_imds_connections_refused_total',
    help: 'Connections to IMDS closed unread, by the cap that refused them (address or total).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  new Counter({
    name: 'tessera_agent_token_cache_lookups_total',
    help: 'Token cache lookups, by result (hit or miss).',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [result, , n] of lookups.entries()) this.inc({ result }, n);
    },
  });
  const upstream = new Histogram({
    name: 'tessera_agent_upstream_request_duration_seconds',
    help: 'Duration of requests from the agent to the server, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: UPSTREAM_BUCKETS,
    registers: [registry],
  });
  const legacy = new Counter({
    name: 'tessera_agent_imds_legacy_extension_requests_total',
    help: 'IMDS token requests forwarded by the deprecated extension shim (localhost:50342), by VM ARM id.',
    labelNames: ['vm'] as const,
    registers: [registry],
  });
  let replicas: () => readonly ServerReplicaSample[] = () => [];
  new Gauge({
    name: 'tessera_agent_server_replica',
    help: 'The server URLs (replicas) the agent may call: 1 when usable, 0 while skipped after a failure; current="true" for the one in use.',
    labelNames: ['url', 'current'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of replicas()) this.set({ url: r.url, current: String(r.current) }, +r.live);
    },
  });
  const expiry = new Gauge({
    name: 'tessera_agent_certificate_expiry_timestamp_seconds',
    help: 'When a certificate the agent holds expires (unix seconds), by kind and id.',
    labelNames: ['kind', 'id'] as const,
    registers: [registry],
  });

  return {
    registry,
    imdsRequest: (route, status) => {
      requests.add(route, status);
    },
    imdsThrottled: (category) => {
      throttled.inc({ category });
    },
    imdsConnectionRefused: (reason) => {
      refusedConnections.inc({ reason });
    },
    cacheLookup: (hit) => {
      lookups.add(hit ? 'hit' : 'miss', 0);
    },
    observeUpstream: (seconds, outcome) => {
      if (Number.isFinite(seconds) && seconds >= 0) upstream.observe({ outcome }, seconds);
    },
    setCertificateExpiry: (kind, id, notAfterSeconds) => {
      if (Number.isFinite(notAfterSeconds)) expiry.set({ kind, id }, notAfterSeconds);
    },
    clearCertificateExpiry: (kind, id) => {
      expiry.remove({ kind, id });
    },
    legacyRequest: (vmId) => {
      legacy.inc({ vm: vmId });
    },
    watchReplicas: (source) => {
      replicas = source;
    },
    render: () => registry.metrics(),
  };
}

/** Options of {@link createMetricsServer}: `agent.metrics.host` / `agent.metrics.port`. */
export interface MetricsServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly metrics: AgentMetrics;
}

/** A running admin listener. */
export interface MetricsServer {
  /** `http://host:port`, the port being the one bound. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text format 0.0.4) on its own listener, apart from IMDS so
 * that VMs never reach it. Other paths answer 404, other methods 405.
 */
export async function createMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { metrics } = options;
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' })
        .end('Method not allowed\n');
      return;
    }
    metrics.render().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text);
      },
      () => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Error\n');
      },
    );
  };
  const server = createServer(handle);
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
    close: () => closeServer(server),
  };
}

/** `http://host:port`, with IPv6 literals in brackets. */
export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${String(port)}`;
}

/** Stops listening and ends kept-alive connections, so `close` does not wait for clients. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => {
      if (err === undefined) resolve();
      else reject(err);
    });
    server.closeAllConnections();
  });
}
