// Tests of the deployment plan: copy loops, nested children, conditions, extension resources, ids, bodies, dependencies and outputs.
import { describe, expect, it } from 'vitest';

import {
  GROUP_SCOPE,
  SUBSCRIPTION_ID,
  SUBSCRIPTION_SCOPE,
} from '../../../test/fixtures/expression-context.js';
import { isAppError } from '../errors.js';
import type { DeploymentScope, TemplateValue } from './context.js';
import { planDeployment, type DeploymentPlan, type TemplateRuntime } from './plan.js';
import { readTemplate } from './template.js';

const RG = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg1`;
const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';

function template(sections: Record<string, TemplateValue>): TemplateValue {
  return { $schema: SCHEMA, contentVersion: '1.0.0.0', resources: [], ...sections };
}

function plan(
  document: TemplateValue,
  parameters?: TemplateValue,
  scope: DeploymentScope = GROUP_SCOPE,
): DeploymentPlan {
  return planDeployment(readTemplate(document), {
    scope,
    parameters,
    newGuid: () => '0d6c4d4e-7a4b-4c59-9d7b-2f0f1f1f1f1f',
    now: () => Date.UTC(2024, 0, 2, 3, 4, 5),
  });
}

function failure(run: () => unknown): { code: string | undefined; message: string } {
  try {
    run();
  } catch (error) {
    if (isAppError(error)) return { code: error.wire.arm, message: error.message };
    throw error;
  }
  throw new Error('expected a failure');
}

/** A runtime whose `reference()` answers from a map by id and records its calls. */
function runtime(state: Record<string, TemplateValue> = {}): TemplateRuntime & {
  calls: string[];
} {
  const calls: string[] = [];
  return {
    calls,
    reference(id, apiVersion, full) {
      calls.push(`${id}@${apiVersion}${full ? ' full' : ''}`);
      const found = state[id];
      if (found === undefined) throw new Error(`unexpected reference to ${id}`);
      return found;
    },
  };
}

const ids = (p: DeploymentPlan): string[] => p.resources.map((r) => r.id);
const namesOf = (p: DeploymentPlan, wave: readonly number[]): string[] =>
  wave.map((i) => p.resources[i]?.name ?? '?');

describe("the MIGRATE guide's extension template", () => {
  // /work/shared/seeds/001: howto-migrate-vm-extension, the extension as a top-level child.
  const document = template({
    variables: { vmName: 'myVM' },
    resources: [
      {
        type: 'Microsoft.Compute/virtualMachines',
        name: "[variables('vmName')]",
        apiVersion: '2018-06-01',
        location: '[resourceGroup().location]',
        identity: { type: 'SystemAssigned' },
        properties: { hardwareProfile: { vmSize: 'Standard_B1s' } },
      },
      {
        type: 'Microsoft.Compute/virtualMachines/extensions',
        name: "[concat(variables('vmName'),'/ManagedIdentityExtensionForWindows')]",
        apiVersion: '2018-06-01',
        location: '[resourceGroup().location]',
        dependsOn: ["[concat('Microsoft.Compute/virtualMachines/', variables('vmName'))]"],
        properties: {
          publisher: 'Microsoft.ManagedIdentity',
          type: 'ManagedIdentityExtensionForWindows',
          typeHandlerVersion: '1.0',
          autoUpgradeMinorVersion: true,
          settings: { port: 50342 },
        },
      },
    ],
  });

  it('plans the VM, then its extension, with ARM ids and PUT bodies', () => {
    const p = plan(document);
    const vm = `${RG}/providers/Microsoft.Compute/virtualMachines/myVM`;
    expect(ids(p)).toEqual([vm, `${vm}/extensions/ManagedIdentityExtensionForWindows`]);
    expect(p.waves).toEqual([[0], [1]]);
    const extension = p.resources[1];
    expect(extension).toMatchObject({
      type: 'Microsoft.Compute/virtualMachines/extensions',
      name: 'myVM/ManagedIdentityExtensionForWindows',
      resourceType: 'Microsoft.Compute/virtualMachines/extensions',
      apiVersion: '2018-06-01',
      scope: RG,
      location: 'westus',
      dependsOn: [vm],
    });
    expect(extension?.body(runtime())).toEqual({
      location: 'westus',
      properties: {
        publisher: 'Microsoft.ManagedIdentity',
        type: 'ManagedIdentityExtensionForWindows',
        typeHandlerVersion: '1.0',
        autoUpgradeMinorVersion: true,
        settings: { port: 50342 },
      },
    });
    expect(p.resources[0]?.body(runtime())).toEqual({
      location: 'westus',
      identity: { type: 'SystemAssigned' },
      properties: { hardwareProfile: { vmSize: 'Standard_B1s' } },
    });
  });
});

describe('copy loops', () => {
  it('expands count instances named with copyIndex, in parallel by default', () => {
    const p = plan(
      template({
        parameters: { count: { type: 'int', defaultValue: 3 } },
        resources: [
          {
            type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
            apiVersion: '2018-11-30',
            name: "[concat('id-', copyIndex(1))]",
            location: 'westus',
            copy: { name: 'ids', count: "[parameters('count')]" },
            tags: { index: '[copyIndex()]' },
          },
        ],
      }),
    );
    expect(p.resources.map((r) => r.name)).toEqual(['id-1', 'id-2', 'id-3']);
    expect(p.resources.map((r) => r.copy)).toEqual([
      { name: 'ids', index: 0 },
      { name: 'ids', index: 1 },
      { name: 'ids', index: 2 },
    ]);
    expect(p.waves).toEqual([[0, 1, 2]]);
    expect(p.resources[2]?.body(runtime())).toEqual({ location: 'westus', tags: { index: 2 } });
  });

  it('serial batches wait for the previous batch; dependsOn a loop name waits for all of it', () => {
    const p = plan(
      template({
        resources: [
          {
            type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
            apiVersion: '2018-11-30',
            name: "[concat('id', copyIndex())]",
            copy: { name: 'ids', count: 5, mode: 'Serial', batchSize: 2 },
          },
          {
            type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
            apiVersion: '2018-11-30',
            name: 'last',
            dependsOn: ['ids'],
          },
        ],
      }),
    );
    expect(p.waves.map((wave) => namesOf(p, wave))).toEqual([
      ['id0', 'id1'],
      ['id2', 'id3'],
      ['id4'],
      ['last'],
    ]);
    expect(p.resources[4]?.dependsOn).toEqual([
      `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id2`,
      `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id3`,
    ]);
  });

  it('allows a count of zero, and refuses counts outside 0-800', () => {
    const resource = (count: TemplateValue) =>
      template({
        resources: [
          {
            type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
            apiVersion: '2018-11-30',
            name: "[concat('id', copyIndex())]",
            copy: { name: 'ids', count },
          },
        ],
      });
    expect(plan(resource(0)).resources).toEqual([]);
    expect(failure(() => plan(resource(801))).message).toContain(
      'has an invalid copy count. The copy count must be a non-negative integer value and cannot exceed',
    );
    expect(failure(() => plan(resource('three'))).code).toBe('InvalidTemplate');
  });

  it('expands property and variable copies, and copyIndex needs a loop', () => {
    const p = plan(
      template({
        variables: {
          copy: [
            { name: 'diskNames', count: 2, input: "[concat('disk', copyIndex('diskNames'))]" },
          ],
          nested: { copy: [{ name: 'ports', count: 2, input: "[add(8080, copyIndex('ports'))]" }] },
        },
        resources: [
          {
            type: 'Microsoft.Compute/virtualMachines',
            apiVersion: '2023-03-01',
            name: 'vm1',
            properties: {
              storageProfile: {
                copy: [
                  {
                    name: 'dataDisks',
                    count: "[length(variables('diskNames'))]",
                    input: {
                      name: "[variables('diskNames')[copyIndex('dataDisks')]]",
                      lun: "[copyIndex('dataDisks')]",
                    },
                  },
                ],
              },
              ports: "[variables('nested').ports]",
            },
          },
        ],
      }),
    );
    expect(p.resources[0]?.body(runtime())).toEqual({
      properties: {
        storageProfile: {
          dataDisks: [
            { name: 'disk0', lun: 0 },
            { name: 'disk1', lun: 1 },
          ],
        },
        ports: [8080, 8081],
      },
    });
    const bad = template({
      resources: [
        {
          type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
          apiVersion: '2018-11-30',
          name: "[concat('id', copyIndex())]",
        },
      ],
    });
    expect(failure(() => plan(bad)).message).toBe(
      "Deployment template validation failed: 'The template resource '[concat('id', copyIndex())]' at line '0' and column '0' is not valid: The template function 'copyIndex' is not expected at this location. The function can only be used in a resource with copy specified. Please see https://aka.ms/arm-copy for usage details.. Please see https://aka.ms/arm-functions for usage details.'.",
    );
  });
});

describe('nested child resources', () => {
  it('are flattened with the full type and name, and get no implicit dependency', () => {
    const p = plan(
      template({
        resources: [
          {
            type: 'Microsoft.Sql/servers',
            apiVersion: '2021-11-01',
            name: 'sql1',
            resources: [
              {
                type: 'databases',
                apiVersion: '2021-11-01',
                name: 'db1',
                dependsOn: ['sql1'],
                resources: [
                  {
                    type: 'backupShortTermRetentionPolicies',
                    apiVersion: '2021-11-01',
                    name: 'default',
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    const server = `${RG}/providers/Microsoft.Sql/servers/sql1`;
    expect(p.resources.map((r) => [r.type, r.name, r.id])).toEqual([
      ['Microsoft.Sql/servers', 'sql1', server],
      ['Microsoft.Sql/servers/databases', 'sql1/db1', `${server}/databases/db1`],
      [
        'Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies',
        'sql1/db1/default',
        `${server}/databases/db1/backupShortTermRetentionPolicies/default`,
      ],
    ]);
    expect(p.waves).toEqual([[0, 2], [1]]);
  });

  it('are expanded under each instance of a copied parent; a copy of their own is refused', () => {
    const child = {
      type: 'extensions',
      apiVersion: '1',
      name: 'ext',
      tags: { note: '[[literal]' },
    };
    const parent = {
      type: 'Microsoft.Compute/virtualMachines',
      apiVersion: '1',
      name: "[concat('vm', copyIndex())]",
      copy: { name: 'vms', count: 2 },
      resources: [child],
    };
    const p = plan(template({ resources: [parent] }));
    expect(p.resources.map((r) => r.name)).toEqual(['vm0', 'vm0/ext', 'vm1', 'vm1/ext']);
    expect(p.resources[1]?.body(runtime())).toEqual({ tags: { note: '[literal]' } });
    const copied = {
      type: 'Microsoft.Compute/virtualMachines',
      apiVersion: '1',
      name: 'vm',
      resources: [{ ...child, copy: { name: 'c', count: 2 } }],
    };
    expect(failure(() => plan(template({ resources: [copied] }))).message).toContain(
      'copy is not supported on a nested resource',
    );
  });

  it('refuses names whose segments do not fit the type', () => {
    const root = template({
      resources: [{ type: 'Microsoft.Sql/servers/databases', apiVersion: '1', name: 'db1' }],
    });
    expect(failure(() => plan(root)).message).toContain(
      "'The template resource 'db1' for type 'Microsoft.Sql/servers/databases' at line '0' and column '0' has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name.",
    );
    const nested = template({
      resources: [
        {
          type: 'Microsoft.Sql/servers',
          apiVersion: '1',
          name: 's',
          resources: [{ type: 'databases', apiVersion: '1', name: 's/db1' }],
        },
      ],
    });
    expect(failure(() => plan(nested)).message).toContain('has incorrect segment lengths');
  });
});

describe('extension resources', () => {
  const assignment = {
    type: 'Microsoft.Authorization/roleAssignments',
    apiVersion: '2022-04-01',
    name: "[guid(resourceGroup().id, 'reader')]",
    properties: { roleDefinitionId: 'r', principalId: 'p' },
  };

  it('sit on the deployment scope, on a `scope` (relative or full id), or by legacy naming', () => {
    const p = plan(
      template({
        resources: [
          assignment,
          { ...assignment, name: 'a2', scope: 'Microsoft.Storage/storageAccounts/sa1' },
          {
            ...assignment,
            name: 'a3',
            scope: "[resourceId('Microsoft.KeyVault/vaults', 'kv1')]",
          },
          {
            ...assignment,
            type: 'Microsoft.Storage/storageAccounts/providers/roleAssignments',
            name: 'sa1/Microsoft.Authorization/a4',
          },
        ],
      }),
    );
    const storage = `${RG}/providers/Microsoft.Storage/storageAccounts/sa1`;
    const vault = `${RG}/providers/Microsoft.KeyVault/vaults/kv1`;
    expect(p.resources.map((r) => [r.id, r.scope, r.resourceType])).toEqual([
      [
        expect.stringMatching(
          new RegExp(`^${RG}/providers/Microsoft.Authorization/roleAssignments/[0-9a-f-]{36}$`),
        ),
        RG,
        'Microsoft.Authorization/roleAssignments',
      ],
      [
        `${storage}/providers/Microsoft.Authorization/roleAssignments/a2`,
        storage,
        'Microsoft.Authorization/roleAssignments',
      ],
      [
        `${vault}/providers/Microsoft.Authorization/roleAssignments/a3`,
        vault,
        'Microsoft.Authorization/roleAssignments',
      ],
      [
        `${storage}/providers/Microsoft.Authorization/roleAssignments/a4`,
        storage,
        'Microsoft.Authorization/roleAssignments',
      ],
    ]);
    expect(p.resources[1]?.body(runtime())).toEqual({
      properties: { roleDefinitionId: 'r', principalId: 'p' },
    });
  });

  it('at subscription scope, ids have no resource group (and resource groups their short id)', () => {
    const p = plan(
      template({
        resources: [
          { ...assignment, name: 'a1' },
          { type: 'Microsoft.Resources/resourceGroups', apiVersion: '2021-04-01', name: 'rg9' },
        ],
      }),
      undefined,
      SUBSCRIPTION_SCOPE,
    );
    expect(ids(p)[0]).toMatch(
      new RegExp(
        `^/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleAssignments/`,
      ),
    );
    expect(ids(p)[1]).toBe(`/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg9`);
  });
});
