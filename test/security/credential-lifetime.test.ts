// Attack: an identity key taken from a host keeps minting tokens after the identity left that host.
// A real `tessera server`; the test plays a compromised host (it holds the host's key), certifies
// an identity key of its own through the agent API, then uses it at the public token endpoint.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyAndCsr } from '../../src/agent/host-identity.js';
import { systemAgentClock } from '../../src/agent/clock.js';
import { createServerClient, type ServerClient } from '../../src/agent/server-client.js';
import { parseCertificate } from '../../src/core/keys/x509.js';
import { signClientAssertion } from '../fixtures/client-assertion.js';
import { closeStarted, startTesseraServer, type TesseraServer } from '../compat/processes.js';

const VM_API = 'api-version=2024-07-01';
const MSI_API = 'api-version=2023-01-31';
const GROUP = 'attack-rg';

/** A host the attacker controls: registered, its key in hand. */
interface OwnedHost {
  readonly id: string;
  readonly client: ServerClient;
}

/** An identity key the owned host had certified, as the attacker holds it. */
interface StolenKey {
  readonly clientId: string;
  readonly sign: () => Promise<string>;
}

describe('attack: a certified identity key outlives its attachment', () => {
  let server: TesseraServer;
  let hostA: OwnedHost;
  let hostB: OwnedHost;

  beforeAll(async () => {
    server = await startTesseraServer();
    hostA = await ownHost(server, `owned-a-${randomUUID().slice(0, 8)}`);
    hostB = await ownHost(server, `owned-b-${randomUUID().slice(0, 8)}`);
    const group = await server.arm(
      'PUT',
      `${server.subscriptionPath}/resourceGroups/${GROUP}?api-version=2021-04-01`,
      { location: 'westeurope' },
    );
    expect(group.status).toBe(201);
  });
  afterAll(async () => {
    hostA.client.close();
    hostB.client.close();
    await closeStarted();
  });

  /** A user-assigned identity attached to a new VM on `host`; the VM's and identity's ids. */
  async function identityOnVm(host: OwnedHost) {
    const name = `uai-${randomUUID().slice(0, 8)}`;
    const identity = await server.arm(
      'PUT',
      `${server.subscriptionPath}/resourceGroups/${GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}?${MSI_API}`,
      { location: 'westeurope' },
    );
    expect(identity.status).toBe(201);
    const { id, properties } = identity.body as {
      id: string;
      properties: { principalId: string; clientId: string };
    };
    const vmPath = `${server.subscriptionPath}/resourceGroups/${GROUP}/providers/Microsoft.Compute/virtualMachines/vm-${randomUUID().slice(0, 8)}`;
    const vm = await server.arm('PUT', `${vmPath}?${VM_API}`, vmBody(host.id, id));
    expect(vm.status).toBe(201);
    return {
      identityId: id,
      vmPath,
      principalId: properties.principalId,
      clientId: properties.clientId,
    };
  }

  function vmBody(hostId: string, identityId: string | undefined) {
    return {
      location: 'westeurope',
      ...(identityId === undefined
        ? { identity: { type: 'None' } }
        : { identity: { type: 'UserAssigned', userAssignedIdentities: { [identityId]: {} } } }),
      properties: { tessera: { hostId } },
    };
  }

  /** The attacker's key for `principalId`, certified by the server through `host`. */
  async function stealKey(
    host: OwnedHost,
    principalId: string,
    clientId: string,
  ): Promise<StolenKey> {
    const { privateKey, csr } = await newKeyAndCsr(clientId);
    const issued = await host.client.certificate(principalId, { csr });
    const certificate = parseCertificate(issued.certificate);
    return {
      clientId,
      sign: () =>
        signClientAssertion(
          {
            principalId,
            privateKey,
            x5tS256: certificate.sha256,
            certificatePem: issued.certificate,
            notBefore: certificate.notBefore,
            notAfter: certificate.notAfter,
          },
          clientId,
          `${server.url}/${server.tenantId}/oauth2/v2.0/token`,
        ),
    };
  }

  /** `POST /{tenant}/oauth2/v2.0/token` with the stolen key: the status and OAuth body. */
  async function tokenWith(key: StolenKey) {
    const response = await fetch(`${server.url}/${server.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: key.clientId,
        scope: 'https://management.azure.com/.default',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await key.sign(),
      }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** Asserts the token endpoint refuses `key` as Entra refuses a revoked key, within a second. */
  async function expectRefusedWithinOneSecond(key: StolenKey, since: number) {
    const refused = await tokenWith(key);
    expect(Date.now() - since).toBeLessThan(1_000);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'invalid_client', error_codes: [700027] });
    expect(String(refused.body.error_description)).toMatch(/^AADSTS700027: .*The key was revoked/);
  }

  it('a detached identity’s key is refused at the token endpoint at once', async () => {
    const { vmPath, principalId, clientId } = await identityOnVm(hostA);
    const key = await stealKey(hostA, principalId, clientId);
    expect((await tokenWith(key)).status).toBe(200);

    const since = Date.now();
    const detached = await server.arm('PUT', `${vmPath}?${VM_API}`, vmBody(hostA.id, undefined));
    expect(detached.status).toBe(200);
    await expectRefusedWithinOneSecond(key, since);
    // The pair cannot be certified again either.
    await expect(
      newKeyAndCsr(clientId).then(({ csr }) => hostA.client.certificate(principalId, { csr })),
    ).rejects.toMatchObject({ status: 403 });
  });

  it('a deleted VM’s identity key is refused', async () => {
    const { vmPath, principalId, clientId } = await identityOnVm(hostA);
    const key = await stealKey(hostA, principalId, clientId);
    expect((await tokenWith(key)).status).toBe(200);
    const since = Date.now();
    expect((await server.arm('DELETE', `${vmPath}?${VM_API}`)).status).toBe(200);
    await expectRefusedWithinOneSecond(key, since);
  });

  it('the old host’s key is refused once the VM moves, the new host’s works', async () => {
    const { vmPath, identityId, principalId, clientId } = await identityOnVm(hostA);
    const onA = await stealKey(hostA, principalId, clientId);
    const since = Date.now();
    const moved = await server.arm('PUT', `${vmPath}?${VM_API}`, vmBody(hostB.id, identityId));
    expect(moved.status).toBe(200);
    await expectRefusedWithinOneSecond(onA, since);
    const onB = await stealKey(hostB, principalId, clientId);
    expect((await tokenWith(onB)).status).toBe(200);
  });

  it('a deleted identity’s key is refused', async () => {
    const { identityId, principalId, clientId } = await identityOnVm(hostA);
    const key = await stealKey(hostA, principalId, clientId);
    expect((await tokenWith(key)).status).toBe(200);
    expect((await server.arm('DELETE', `${identityId}?${MSI_API}`)).status).toBe(200);
    const refused = await tokenWith(key);
    // The principal is gone with its credentials: Entra's unknown application.
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'unauthorized_client' });
  });

  it('a system-assigned identity’s key dies with the identity switched off', async () => {
    const vmPath = `${server.subscriptionPath}/resourceGroups/${GROUP}/providers/Microsoft.Compute/virtualMachines/sys-${randomUUID().slice(0, 8)}`;
    const created = await server.arm('PUT', `${vmPath}?${VM_API}`, {
      location: 'westeurope',
      identity: { type: 'SystemAssigned' },
      properties: { tessera: { hostId: hostA.id } },
    });
    expect(created.status).toBe(201);
    const { principalId } = (created.body as { identity: { principalId: string } }).identity;
    const clientId = await clientIdOf(principalId);
    const key = await stealKey(hostA, principalId, clientId);
    expect((await tokenWith(key)).status).toBe(200);
    const off = await server.arm('PUT', `${vmPath}?${VM_API}`, vmBody(hostA.id, undefined));
    expect(off.status).toBe(200);
    expect((await tokenWith(key)).status).toBeGreaterThanOrEqual(400);
  });

  /** A principal's client id, as the host's sync tells it. */
  async function clientIdOf(principalId: string): Promise<string> {
    const vms = await hostA.client.syncVms(0, 0);
    for (const vm of vms.vms) {
      for (const identity of vm.identities) {
        if (identity.principalId === principalId) return identity.clientId;
      }
    }
    throw new Error(`no VM on host A has ${principalId}`);
  }
});

/** Makes host `name` as the administrator and registers it with a key the test holds. */
async function ownHost(server: TesseraServer, name: string): Promise<OwnedHost> {
  const created = await server.arm('PUT', `/agent/v1/hosts/${name}`);
  expect(created.status).toBe(201);
  const { joinToken } = created.body as { joinToken: string };
  const client = createServerClient({ serverUrl: server.url, clock: systemAgentClock });
  const { privateKey, csr } = await newKeyAndCsr(name);
  const registered = await client.register({ joinToken, csr });
  client.useHost({
    hostId: registered.hostId,
    privateKey,
    certificateDer: parseCertificate(registered.certificate).der,
  });
  return { id: registered.hostId, client };
}
