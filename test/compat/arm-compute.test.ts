// Compatibility: the real @azure/arm-compute client (TypeSpec "modular", @azure-rest/core-client)
// with @azure/identity's ClientSecretCredential, run in a child process against real `tessera
// server` and `tessera agent` processes over HTTPS: VM identities created, read, patched, listed
// and deleted.
import { decodeJwt, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import type { ReportedError } from './client-kit.js';
import { type ClientOutput, GUID, killClients, runClient } from './harness.js';
import { httpRequest, imdsToken } from './imds-probe.js';
import {
  assignRole,
  closeStarted,
  startTesseraAgent,
  startTesseraServer,
  type TesseraAgent,
  type TesseraServer,
} from './processes.js';

const CLIENT_SCRIPT = new URL('./arm-compute-client.ts', import.meta.url);
const GROUP = 'compute-rg';
const VM_TYPE = 'Microsoft.Compute/virtualMachines';
/** What @azure/arm-compute 24.1.0 sends for every virtualMachines operation. */
const COMPUTE_API_VERSION = '2026-03-01';
/** The address the agent's IMDS knows the VMs placed on its host by. */
const VM_ADDRESS = '127.0.0.1';
const MANAGEMENT = 'https://management.azure.com';

/** The SDK's `VirtualMachine` model, as far as the test reads it. */
interface SdkVm {
  id: string;
  name: string;
  type: string;
  location: string;
  tags?: Record<string, string>;
  vmId?: string;
  provisioningState?: string;
  hardwareProfile?: { vmSize?: string };
  osProfile?: { computerName?: string; adminUsername?: string };
  identity?: {
    type?: string;
    principalId?: string;
    tenantId?: string;
    userAssignedIdentities?: Record<string, { principalId?: string; clientId?: string }>;
  };
}

interface Results {
  created: SdkVm;
  got: SdkVm;
  updated: SdkVm;
  gotAfterUpdate: SdkVm;
  created2: SdkVm;
  inGroup: string[];
  inSubscription: string[];
  deleted: boolean;
  afterDelete: { value?: unknown; error?: ReportedError };
}

/** A user-assigned identity as Tessera's ARM created it. */
interface Uai {
  id: string;
  principalId: string;
  clientId: string;
}

describe('compatibility: @azure/arm-compute virtual machine identities over HTTPS', () => {
  let tessera: TesseraServer | undefined;
  let agent: TesseraAgent | undefined;
  let output: ClientOutput<Results>;
  const uais: Uai[] = [];
  /** The claims of IMDS tokens for uai-1 and uai-2, from a VM that held both before the run. */
  const uaiClaims: JWTPayload[] = [];
  /** The claims of an IMDS token for vm1's system-assigned identity, after the run. */
  let vm1System: JWTPayload;

  beforeAll(async () => {
    tessera = await startTesseraServer();
    agent = await startTesseraAgent(tessera, 'compute-host');
    const { imdsUrl, hostId } = agent;
    const groupPath = `${tessera.subscriptionPath}/resourceGroups/${GROUP}`;
    const group = await tessera.arm('PUT', `${groupPath}?api-version=2021-04-01`, {
      location: 'westeurope',
    });
    expect(group.status).toBe(201);
    for (const name of ['uai-1', 'uai-2']) {
      const created = await tessera.arm(
        'PUT',
        `${groupPath}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}?api-version=2024-11-30`,
        { location: 'westeurope' },
      );
      expect(created.status).toBe(201);
      const body = created.body as { id: string; properties: Omit<Uai, 'id'> };
      uais.push({ id: body.id, ...body.properties });
    }
    // What each identity's principal is shows in a token for it: a VM on the agent's host holds
    // both for a moment, and is gone again before the SDK lists VMs.
    const probePath = `${groupPath}/providers/${VM_TYPE}/probe?api-version=2024-07-01`;
    const probe = await tessera.arm('PUT', probePath, {
      location: 'westeurope',
      identity: {
        type: 'UserAssigned',
        userAssignedIdentities: Object.fromEntries(uais.map(({ id }) => [id, {}])),
      },
      properties: { tessera: { hostId, privateIpAddresses: [VM_ADDRESS] } },
    });
    expect(probe.status).toBe(201);
    const tokens = await Promise.all(
      uais.map(({ id }) =>
        imdsToken(imdsUrl, {
          from: VM_ADDRESS,
          resource: MANAGEMENT,
          selector: { msi_res_id: id },
        }),
      ),
    );
    uaiClaims.push(...tokens.map(({ access_token }) => decodeJwt(access_token)));
    expect((await tessera.arm('DELETE', probePath)).status).toBe(200);

    output = await runClient<Results>(CLIENT_SCRIPT, {
      ...tessera.clientEnv,
      TESSERA_COMPAT_RESOURCE_GROUP: GROUP,
      TESSERA_COMPAT_UAI_1: uais[0]!.id,
      TESSERA_COMPAT_UAI_2: uais[1]!.id,
    });
    // vm1, kept, goes on the agent's host, so its identities show in IMDS.
    const placed = await tessera.arm('PATCH', `${vmPath('vm1')}?api-version=2024-07-01`, {
      properties: { tessera: { hostId, privateIpAddresses: [VM_ADDRESS] } },
    });
    expect(placed.status).toBe(200);
    const system = await imdsToken(imdsUrl, { from: VM_ADDRESS, resource: MANAGEMENT });
    vm1System = decodeJwt(system.access_token);
  }, 120_000);

  afterAll(async () => {
    killClients();
    await closeStarted();
  }, 30_000);

  const started = (): TesseraServer => {
    if (tessera === undefined) throw new Error('Tessera did not start');
    return tessera;
  };
  const vmPath = (name?: string): string => {
    const vms = `${started().subscriptionPath}/resourceGroups/${GROUP}/providers/${VM_TYPE}`;
    return name === undefined ? vms : `${vms}/${name}`;
  };
  const startedAgent = (): TesseraAgent => {
    if (agent === undefined) throw new Error('the agent did not start');
    return agent;
  };
  const uaiEntry = ({ principalId, clientId }: Uai) => ({ principalId, clientId });

  it(`runs every call to the end, each with api-version ${COMPUTE_API_VERSION}`, () => {
    expect(output.error).toBeUndefined();
    expect(output.ok).toBe(true);
    const query = `?api-version=${COMPUTE_API_VERSION}`;
    // No LRO polling: Tessera answers synchronously with provisioningState Succeeded.
    expect(output.requests).toEqual([
      `PUT ${vmPath('vm1')}${query} -> 201`,
      `GET ${vmPath('vm1')}${query} -> 200`,
      `PATCH ${vmPath('vm1')}${query} -> 200`,
      `GET ${vmPath('vm1')}${query} -> 200`,
      `PUT ${vmPath('vm2')}${query} -> 201`,
      `GET ${vmPath()}${query} -> 200`,
      `GET /subscriptions/${started().subscriptionId}/providers/${VM_TYPE}${query} -> 200`,
      `DELETE ${vmPath('vm2')}${query} -> 200`,
      `GET ${vmPath('vm2')}${query} -> 404`,
    ]);
  });

  it('createOrUpdate gives the VM a system-assigned principal and both user-assigned ones', () => {
    const { tenantId } = started();
    const created = output.results.created!;
    expect(created).toMatchObject({
      id: vmPath('vm1'),
      name: 'vm1',
      type: VM_TYPE,
      location: 'westeurope',
      tags: { app: 'compat' },
      provisioningState: 'Succeeded',
      hardwareProfile: { vmSize: 'Standard_B1s' },
      osProfile: { computerName: 'vm1', adminUsername: 'azureuser' },
    });
    expect(created.vmId).toMatch(GUID);
    expect(created.identity).toEqual({
      type: 'SystemAssigned, UserAssigned',
      principalId: expect.stringMatching(GUID) as unknown,
      tenantId,
      userAssignedIdentities: {
        [uais[0]!.id]: uaiEntry(uais[0]!),
        [uais[1]!.id]: uaiEntry(uais[1]!),
      },
    });
    // A managed identity's token names its ARM id in xms_mirid.
    expect(vm1System).toMatchObject({
      oid: created.identity?.principalId,
      tid: tenantId,
      xms_mirid: vmPath('vm1'),
    });
    // The UAIs' principals are the ones the directory issues those ids' tokens for.
    uais.forEach((uai, i) => {
      expect(uaiClaims[i]).toMatchObject({
        oid: uai.principalId,
        appid: uai.clientId,
        xms_mirid: uai.id,
      });
    });
  });

  it('get returns what createOrUpdate did', () => {
    const { created, got } = output.results;
    expect(got?.identity?.principalId).toMatch(GUID);
    expect(got).toEqual(created);
  });

  it('update with a null entry removes that user-assigned identity and keeps the rest', async () => {
    const { imdsUrl } = startedAgent();
    // The SDK's model types the entries as objects; the client casts, the serializer passes null.
    const patch = output.bodies.find(({ request }) => request.startsWith('PATCH '));
    expect(patch?.body).toEqual({
      tags: { app: 'compat', stage: 'patched' },
      identity: {
        type: 'SystemAssigned, UserAssigned',
        userAssignedIdentities: { [uais[0]!.id]: null },
      },
    });
    const { created, updated, gotAfterUpdate } = output.results;
    const expected = {
      type: 'SystemAssigned, UserAssigned',
      principalId: created?.identity?.principalId,
      tenantId: started().tenantId,
      userAssignedIdentities: { [uais[1]!.id]: uaiEntry(uais[1]!) },
    };
    expect(updated?.identity).toEqual(expected);
    expect(updated?.tags).toEqual({ app: 'compat', stage: 'patched' });
    expect(updated?.vmId).toBe(created?.vmId);
    expect(gotAfterUpdate).toEqual(updated);
    // vm1 is kept: IMDS serves it the system principal and uai-2 only.
    expect(vm1System.oid).toBe(created?.identity?.principalId);
    const [uai1, uai2] = [uais[0]!, uais[1]!];
    const kept = await imdsToken(imdsUrl, {
      from: VM_ADDRESS,
      resource: MANAGEMENT,
      selector: { msi_res_id: uai2.id },
    });
    expect(decodeJwt(kept.access_token).oid).toBe(uai2.principalId);
    const query = new URLSearchParams({
      'api-version': '2018-02-01',
      resource: MANAGEMENT,
      msi_res_id: uai1.id,
    });
    const removed = await httpRequest(
      `${imdsUrl}/metadata/identity/oauth2/token?${query.toString()}`,
      { from: VM_ADDRESS, headers: { Metadata: 'true' } },
    );
    expect(removed.status).toBe(400);
    expect(JSON.parse(removed.text)).toEqual({
      error: 'invalid_request',
      error_description: 'Identity not found',
    });
  });

  it('lists by group and by subscription', () => {
    expect(output.results.inGroup?.toSorted()).toEqual(['vm1', 'vm2']);
    expect(output.results.inSubscription?.toSorted()).toEqual([vmPath('vm1'), vmPath('vm2')]);
  });

  it('delete removes the VM and its system principal, not the user-assigned identities', async () => {
    const { arm, subscriptionPath } = started();
    expect(output.results.deleted).toBe(true);
    expect(output.results.afterDelete?.error).toMatchObject({
      name: 'RestError',
      code: 'ResourceNotFound',
      statusCode: 404,
    });
    const created2 = output.results.created2!;
    expect(Object.keys(created2.identity?.userAssignedIdentities ?? {}).toSorted()).toEqual(
      uais.map((uai) => uai.id),
    );
    const systemId = created2.identity?.principalId ?? '';
    expect(systemId).toMatch(GUID);
    expect(systemId).not.toBe(output.results.created?.identity?.principalId);
    // The system principal is gone from the directory: a role for it is PrincipalNotFound.
    const assigned = await assignRole(started(), {
      scope: `${subscriptionPath}/resourceGroups/${GROUP}`,
      roleId: BUILT_IN_ROLE_IDS.reader,
      principalId: systemId,
    });
    expect(assigned).toMatchObject({ status: 400, body: { error: { code: 'PrincipalNotFound' } } });
    const vmV = 'api-version=2024-07-01';
    expect((await arm('GET', `${vmPath('vm2')}?${vmV}`)).status).toBe(404);
    for (const uai of uais) {
      const got = await arm('GET', `${uai.id}?api-version=2024-11-30`);
      expect(got).toMatchObject({
        status: 200,
        body: { id: uai.id, properties: { principalId: uai.principalId, clientId: uai.clientId } },
      });
    }
    // uai-1 left vm1 on update and vm2 on delete; uai-2 stays on vm1 alone.
    const listed = await arm('GET', `${subscriptionPath}/providers/${VM_TYPE}?${vmV}`);
    const vms = (
      listed.body as { value: { id: string; identity?: { userAssignedIdentities?: object } }[] }
    ).value;
    const holding = (uai: Uai): string[] =>
      vms
        .filter((vm) =>
          Object.keys(vm.identity?.userAssignedIdentities ?? {}).some(
            (key) => key.toLowerCase() === uai.id.toLowerCase(),
          ),
        )
        .map((vm) => vm.id);
    expect(holding(uais[0]!)).toEqual([]);
    expect(holding(uais[1]!)).toEqual([vmPath('vm1')]);
  });
});
