// Two `tessera server` replicas on one PostgreSQL and an agent given both: the agent survives a SIGKILL of the one it uses and comes back to it.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/server/runtime.js';
import { closeAll } from '../compat/tessera-cli.js';
import { armCaller, type ArmReply } from '../compat/processes.js';
import { httpRequest, imdsToken, until } from '../compat/imds-probe.js';
import { adminTokenFromFile } from '../fixtures/admin.js';
import { postgresUrl } from '../store/targets.js';
import {
  dropSchema,
  type FailoverAgent,
  type Installation,
  type ServerReplica,
  startAgent,
  startReplica,
} from './replicas.js';

const MANAGEMENT = 'https://management.azure.com/';
/** The VM's address: what the agent knows its calls by. */
const VM_ADDRESS = '127.0.0.2';
/** Uncached tokens must be served again this soon after the replica in use is killed. */
const RESUME_DEADLINE_MS = 5_000;
/** A write through ARM must reach the agent this soon. */
const SYNC_DEADLINE_MS = 5_000;
/** A restarted replica is used again once its back-off (at most 30 s, +50% jitter) is over. */
const RETURN_DEADLINE_MS = 60_000;

const pgUrl = postgresUrl();

/** One IMDS token answer for the VM: status and body. */
async function uncachedToken(
  imdsUrl: string,
  selector: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const query = new URLSearchParams({
    'api-version': '2018-02-01',
    resource: MANAGEMENT,
    bypass_cache: 'true',
    ...selector,
  });
  const answer = await httpRequest(
    `${imdsUrl}/metadata/identity/oauth2/token?${query.toString()}`,
    {
      from: VM_ADDRESS,
      headers: { Metadata: 'true' },
    },
  );
  return { status: answer.status, body: JSON.parse(answer.text) as Record<string, unknown> };
}

/** The `tessera_agent_server_replica` samples: URL -> [usable, current]. */
async function replicaGauge(metricsUrl: string): Promise<Map<string, [number, boolean]>> {
  const text = await (await fetch(metricsUrl)).text();
  const samples = new Map<string, [number, boolean]>();
  const line = /^tessera_agent_server_replica\{url="([^"]+)",current="(true|false)"\} (\d)$/gm;
  for (const [, url = '', current, value] of text.matchAll(line)) {
    samples.set(url, [Number(value), current === 'true']);
  }
  return samples;
}

/** The answer when it is 200 or 201; fails with it otherwise. */
function ok(reply: ArmReply, what: string): Record<string, unknown> {
  if (reply.status !== 200 && reply.status !== 201) {
    throw new Error(`${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
  }
  return reply.body as Record<string, unknown>;
}

describe.skipIf(pgUrl === undefined)('an agent given two server replicas', () => {
  const cleanups: (() => Promise<void>)[] = [];
  const installation: Installation = {
    postgresUrl: pgUrl ?? '',
    schema: `tessera_failover_${process.pid}_${randomBytes(4).toString('hex')}`,
    masterKey: randomBytes(32).toString('base64'),
    publicUrl: 'http://tessera-failover.test:8443',
  };
  let a: ServerReplica;
  let b: ServerReplica;
  let agent: FailoverAgent;
  let vmPath: string;
  let principalId: string;
  let arm: {
    a: (method: string, path: string, body?: unknown) => Promise<ArmReply>;
    b: (method: string, path: string, body?: unknown) => Promise<ArmReply>;
  };

  beforeAll(async () => {
    cleanups.push(() => dropSchema(installation.postgresUrl, installation.schema));
    a = await startReplica(installation, await freePort('127.0.0.1'), cleanups);
    b = await startReplica(installation, await freePort('127.0.0.1'), cleanups);
    expect(b.tenantId).toBe(a.tenantId);
    const token = await adminTokenFromFile(a.url, join(a.dataDir, 'admin.json'));
    arm = { a: armCaller(a.url, token), b: armCaller(b.url, token) };
    const host = ok(await arm.a('PUT', '/agent/v1/hosts/failover-host'), 'host') as {
      id: string;
      joinToken: string;
    };
    agent = await startAgent([a.url, b.url], host.joinToken, cleanups);
    const group = `/subscriptions/${a.subscriptionId}/resourceGroups/failover`;
    ok(await arm.a('PUT', `${group}?api-version=2021-04-01`, { location: 'westeurope' }), 'group');
    vmPath = `${group}/providers/Microsoft.Compute/virtualMachines/vm1`;
    const vm = ok(
      await arm.a('PUT', `${vmPath}?api-version=2024-07-01`, {
        location: 'westeurope',
        identity: { type: 'SystemAssigned' },
        properties: { tessera: { hostId: host.id, privateIpAddresses: [VM_ADDRESS] } },
      }),
      'VM',
    ) as { identity: { principalId: string } };
    principalId = vm.identity.principalId;
    await imdsToken(agent.imdsUrl, { from: VM_ADDRESS, resource: MANAGEMENT });
  }, 180_000);

  afterAll(async () => {
    await closeAll(...cleanups.splice(0).reverse());
  }, 60_000);

  it('uses the first replica while both answer', async () => {
    const served = await uncachedToken(agent.imdsUrl);
    expect(served.status).toBe(200);
    expect(decodeJwt(String(served.body.access_token)).oid).toBe(principalId);
    expect(await replicaGauge(agent.metricsUrl)).toEqual(
      new Map([
        [a.url, [1, true]],
        [b.url, [1, false]],
      ]),
    );
  });

  it('serves uncached tokens again within 5 s of a SIGKILL of that replica, and syncs from the other', async () => {
    await a.kill();
    const killed = performance.now();
    const answers: number[] = [];
    const served = await until(
      'an uncached token after the kill',
      async () => {
        const answer = await uncachedToken(agent.imdsUrl);
        answers.push(answer.status);
        return answer.status === 200 ? answer : undefined;
      },
      RESUME_DEADLINE_MS,
    );
    const resumedMs = performance.now() - killed;
    console.log(
      `failover: uncached token served ${resumedMs.toFixed(0)} ms after the SIGKILL (answers ${answers.join(',')})`,
    );
    expect(resumedMs).toBeLessThan(RESUME_DEADLINE_MS);
    expect(decodeJwt(String(served.body.access_token)).oid).toBe(principalId);
    expect(await replicaGauge(agent.metricsUrl)).toEqual(
      new Map([
        [a.url, [0, false]],
        [b.url, [1, true]],
      ]),
    );

    // A change made through ARM on the surviving replica reaches the agent.
    const uai = ok(
      await arm.b(
        'PUT',
        `${vmPath.replace(/\/providers\/.*$/, '')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai1?api-version=2023-01-31`,
        { location: 'westeurope' },
      ),
      'identity',
    ) as { id: string; properties: { clientId: string; principalId: string } };
    const written = performance.now();
    ok(
      await arm.b('PATCH', `${vmPath}?api-version=2024-07-01`, {
        identity: {
          type: 'SystemAssigned, UserAssigned',
          userAssignedIdentities: { [uai.id]: {} },
        },
      }),
      'attach',
    );
    const attached = await until(
      'the identity attached on B to be served',
      async () => {
        const answer = await uncachedToken(agent.imdsUrl, { client_id: uai.properties.clientId });
        return answer.status === 200 ? answer : undefined;
      },
      SYNC_DEADLINE_MS,
    );
    console.log(
      `failover: identity attached through B served ${(performance.now() - written).toFixed(0)} ms after the write`,
    );
    expect(decodeJwt(String(attached.body.access_token)).oid).toBe(uai.properties.principalId);
    expect(agent.process.stdout).toMatch(/"msg":"now using another server URL"/);
  });

  it('uses the first replica again once it is back, and keeps serving when the other is killed', async () => {
    await a.restart();
    const restarted = performance.now();
    await until(
      'the agent to use the restarted replica',
      async () => {
        await uncachedToken(agent.imdsUrl);
        const gauge = await replicaGauge(agent.metricsUrl);
        return gauge.get(a.url)?.[1] === true ? gauge : undefined;
      },
      RETURN_DEADLINE_MS,
    );
    console.log(
      `failover: back on the restarted replica ${(performance.now() - restarted).toFixed(0)} ms after it was ready`,
    );
    await b.kill();
    const served = await until(
      'an uncached token with only the restarted replica',
      async () => {
        const answer = await uncachedToken(agent.imdsUrl);
        return answer.status === 200 ? answer : undefined;
      },
      RESUME_DEADLINE_MS,
    );
    expect(decodeJwt(String(served.body.access_token)).oid).toBe(principalId);
  });
});
