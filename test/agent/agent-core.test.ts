// The agent's core against a real server: registration, VM sync, identity tokens, detach, outage and recovery.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../src/agent/agent.js';
import { systemAgentClock } from '../../src/agent/clock.js';
import { newKeyAndCsr } from '../../src/agent/host-identity.js';
import { createImdsServer } from '../../src/agent/imds/server.js';
import { createServerClient } from '../../src/agent/server-client.js';
import { loadConfig, type TesseraConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/config/logger.js';
import type { Store } from '../../src/core/ports.js';
import { freePort, type RunningServer, startServer } from '../../src/server/runtime.js';
import { openStore } from '../../src/store/index.js';
import type { AgentVm, CreatedHost } from '../../src/wire/agent-api.js';
import { TEST_MASTER_KEY } from '../fixtures/keys.js';
import { administratorToken } from '../fixtures/admin.js';
import { imds, NO_LIMIT, tokenPath } from './imds-harness.js';

const VM_V = 'api-version=2024-07-01';
const UAI_V = 'api-version=2023-01-31';
const ARM_RESOURCE = 'https://management.azure.com/';
const VAULT_RESOURCE = 'https://vault.azure.net';
const logger = createLogger({ level: 'silent' });
const agentLogger = createLogger({
  level: (process.env.AGENT_LOG as 'debug' | undefined) ?? 'silent',
});

/** Polls `probe` every 10 ms until it returns a value other than undefined, or fails after `ms`. */
async function until<T>(what: string, probe: () => T | undefined, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('agent core against a real server', () => {
  let dir: string;
  let config: TesseraConfig;
  let store: Store | undefined;
  let server: RunningServer | undefined;
  let admin: string;
  let host: CreatedHost;
  let agent: Agent | undefined;
  let groupPath: string;

  const startTheServer = async (): Promise<RunningServer> => {
    ({ store } = await openStore({
      database: { driver: 'sqlite', file: config.store.sqlite.file },
      masterKey: TEST_MASTER_KEY,
    }));
    server = await startServer({ config, store, logger });
    return server;
  };
  const stopTheServer = async (): Promise<void> => {
    await server?.close();
    server = undefined;
    await store?.close();
    store = undefined;
  };
  const running = (): RunningServer => {
    if (server === undefined) throw new Error('the server is not running');
    return server;
  };
  const arm = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${running().url}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>,
    };
  };
  const vmPath = (name: string) =>
    `${groupPath}/providers/Microsoft.Compute/virtualMachines/${name}`;
  const theAgent = (): Agent => {
    if (agent === undefined) throw new Error('no agent');
    return agent;
  };
  const vmAt = (address: string): AgentVm | undefined => theAgent().backend.vmFor(address);
  const heldKeys = (): string[] =>
    theAgent()
      .certificateExpiries()
      .filter((c) => c.kind === 'identity')
      .map((c) => c.id);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-agent-core-'));
    const port = await freePort('127.0.0.1');
    config = loadConfig({
      env: {},
      cwd: dir,
      flags: { 'server.port': port, 'server.host': '127.0.0.1' },
    });
    const started = await startTheServer();
    admin = await administratorToken(started, store as Store, dir);
    groupPath = `/subscriptions/${started.subscriptionId}/resourceGroups/agents`;
    expect(
      (await arm('PUT', `${groupPath}?api-version=2021-04-01`, { location: 'westeurope' })).status,
    ).toBe(201);
  });

  afterAll(async () => {
    try {
      await agent?.stop();
    } finally {
      try {
        await stopTheServer();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  });

  it('registers with a join token that then no longer works', async () => {
    const operator = createServerClient({ serverUrl: running().url, clock: systemAgentClock });
    host = await operator.createHost('host-a', admin);
    expect(host.name).toBe('host-a');
    agent = createAgent({
      serverUrl: running().url,
      joinToken: host.joinToken,
      stateDir: join(dir, 'agent'),
      logger: agentLogger,
      sealKeys: true,
    });
    await theAgent().start();
    await theAgent().synced();
    expect(theAgent().status()).toMatchObject({
      hostId: host.id,
      hostName: 'host-a',
      connected: true,
    });

    const { csr } = await newKeyAndCsr('again');
    await expect(operator.register({ joinToken: host.joinToken, csr })).rejects.toMatchObject({
      status: 401,
    });
    operator.close();
  });

  it('sees a VM placed through ARM within a second, and gets a token for its system identity', async () => {
    const placedAt = Date.now();
    const created = await arm('PUT', `${vmPath('vm1')}?${VM_V}`, {
      location: 'westeurope',
      identity: { type: 'SystemAssigned' },
      properties: { tessera: { hostId: host.id, privateIpAddresses: ['10.9.0.4'] } },
    });
    expect(created.status).toBe(201);
    const vm = await until('the VM on the host', () => vmAt('::ffff:10.9.0.4'), 1_000);
    expect(Date.now() - placedAt).toBeLessThan(1_000);
    const principalId = (created.body.identity as { principalId: string }).principalId;
    const system = vm.identities.find((i) => i.kind === 'SystemAssigned');
    expect(system?.principalId).toBe(principalId);

    const token = await theAgent().backend.token(vm, system!, ARM_RESOURCE, { bypassCache: false });
    const tenantId = running().tenant.id;
    const jwks = (await (await fetch(`${running().url}/${tenantId}/discovery/keys`)).json()) as {
      keys: [];
    };
    const { payload } = await jwtVerify(token.accessToken, createLocalJWKSet(jwks), {
      audience: ARM_RESOURCE,
    });
    expect(payload).toMatchObject({ oid: principalId, appid: system!.clientId, tid: tenantId });
    expect(String(payload.xms_mirid).toLowerCase()).toBe(vm.id.toLowerCase());
    expect(token.clientId).toBe(system!.clientId);
    // Served from the cache now: the very same object.
    expect(await theAgent().backend.token(vm, system!, ARM_RESOURCE, { bypassCache: false })).toBe(
      token,
    );
  });

  it('reports callers IMDS refused to the server, which writes them to its audit log', async () => {
    theAgent().backend.refused?.('10.9.9.9', 'no VM has this address');
    theAgent().backend.refused?.('10.9.9.9', 'no VM has this address');
    const found = async () =>
      (await store!.audit.list({ outcome: 'refused' }, { limit: 100 })).items.find(
        (e) => e.kind === 'imds.refused' && e.details.address === '10.9.9.9',
      );
    const deadline = Date.now() + 5_000;
    let event = await found();
    while (event === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      event = await found();
    }
    expect(event).toMatchObject({
      hostId: host.id,
      reason: 'no VM has this address',
      details: { count: 2 },
    });
  });

  it('gets a token for a user-assigned identity once attached, and drops its key once detached', async () => {
    const uai = await arm(
      'PUT',
      `${groupPath}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai1?${UAI_V}`,
      { location: 'westeurope' },
    );
    expect(uai.status).toBe(201);
    const uaiId = uai.body.id as string;
    const uaiProps = uai.body.properties as { principalId: string; clientId: string };
    const attached = await arm('PATCH', `${vmPath('vm1')}?${VM_V}`, {
      identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uaiId]: {} } },
    });
    expect(attached.status).toBe(200);
    const vm = await until('the UAI on the VM', () => {
      const found = vmAt('10.9.0.4');
      return found?.identities.some((i) => i.principalId === uaiProps.principalId) === true
        ? found
        : undefined;
    });
    const identity = vm.identities.find((i) => i.principalId === uaiProps.principalId)!;
    const token = await theAgent().backend.token(vm, identity, VAULT_RESOURCE, {
      bypassCache: false,
    });
    const { payload } = await jwtVerify(
      token.accessToken,
      createLocalJWKSet(
        (await (await fetch(`${running().url}/${identity.tenantId}/discovery/keys`)).json()) as {
          keys: [];
        },
      ),
      { audience: VAULT_RESOURCE },
    );
    expect(payload).toMatchObject({ oid: uaiProps.principalId, appid: uaiProps.clientId });
    expect(String(payload.xms_mirid).toLowerCase()).toBe(uaiId.toLowerCase());
    expect(heldKeys()).toContain(uaiProps.principalId);

    const detached = await arm('PATCH', `${vmPath('vm1')}?${VM_V}`, {
      identity: { type: 'SystemAssigned' },
    });
    expect(detached.status).toBe(200);
    await until('the UAI key dropped', () =>
      heldKeys().includes(uaiProps.principalId) ? undefined : true,
    );
    expect(vmAt('10.9.0.4')?.identities.map((i) => i.kind)).toEqual(['SystemAssigned']);
    // A caller still holding the old identity gets no token: the cache was dropped with the change.
    await expect(
      theAgent().backend.token(vm, identity, VAULT_RESOURCE, { bypassCache: false }),
    ).rejects.toMatchObject({ code: 'IdentityNotFound' });
  });

  it('serves cached tokens while the server is down, refuses misses with a retryable 503, and recovers', async () => {
    const vm = await until('the VM', () => vmAt('10.9.0.4'));
    const system = vm.identities[0]!;
    const cached = await theAgent().backend.token(vm, system, ARM_RESOURCE, { bypassCache: false });

    await stopTheServer();
    expect(await theAgent().backend.token(vm, system, ARM_RESOURCE, { bypassCache: false })).toBe(
      cached,
    );
    await expect(
      theAgent().backend.token(vm, system, VAULT_RESOURCE, { bypassCache: false }),
    ).rejects.toMatchObject({ code: 'ServiceUnavailable', status: 503, retryAfterSeconds: 5 });
    await until('the sync to notice', () => (theAgent().status().connected ? undefined : true));
    expect(vmAt('10.9.0.4')).toBeDefined();

    // The same data directory and port: the agent reconnects by itself.
    await startTheServer();
    await until(
      'the sync to reconnect',
      () => (theAgent().status().connected ? true : undefined),
      20_000,
    );
    const fresh = await theAgent().backend.token(vm, system, VAULT_RESOURCE, {
      bypassCache: false,
    });
    expect(fresh.resource).toBe(VAULT_RESOURCE);
    const placed = await arm('PUT', `${vmPath('vm2')}?${VM_V}`, {
      location: 'westeurope',
      properties: { tessera: { hostId: host.id, privateIpAddresses: ['10.9.0.5'] } },
    });
    expect(placed.status).toBe(201);
    await until('the new VM', () => vmAt('10.9.0.5'), 2_000);
  });

  it('restarted during an outage, serves from its sealed keys, VM map and tokens, then catches up', async () => {
    const vm = await until('the VM', () => vmAt('10.9.0.4'));
    const system = vm.identities[0]!;
    const cached = await theAgent().backend.token(vm, system, ARM_RESOURCE, { bypassCache: false });
    const keyExpiry = theAgent()
      .certificateExpiries()
      .find((c) => c.id === system.principalId);
    expect(keyExpiry).toBeDefined();

    const serverUrl = running().url;
    await stopTheServer();
    await theAgent().stop();
    agent = createAgent({
      serverUrl,
      stateDir: join(dir, 'agent'),
      logger: agentLogger,
      sealKeys: true,
    });
    await theAgent().start(); // no join token, no server
    const restored = vmAt('10.9.0.4');
    expect(restored?.id).toBe(vm.id);
    const served = await theAgent().backend.token(
      restored!,
      restored!.identities[0]!,
      ARM_RESOURCE,
      {
        bypassCache: false,
      },
    );
    expect(served.accessToken).toBe(cached.accessToken);
    expect(theAgent().certificateExpiries()).toContainEqual(keyExpiry);
    await expect(
      theAgent().backend.token(restored!, restored!.identities[0]!, 'https://storage.azure.com/', {
        bypassCache: false,
      }),
    ).rejects.toMatchObject({ code: 'ServiceUnavailable', status: 503 });

    await startTheServer();
    await theAgent().synced();
    const later = await theAgent().backend.token(
      restored!,
      restored!.identities[0]!,
      'https://storage.azure.com/',
      { bypassCache: false },
    );
    expect(later.resource).toBe('https://storage.azure.com/');
    // The sealed key was good: no new certificate was needed.
    expect(theAgent().certificateExpiries()).toContainEqual(keyExpiry);
    expect(vmAt('10.9.0.5')).toBeDefined();
  });

  it('hands IMDS the Entra refusal of a disabled identity, whether its key was certified before or not', async () => {
    const uai = await arm(
      'PUT',
      `${groupPath}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-off?${UAI_V}`,
      { location: 'westeurope' },
    );
    expect(uai.status).toBe(201);
    const late = uai.body.properties as { principalId: string; clientId: string };
    const created = await arm('PUT', `${vmPath('vm-off')}?${VM_V}`, {
      location: 'westeurope',
      identity: { type: 'SystemAssigned' },
      properties: { tessera: { hostId: host.id, privateIpAddresses: ['127.0.0.1'] } },
    });
    expect(created.status).toBe(201);
    const early = created.body.identity as { principalId: string };
    const vm = await until('the VM on the host', () => vmAt('127.0.0.1'));
    await until('its key', () => (heldKeys().includes(early.principalId) ? true : undefined));
    // Tessera has no API that disables a principal (Azure: `az ad sp update --set
    // accountEnabled=false`); an operator does it in the store.
    for (const principalId of [early.principalId, late.principalId]) {
      expect(
        await store!.principals.update(principalId, { enabled: false }, Date.now()),
      ).toBeDefined();
    }
    const attached = await arm('PATCH', `${vmPath('vm-off')}?${VM_V}`, {
      identity: {
        type: 'SystemAssigned, UserAssigned',
        userAssignedIdentities: { [uai.body.id as string]: {} },
      },
    });
    expect(attached.status).toBe(200);
    await until('the UAI on the VM', () =>
      vmAt('127.0.0.1')?.identities.some((i) => i.principalId === late.principalId) === true
        ? true
        : undefined,
    );

    const imdsServer = await createImdsServer({
      backend: theAgent().backend,
      host: '127.0.0.1',
      port: 0,
      rateLimit: NO_LIMIT,
    });
    try {
      for (const [clientId, name] of [
        [vm.identities[0]!.clientId, 'vm-off'],
        [late.clientId, 'uai-off'],
      ] as const) {
        const refused = await imds(imdsServer.url, tokenPath(`&client_id=${clientId}`));
        expect({ status: refused.status, body: JSON.parse(refused.text) as unknown }).toEqual({
          status: 400,
          body: {
            error: 'unauthorized_client',
            error_description: `AADSTS7000112: Application '${clientId}'(${name}) is disabled.`,
          },
        });
      }
    } finally {
      await imdsServer.close();
    }
  });
});
