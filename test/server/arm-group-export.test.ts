// Exporting a resource group as a template and deploying it into another group: the same shape comes back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newestVersionOf } from '../../src/wire/arm/api-versions.js';
import { GUIDE_TEMPLATE_OBJECT } from '../fixtures/guide-template.js';
import { type ArmHarness, type ArmResult, startArm } from './arm-harness.js';
import { DEPLOY_V, deploy } from './deployment-harness.js';

const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';

/** What a group holds, with names and principals left out: what must survive a round trip. */
async function shapeOf(h: ArmHarness, group: string) {
  const get = (path: string): Promise<ArmResult> => h.arm('GET', path, { token: h.admin });
  const resources = await get(`${group}/resources?${DEPLOY_V}`);
  const vm = await get(
    `${group}/providers/Microsoft.Compute/virtualMachines/guide-vm?api-version=2023-03-01`,
  );
  const extensions = await get(
    `${group}/providers/Microsoft.Compute/virtualMachines/guide-vm/extensions?api-version=2023-03-01`,
  );
  const grants = await get(
    `${group}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01`,
  );
  const identity = vm.body?.identity as {
    type: string;
    principalId: string;
    userAssignedIdentities: Record<string, unknown>;
  };
  const grantList = grants.body?.value as {
    properties: { principalId: string; roleDefinitionId: string; scope: string };
  }[];
  return {
    resources: (resources.body?.value as { type: string; name: string }[])
      .map((r) => `${r.type}/${r.name}`)
      .sort(),
    vmIdentity: {
      type: identity.type,
      users: Object.keys(identity.userAssignedIdentities).map((k) => k.split('/').at(-1)),
    },
    vmTessera: (vm.body?.properties as { tessera: unknown }).tessera,
    extensions: (
      extensions.body?.value as { name: string; properties: Record<string, unknown> }[]
    ).map((e) => ({
      name: e.name,
      type: e.properties.type,
      settings: e.properties.settings,
    })),
    // The grant names the group's own VM's principal, whatever its id.
    grants: grantList
      .filter((g) => g.properties.scope.toLowerCase() === group.toLowerCase())
      .map((g) => ({
        role: g.properties.roleDefinitionId.split('/').at(-1),
        toVm: g.properties.principalId === identity.principalId,
      })),
  };
}

describe('ARM surface: resource group export', () => {
  let h: ArmHarness;
  let sub: string;

  beforeAll(async () => {
    h = await startArm();
    sub = `/subscriptions/${h.sub}`;
    await h.hosts('export-host');
  });
  afterAll(async () => {
    await h.close();
  });

  it('exports a deployed group, which deploys into another group with the same shape', async () => {
    const source = `${sub}/resourceGroups/export-source`;
    const target = `${sub}/resourceGroups/export-target`;
    for (const g of [source, target]) {
      await h.arm('PUT', `${g}?${DEPLOY_V}`, { token: h.admin, body: { location: 'westeurope' } });
    }
    const first = await deploy(h, source, 'guide', {
      template: GUIDE_TEMPLATE_OBJECT,
      parameters: { hostId: { value: 'export-host' }, privateIp: { value: '10.1.0.4' } },
    });
    expect(first.status).toEqual({ status: 'Succeeded' });
    const before = await shapeOf(h, source);

    const exported = await h.arm(
      'POST',
      `${sub}/resourcegroups/export-source/exportTemplate?${DEPLOY_V}`,
      {
        token: h.admin,
        body: { resources: ['*'], options: 'IncludeParameterDefaultValue' },
      },
    );
    expect(exported.status).toBe(200);
    expect(exported.body?.error).toBeUndefined();
    const template = exported.body?.template as {
      parameters: Record<string, { defaultValue: string }>;
      resources: { type: string }[];
    };
    expect(template.parameters).toMatchObject({
      userAssignedIdentities_guide_app_identity_name: {
        defaultValue: 'guide-app-identity',
        type: 'String',
      },
      virtualMachines_guide_vm_name: { defaultValue: 'guide-vm', type: 'String' },
    });
    expect(template.resources.map((r) => r.type).sort()).toEqual([
      'Microsoft.Authorization/roleAssignments',
      'Microsoft.Compute/virtualMachines',
      'Microsoft.Compute/virtualMachines/extensions',
      UAI,
    ]);

    // The VM's address is unique per host: the source goes before its copy arrives.
    const removed = await h.arm('DELETE', `${source}?${DEPLOY_V}`, { token: h.admin });
    expect(removed.status).toBe(200);
    const second = await deploy(h, target, 'exported', { template });
    expect(second.status).toEqual({ status: 'Succeeded' });
    expect(await shapeOf(h, target)).toEqual(before);
  });

  it('exports only the resources asked for, with literal names when asked to skip parameters', async () => {
    const group = `${sub}/resourceGroups/export-partial`;
    await h.arm('PUT', `${group}?${DEPLOY_V}`, {
      token: h.admin,
      body: { location: 'westeurope' },
    });
    const made = await deploy(h, group, 'ids', {
      template: {
        $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
        contentVersion: '1.0.0.0',
        resources: ['one', 'two'].map((name) => ({
          type: UAI,
          apiVersion: '2023-01-31',
          name,
          location: 'westeurope',
        })),
      },
    });
    expect(made.status).toEqual({ status: 'Succeeded' });
    const one = `${group}/providers/${UAI}/one`;
    const picked = await h.arm('POST', `${group}/exportTemplate?${DEPLOY_V}`, {
      token: h.admin,
      body: { resources: [one], options: 'SkipAllParameterization' },
    });
    expect(picked.body?.template).toMatchObject({
      parameters: {},
      resources: [
        { type: UAI, name: 'one', apiVersion: newestVersionOf(UAI), location: 'westeurope' },
      ],
    });
    expect((picked.body?.template as { resources: unknown[] }).resources).toHaveLength(1);
  });
});
