// Compatibility: the real @azure/arm-compute client (TypeSpec "modular", @azure-rest/core-client)
// with @azure/identity's ClientSecretCredential, run in a child process against an in-process
// Tessera over HTTPS: VM identities created, read, patched, listed and deleted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportedError } from './client-kit.js';
import {
  type ClientOutput,
  type CompatTessera,
  GUID,
  killClients,
  runClient,
  startCompatTessera,
} from './harness.js';

const CLIENT_SCRIPT = new URL('./arm-compute-client.ts', import.meta.url);
const GROUP = 'compute-rg';
const VM_TYPE = 'Microsoft.Compute/virtualMachines';
/** What @azure/arm-compute 24.1.0 sends for every virtualMachines operation. */
const COMPUTE_API_VERSION = '2026-03-01';

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
  let tessera: CompatTessera | undefined;
  let output: ClientOutput<Results>;
  const uais: Uai[] = [];

  beforeAll(async () => {
    tessera = await startCompatTessera();
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
    output = await runClient<Results>(CLIENT_SCRIPT, {
      ...tessera.clientEnv,
      TESSERA_COMPAT_RESOURCE_GROUP: GROUP,
      TESSERA_COMPAT_UAI_1: uais[0]!.id,
      TESSERA_COMPAT_UAI_2: uais[1]!.id,
    });
  }, 60_000);

  afterAll(async () => {
    killClients();
    await tessera?.close();
  });

  const started = (): CompatTessera => {
    if (tessera === undefined) throw new Error('Tessera did not start');
    return tessera;
  };
  const vmPath = (name?: string): string => {
    const vms = `${started().subscriptionPath}/resourceGroups/${GROUP}/providers/${VM_TYPE}`;
    return name === undefined ? vms : `${vms}/${name}`;
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
      `GET /subscriptions/${started().server.subscriptionId}/providers/${VM_TYPE}${query} -> 200`,
      `DELETE ${vmPath('vm2')}${query} -> 200`,
      `GET ${vmPath('vm2')}${query} -> 404`,
    ]);
  });

  it('createOrUpdate gives the VM a system-assigned principal and both user-assigned ones', async () => {
    const { server, store } = started();
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
      tenantId: server.tenant.id,
      userAssignedIdentities: {
        [uais[0]!.id]: uaiEntry(uais[0]!),
        [uais[1]!.id]: uaiEntry(uais[1]!),
      },
    });
    const system = await store.principals.get(created.identity?.principalId ?? '');
    expect(system).toMatchObject({
      tenantId: server.tenant.id,
      type: 'ManagedIdentity',
      alternativeNames: [vmPath('vm1')],
    });
    // The UAIs' principals are the ones Tessera's store holds for those ids.
    for (const uai of uais) {
      const principal = await store.principals.getByAlternativeName(uai.id);
      expect(principal).toMatchObject({ objectId: uai.principalId, appId: uai.clientId });
    }
  });

  it('get returns what createOrUpdate did', () => {
    const { created, got } = output.results;
    expect(got?.identity?.principalId).toMatch(GUID);
    expect(got).toEqual(created);
  });

  it('update with a null entry removes that user-assigned identity and keeps the rest', async () => {
    const { store } = started();
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
      tenantId: started().server.tenant.id,
      userAssignedIdentities: { [uais[1]!.id]: uaiEntry(uais[1]!) },
    };
    expect(updated?.identity).toEqual(expected);
    expect(updated?.tags).toEqual({ app: 'compat', stage: 'patched' });
    expect(updated?.vmId).toBe(created?.vmId);
    expect(gotAfterUpdate).toEqual(updated);
    // vm1 is kept: its attachments are the system principal and uai-2 only.
    const attachments = await store.attachments.listForResource(vmPath('vm1'));
    expect(
      attachments
        .map(({ kind, principalId }) => ({ kind, principalId }))
        .toSorted((a, b) => a.kind.localeCompare(b.kind)),
    ).toEqual([
      { kind: 'SystemAssigned', principalId: created?.identity?.principalId },
      { kind: 'UserAssigned', principalId: uais[1]!.principalId },
    ]);
  });

  it('lists by group and by subscription', () => {
    expect(output.results.inGroup?.toSorted()).toEqual(['vm1', 'vm2']);
    expect(output.results.inSubscription?.toSorted()).toEqual([vmPath('vm1'), vmPath('vm2')]);
  });

  it('delete removes the VM and its system principal, not the user-assigned identities', async () => {
    const { store } = started();
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
    expect(await store.principals.get(systemId)).toBeUndefined();
    expect(await store.principals.getByAlternativeName(vmPath('vm2'))).toBeUndefined();
    expect(await store.resources.get(vmPath('vm2'))).toBeUndefined();
    expect(await store.attachments.listForResource(vmPath('vm2'))).toEqual([]);
    for (const uai of uais) {
      expect(await store.resources.get(uai.id)).toMatchObject({ id: uai.id });
      expect(await store.principals.get(uai.principalId)).toMatchObject({ appId: uai.clientId });
    }
    // uai-1 left vm1 on update and vm2 on delete; uai-2 stays on vm1 alone.
    expect(await store.attachments.listForPrincipal(uais[0]!.principalId)).toEqual([]);
    const remaining = await store.attachments.listForPrincipal(uais[1]!.principalId);
    expect(remaining.map((a) => a.resourceId)).toEqual([vmPath('vm1')]);
  });
});
