// The agent's metrics endpoint: IMDS requests by route and status, throttling, and the hooks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AZURE_IMDS_RATE_LIMIT } from '../../src/agent/imds/throttle.js';
import {
  createAgentMetrics,
  createMetricsServer,
  type AgentMetrics,
  type MetricsServer,
} from '../../src/agent/metrics.js';
import { imds, startImds, tokenPath, type Harness } from './imds-harness.js';

async function scrape(server: MetricsServer, path = '/metrics'): Promise<Response> {
  return fetch(`${server.url}${path}`);
}

/** The value of one sample line, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('agent metrics', () => {
  let metrics: AgentMetrics;
  let h: Harness;
  let admin: MetricsServer;
  beforeAll(async () => {
    metrics = createAgentMetrics({ defaultMetrics: false });
    h = await startImds({ metrics, rateLimit: AZURE_IMDS_RATE_LIMIT });
    admin = await createMetricsServer({ host: '127.0.0.1', port: 0, metrics });
  });
  afterAll(async () => {
    await h.server.close();
    await admin.close();
  });

  it('counts IMDS requests by route and status, and throttled requests', async () => {
    for (let i = 0; i < 21; i++) await imds(h.server.url, tokenPath());
    await imds(h.server.url, tokenPath(), { bare: true, from: '127.0.0.3' });
    await imds(h.server.url, '/metadata/identity/credential', { method: 'POST' });
    await imds(h.server.url, '/metadata/instance/compute/vmId?api-version=2021-02-01&format=text');
    const response = await scrape(admin);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await response.text();
    expect(sample(text, 'tessera_agent_imds_requests_total{route="token",status="200"}')).toBe(20);
    expect(sample(text, 'tessera_agent_imds_requests_total{route="token",status="429"}')).toBe(1);
    expect(sample(text, 'tessera_agent_imds_requests_total{route="token",status="400"}')).toBe(1);
    expect(sample(text, 'tessera_agent_imds_requests_total{route="probe",status="404"}')).toBe(1);
    expect(sample(text, 'tessera_agent_imds_requests_total{route="instance",status="200"}')).toBe(
      1,
    );
    expect(sample(text, 'tessera_agent_imds_throttled_total{category="identity"}')).toBe(1);
    // Counts survive a second scrape (they are totals, not deltas).
    const again = await (await scrape(admin)).text();
    expect(sample(again, 'tessera_agent_imds_requests_total{route="token",status="200"}')).toBe(20);
  });

  it('exposes the token cache, upstream latency and certificate expiry hooks', async () => {
    metrics.cacheLookup(true);
    metrics.cacheLookup(true);
    metrics.cacheLookup(false);
    metrics.observeUpstream(0.02, 'ok');
    metrics.observeUpstream(3, 'error');
    metrics.setCertificateExpiry('identity', 'c0000000-0000-4000-8000-000000000001', 1_800_000_000);
    metrics.setCertificateExpiry('host', 'host-1', 1_900_000_000);
    const text = await (await scrape(admin)).text();
    expect(sample(text, 'tessera_agent_token_cache_lookups_total{result="hit"}')).toBe(2);
    expect(sample(text, 'tessera_agent_token_cache_lookups_total{result="miss"}')).toBe(1);
    expect(
      sample(
        text,
        'tessera_agent_upstream_request_duration_seconds_bucket{le="0.025",outcome="ok"}',
      ),
    ).toBe(1);
    expect(
      sample(text, 'tessera_agent_upstream_request_duration_seconds_count{outcome="error"}'),
    ).toBe(1);
    expect(
      sample(
        text,
        'tessera_agent_certificate_expiry_timestamp_seconds{kind="identity",id="c0000000-0000-4000-8000-000000000001"}',
      ),
    ).toBe(1_800_000_000);
    metrics.clearCertificateExpiry('identity', 'c0000000-0000-4000-8000-000000000001');
    const after = await (await scrape(admin)).text();
    expect(after).not.toContain('id="c0000000-0000-4000-8000-000000000001"');
    expect(
      sample(after, 'tessera_agent_certificate_expiry_timestamp_seconds{kind="host",id="host-1"}'),
    ).toBe(1_900_000_000);
  });

  it('serves nothing but /metrics', async () => {
    expect((await scrape(admin, '/')).status).toBe(404);
    expect((await fetch(`${admin.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('is not reachable through the IMDS listener', async () => {
    const answer = await imds(h.server.url, '/metrics');
    expect(answer.status).toBe(404);
  });

  it('exports Node process metrics by default', async () => {
    const full = createAgentMetrics();
    expect(await full.render()).toContain('process_cpu_user_seconds_total');
  });
});
