// Private addresses are unique per host on every store backend: concurrent claims, and who is told the holder.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { storeTargets } from '../store/targets.js';
import { type AgentHarness, errorCode, startAgentServer } from './agent-harness.js';

const RG_V = 'api-version=2021-04-01';
const VM_V = 'api-version=2024-07-01';
const VMS = 'Microsoft.Compute/virtualMachines';

describe.each(storeTargets())('private addresses on $name', (target) => {
  let h: AgentHarness;
  const group = (name: string): string => `/subscriptions/${h.sub}/resourceGroups/${name}`;
  const vmPath = (rg: string, name: string): string =>
    `${group(rg)}/providers/${VMS}/${name}?${VM_V}`;
  const placed = (hostId: string, address: string) => ({
    location: 'westeurope',
    properties: { tessera: { hostId, privateIpAddresses: [address] } },
  });

  beforeAll(async () => {
    h = await startAgentServer(target);
    for (const rg of ['addr-a', 'addr-b']) {
      expect((await h.arm('PUT', `${group(rg)}?${RG_V}`, { location: 'westeurope' })).status).toBe(
        201,
      );
    }
  });
  afterAll(async () => {
    await h.close();
  });

  it('lets exactly one of 20 concurrent claims of an address land', async () => {
    await h.hosts('host-race');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        h.arm('PUT', vmPath('addr-a', `racer-${n}`), placed('host-race', '10.50.0.4')),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, ...Array<number>(19).fill(400)]);
    expect(answers.filter((a) => errorCode(a) === 'PrivateIPAddressIsAllocated')).toHaveLength(19);
    // Only the winner was stored.
    const vms = await h.store.resources.list({ resourceGroup: 'addr-a', type: VMS }, { limit: 50 });
    expect(vms.items.filter((vm) => vm.name.startsWith('racer-'))).toHaveLength(1);
  });

  it('lets exactly one of concurrent moves onto a host with the same address land', async () => {
    const names = Array.from({ length: 8 }, (_, n) => `mover-${n}`);
    await h.hosts('host-move', ...names.map((_, n) => `host-m${n}`));
    for (const [n, name] of names.entries()) {
      expect(
        (await h.arm('PUT', vmPath('addr-a', name), placed(`host-m${n}`, '10.51.0.4'))).status,
      ).toBe(201);
    }
    const answers = await Promise.all(
      names.map((name) =>
        h.arm('PATCH', vmPath('addr-a', name), {
          properties: { tessera: { hostId: 'host-move' } },
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, ...Array<number>(7).fill(400)]);
  });

  it('names the holder only to a caller who may read it', async () => {
    await h.hosts('host-rbac');
    expect(
      (await h.arm('PUT', vmPath('addr-a', 'holder'), placed('host-rbac', '10.52.0.4'))).status,
    ).toBe(201);
    // A client with Contributor on group addr-b only.
    const principal = await h.server.services.directory.createPrincipal({
      tenantId: h.tenantId,
      displayName: 'addr-b-contributor',
      type: 'Application',
    });
    const { secret } = await h.server.services.directory.addClientSecret(principal.objectId);
    const granted = await h.arm(
      'PUT',
      `${group('addr-b')}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
      {
        properties: {
          roleDefinitionId: `/subscriptions/${h.sub}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLE_IDS.contributor}`,
          principalId: principal.objectId,
        },
      },
    );
    expect(granted.status).toBe(201);
    const token = await h.token(principal.appId, secret);

    const hidden = await h.arm(
      'PUT',
      vmPath('addr-b', 'claimant'),
      placed('host-rbac', '10.52.0.4'),
      token,
    );
    expect([hidden.status, hidden.body?.error]).toEqual([
      400,
      {
        code: 'PrivateIPAddressIsAllocated',
        message: `IP configuration ${group('addr-b')}/providers/${VMS}/claimant is using the private IP address 10.52.0.4 which is already allocated to another resource.`,
      },
    ]);
    const named = await h.arm(
      'PUT',
      vmPath('addr-b', 'claimant'),
      placed('host-rbac', '10.52.0.4'),
    );
    expect((named.body?.error as { message: string }).message).toContain(
      `already allocated to resource ${group('addr-a')}/providers/${VMS}/holder.`,
    );
  });
});
