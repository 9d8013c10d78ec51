// End to end: the server in its own process is killed and restarted under a running agent; IMDS
// keeps serving cached tokens, refuses misses with a retryable 503, and recovers by itself.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentRuntime, startAgentRuntime } from '../../src/agent/runtime.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/config/logger.js';
import { freePort } from '../../src/server/runtime.js';
import { AGENT_API_PREFIX, type CreatedHost } from '../../src/wire/agent-api.js';
import {
  killServerProcesses,
  type ServerChildReady,
  type ServerProcess,
  startServerProcess,
} from './server-process.js';

const MANAGEMENT = 'https://management.azure.com/';
const VAULT = 'https://vault.azure.net';
/** Asked for only while the server is down. */
const STORAGE = 'https://storage.azure.com/';
/** How long the agent may take to serve a new token once the server answers again. */
const RECOVERY_DEADLINE_MS = 5_000;
/** How long its VM sync may take to reconnect: its backoff grows to 10 s, plus 50% jitter. */
const SYNC_RECONNECT_MS = 20_000;

/** One IMDS answer. */
interface ImdsAnswer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: Record<string, string>;
  /** Milliseconds from sending the request to the end of the answer. */
  readonly ms: number;
}

/** `GET /metadata/identity/oauth2/token` for `resource` from 127.0.0.1, with `Metadata: true`. */
function imdsToken(imdsUrl: string, resource: string): Promise<ImdsAnswer> {
  const url = new URL(imdsUrl);
  const query = new URLSearchParams({ 'api-version': '2018-02-01', resource });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `/metadata/identity/oauth2/token?${query.toString()}`,
        headers: { Metadata: 'true' },
        localAddress: '127.0.0.1',
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const retryAfter = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            retryAfter,
            body: JSON.parse(text) as Record<string, string>,
            ms: performance.now() - started,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Checks a 200 token answer: IMDS's shape, every value a string. */
function expectToken(answer: ImdsAnswer, resource: string): Record<string, string> {
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ resource, token_type: 'Bearer' });
  for (const value of Object.values(answer.body)) expect(typeof value).toBe('string');
  return answer.body;
}

/** Checks a retryable refusal: 503 (which the SDKs retry), Retry-After, IMDS's error body. */
function expectUnavailable(answer: ImdsAnswer): void {
  expect(answer.status).toBe(503);
  expect(answer.retryAfter).toMatch(/^[1-9]\d*$/);
  expect(answer.body).toEqual({
    error: 'service_unavailable',
    error_description: expect.any(String) as string,
  });
}

describe('outage: the server process killed and restarted under a running agent', () => {
  let serverDir: string | undefined;
  let agentDir: string | undefined;
  let port: number;
  let server: ServerProcess | undefined;
  let ready: ServerChildReady;
  let runtime: AgentRuntime | undefined;
  let principalId: string;
  const before = new Map<string, Record<string, string>>();

  const agent = (): AgentRuntime => {
    if (runtime === undefined) throw new Error('the agent did not start');
    return runtime;
  };

  beforeAll(async () => {
    serverDir = await mkdtemp(join(tmpdir(), 'tessera-e2e-server-'));
    agentDir = await mkdtemp(join(tmpdir(), 'tessera-e2e-agent-'));
    port = await freePort('127.0.0.1');
    server = await startServerProcess(serverDir, port);
    ready = server.ready;

    const secret = (await readFile(ready.adminSecretFile, 'utf8')).trim();
    const login = await fetch(`${ready.url}/${ready.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: ready.adminAppId,
        client_secret: secret,
        scope: 'https://management.azure.com/.default',
      }).toString(),
    });
    const admin = ((await login.json()) as { access_token: string }).access_token;
    const arm = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${ready.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${admin}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    const host = await arm('PUT', `${AGENT_API_PREFIX}/hosts/e2e-host`);
    expect(host.status).toBe(201);
    const { id: hostId, joinToken } = host.body as unknown as CreatedHost;
    runtime = await startAgentRuntime({
      config: loadConfig({
        env: {},
        cwd: agentDir,
        flags: { dataDir: agentDir, 'agent.imds.port': 0 },
      }),
      logger: createLogger({ level: 'silent' }),
      serverUrl: ready.url,
      joinToken,
      metrics: false,
    });

    const group = `/subscriptions/${ready.subscriptionId}/resourceGroups/e2e`;
    expect(
      (await arm('PUT', `${group}?api-version=2021-04-01`, { location: 'westeurope' })).status,
    ).toBe(201);
    const vm = await arm(
      'PUT',
      `${group}/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2024-07-01`,
      {
        location: 'westeurope',
        identity: { type: 'SystemAssigned' },
        properties: { tessera: { hostId, privateIpAddresses: ['127.0.0.1'] } },
      },
    );
    expect(vm.status).toBe(201);
    principalId = (vm.body.identity as { principalId: string }).principalId;
    const deadline = Date.now() + 5_000;
    while (agent().agent.backend.vmFor('127.0.0.1') === undefined) {
      if (Date.now() > deadline) throw new Error('the agent never saw the VM');
      await sleep(20);
    }
  }, 60_000);

  afterAll(async () => {
    try {
      await killServerProcesses();
      await runtime?.close();
    } finally {
      for (const dir of [serverDir, agentDir]) {
        if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      }
    }
  });

  it('serves tokens for two resources while the server is up', async () => {
    for (const resource of [MANAGEMENT, VAULT]) {
      before.set(resource, expectToken(await imdsToken(agent().imdsUrl, resource), resource));
    }
  });

  it('with the server killed, serves the cached tokens: the same token, expires_in counting down', async () => {
    await server?.kill();
    await expect(fetch(`${ready.url}/${ready.tenantId}/discovery/keys`)).rejects.toThrow();
    // expires_in is whole seconds: let at least one pass.
    await sleep(1_100);
    for (const resource of [MANAGEMENT, VAULT]) {
      const cached = before.get(resource)!;
      const body = expectToken(await imdsToken(agent().imdsUrl, resource), resource);
      expect(body.access_token).toBe(cached.access_token);
      expect(body.expires_on).toBe(cached.expires_on);
      expect(Number(body.expires_in)).toBeLessThan(Number(cached.expires_in));
      expect(Number(body.expires_in)).toBeGreaterThan(0);
    }
  });

  it('refuses a resource that is not cached with a retryable 503 and Retry-After, at once', async () => {
    const answer = await imdsToken(agent().imdsUrl, STORAGE);
    expectUnavailable(answer);
    expect(answer.ms).toBeLessThan(2_000);
    // Never a wrong answer: asked again, the same refusal.
    expectUnavailable(await imdsToken(agent().imdsUrl, STORAGE));
  });

  it('restarted on the same data directory and port, serves the new resource again without an agent restart', async () => {
    server = await startServerProcess(serverDir!, port);
    expect(server.ready.url).toBe(ready.url);
    const up = Date.now();
    const deadline = up + RECOVERY_DEADLINE_MS;
    let answer = await imdsToken(agent().imdsUrl, STORAGE);
    while (answer.status !== 200 && Date.now() < deadline) {
      // Until the agent gets through, every answer is the retryable refusal.
      expectUnavailable(answer);
      await sleep(100);
      answer = await imdsToken(agent().imdsUrl, STORAGE);
    }
    const body = expectToken(answer, STORAGE);
    const jwks = createRemoteJWKSet(new URL(`${ready.url}/${ready.tenantId}/discovery/keys`));
    const { payload } = await jwtVerify(body.access_token!, jwks, {
      audience: STORAGE,
      issuer: ready.issuer,
    });
    expect(payload.oid).toBe(principalId);
    // The tokens cached before the outage are still the ones served.
    const management = expectToken(await imdsToken(agent().imdsUrl, MANAGEMENT), MANAGEMENT);
    expect(management.access_token).toBe(before.get(MANAGEMENT)!.access_token);
    // And the VM sync reconnects by itself.
    while (!agent().agent.status().connected) {
      if (Date.now() > up + SYNC_RECONNECT_MS) throw new Error('the VM sync did not reconnect');
      await sleep(50);
    }
  });
});
