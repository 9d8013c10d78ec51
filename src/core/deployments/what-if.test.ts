// Tests for the what-if comparison: change types, result formats and the property delta.
import { describe, expect, it } from 'vitest';
import {
  TESSERA_READ_ONLY_PATHS,
  type WhatIfOptions,
  type WhatIfSubject,
  whatIfChanges,
} from './what-if.js';

const RG = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/my-resource-group';
const UAI_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const uaiId = (name: string): string => `${RG}/providers/${UAI_TYPE}/${name}`;
const VM_ID = `${RG}/providers/Microsoft.Compute/virtualMachines/vm1`;

const FULL: WhatIfOptions = { mode: 'Incremental', resultFormat: 'FullResourcePayloads' };

/** A user-assigned identity as GET shows it, with `apiVersion`. */
function identityNow(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: '2023-01-31',
    id: uaiId(name),
    name,
    type: UAI_TYPE,
    location: 'westus2',
    tags: {},
    properties: {
      tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      principalId: '11111111-1111-1111-1111-111111111111',
      clientId: '22222222-2222-2222-2222-222222222222',
    },
    ...extra,
  };
}

/** What a template deploys for an identity. */
function identityDeployed(
  name: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: uaiId(name),
    name,
    type: UAI_TYPE,
    apiVersion: '2023-01-31',
    location: 'westus2',
    ...extra,
  };
}

/** The delta of one resource existing as `before` and deployed as `after`. */
function deltaOf(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  options: Partial<WhatIfOptions> = {},
): unknown {
  const [change] = whatIfChanges([{ resourceId: VM_ID, before, after }], { ...FULL, ...options });
  return change?.delta;
}

describe('whatIfChanges: change types (deploy-what-if.md, 2021-04-01 swagger example)', () => {
  it('reproduces the swagger example: a new tag is Modify, a new identity Create', () => {
    const before = identityNow('myExistingIdentity');
    const after = identityDeployed('myExistingIdentity', { tags: { myNewTag: 'my tag value' } });
    const created = identityDeployed('myNewIdentity', { location: 'eastus' });
    const changes = whatIfChanges(
      [
        { resourceId: uaiId('myNewIdentity'), after: created },
        { resourceId: uaiId('myExistingIdentity'), before, after },
      ],
      FULL,
    );
    expect(changes).toEqual([
      {
        resourceId: uaiId('myExistingIdentity'),
        changeType: 'Modify',
        before,
        after,
        delta: [{ path: 'tags.myNewTag', propertyChangeType: 'Create', after: 'my tag value' }],
      },
      { resourceId: uaiId('myNewIdentity'), changeType: 'Create', after: created },
    ]);
  });

  it('is NoChange with both snapshots and no delta when only computed members differ', () => {
    const before = identityNow('id1', { etag: '"1"', systemData: { createdBy: 'someone' } });
    const after = identityDeployed('id1');
    expect(whatIfChanges([{ resourceId: uaiId('id1'), before, after }], FULL)).toEqual([
      { resourceId: uaiId('id1'), changeType: 'NoChange', before, after },
    ]);
  });

  it('ignores a resource the template leaves out in Incremental mode, deletes it in Complete', () => {
    const before = identityNow('old');
    const subjects = [{ resourceId: uaiId('old'), before }];
    expect(whatIfChanges(subjects, FULL)).toEqual([
      { resourceId: uaiId('old'), changeType: 'Ignore', before },
    ]);
    expect(whatIfChanges(subjects, { ...FULL, mode: 'Complete' })).toEqual([
      { resourceId: uaiId('old'), changeType: 'Delete', before },
    ]);
  });

  it('reports a type Tessera does not serve as Unsupported with the reason, in both formats', () => {
    const id = `${RG}/providers/Microsoft.Storage/storageAccounts/sa1`;
    const subject: WhatIfSubject = {
      resourceId: id,
      after: { id, name: 'sa1', type: 'Microsoft.Storage/storageAccounts' },
      unsupportedReason: "Tessera does not serve 'Microsoft.Storage/storageAccounts'.",
    };
    const expected = [
      {
        resourceId: id,
        changeType: 'Unsupported',
        unsupportedReason: "Tessera does not serve 'Microsoft.Storage/storageAccounts'.",
      },
    ];
    expect(whatIfChanges([subject], FULL)).toEqual(expected);
    expect(whatIfChanges([subject], { ...FULL, resultFormat: 'ResourceIdOnly' })).toEqual(expected);
  });

  it('leaves out a subject that neither exists nor is deployed', () => {
    expect(whatIfChanges([{ resourceId: uaiId('ghost') }], FULL)).toEqual([]);
  });

  it('sorts changes by resource id in any case', () => {
    const ids = [uaiId('b'), uaiId('C'), uaiId('a')];
    const changes = whatIfChanges(
      ids.map((id) => ({ resourceId: id, after: { id } })),
      FULL,
    );
    expect(changes.map((c) => c.resourceId)).toEqual([uaiId('a'), uaiId('b'), uaiId('C')]);
  });
});

describe('whatIfChanges: ResourceIdOnly', () => {
  it('gives only ids and Deploy, Ignore or Delete: no snapshots, no delta', () => {
    const subjects: WhatIfSubject[] = [
      { resourceId: uaiId('new'), after: identityDeployed('new') },
      {
        resourceId: uaiId('kept'),
        before: identityNow('kept'),
        after: identityDeployed('kept', { tags: { a: 'b' } }),
      },
      { resourceId: uaiId('other'), before: identityNow('other') },
    ];
    const options: WhatIfOptions = { mode: 'Incremental', resultFormat: 'ResourceIdOnly' };
    expect(whatIfChanges(subjects, options)).toEqual([
      { resourceId: uaiId('kept'), changeType: 'Deploy' },
      { resourceId: uaiId('new'), changeType: 'Deploy' },
      { resourceId: uaiId('other'), changeType: 'Ignore' },
    ]);
    expect(whatIfChanges(subjects, { ...options, mode: 'Complete' })[2]).toEqual({
      resourceId: uaiId('other'),
      changeType: 'Delete',
    });
  });
});

describe('whatIfChanges: property delta', () => {
  it('flattens nested objects into dotted paths, sorted, for Create, Delete and Modify', () => {
    const before = {
      properties: { settings: { port: 80, mode: 'a', gone: true }, name: 'x' },
      tags: { env: 'dev' },
    };
    const after = {
      properties: { settings: { port: 8080, mode: 'a', added: { deep: 1 } }, name: 'x' },
      tags: { env: 'prod' },
    };
    expect(deltaOf(before, after)).toEqual([
      { path: 'properties.settings.added.deep', propertyChangeType: 'Create', after: 1 },
      { path: 'properties.settings.gone', propertyChangeType: 'Delete', before: true },
      { path: 'properties.settings.port', propertyChangeType: 'Modify', before: 80, after: 8080 },
      { path: 'tags.env', propertyChangeType: 'Modify', before: 'dev', after: 'prod' },
    ]);
  });

  it('reports a value of another kind as Modify of the whole value', () => {
    expect(deltaOf({ properties: { v: { a: 1 } } }, { properties: { v: 'a' } })).toEqual([
      { path: 'properties.v', propertyChangeType: 'Modify', before: { a: 1 }, after: 'a' },
    ]);
  });

  it('matches member names in any case and shows the template spelling', () => {
    const before = { Properties: { DnsSettings: { Port: 1 } }, Tags: { Env: 'a' } };
    const after = { properties: { dnsSettings: { port: 2 } }, tags: { env: 'a' } };
    expect(deltaOf(before, after)).toEqual([
      { path: 'properties.dnsSettings.port', propertyChangeType: 'Modify', before: 1, after: 2 },
    ]);
  });

  it('treats a null member as an absent one', () => {
    const before = { properties: { condition: null, description: 'd' } };
    const after = { properties: { description: 'd', extra: null } };
    expect(deltaOf(before, after)).toBeUndefined();
  });

  it('compares arrays index by index: a primitive replaced is Delete plus Create at its index', () => {
    // deploy-what-if.md's example: `- 0: "10.0.0.0/16"` then `+ 0: "10.0.0.0/15"`.
    const before = { properties: { addressPrefixes: ['10.0.0.0/16', '10.1.0.0/16'] } };
    const after = { properties: { addressPrefixes: ['10.0.0.0/15', '10.1.0.0/16'] } };
    expect(deltaOf(before, after)).toEqual([
      {
        path: 'properties.addressPrefixes',
        propertyChangeType: 'Array',
        children: [
          { path: '0', propertyChangeType: 'Delete', before: '10.0.0.0/16' },
          { path: '0', propertyChangeType: 'Create', after: '10.0.0.0/15' },
        ],
      },
    ]);
  });

  it('shows elements added at the end as Create and removed as Delete, sorted by index', () => {
    const grown = deltaOf({ properties: { list: [1] } }, { properties: { list: [1, 2, 3] } });
    expect(grown).toEqual([
      {
        path: 'properties.list',
        propertyChangeType: 'Array',
        children: [
          { path: '1', propertyChangeType: 'Create', after: 2 },
          { path: '2', propertyChangeType: 'Create', after: 3 },
        ],
      },
    ]);
    const shrunk = deltaOf(
      { properties: { subnets: [{ name: 'a' }, { name: 'b', properties: { prefix: 'p' } }] } },
      { properties: { subnets: [{ name: 'a' }] } },
    );
    expect(shrunk).toEqual([
      {
        path: 'properties.subnets',
        propertyChangeType: 'Array',
        children: [
          {
            path: '1',
            propertyChangeType: 'Delete',
            before: { name: 'b', properties: { prefix: 'p' } },
          },
        ],
      },
    ]);
  });

  it('shows a changed object element as Modify with children relative to the element', () => {
    const before = {
      properties: {
        rules: [
          { name: 'r0', tag: 'Default', properties: { priority: 100 } },
          { name: 'r1', properties: { ports: [80] } },
        ],
      },
    };
    const after = {
      properties: {
        rules: [
          { name: 'r0', properties: { priority: 200 } },
          { name: 'r1', properties: { ports: [80, 443] } },
        ],
      },
    };
    expect(deltaOf(before, after)).toEqual([
      {
        path: 'properties.rules',
        propertyChangeType: 'Array',
        children: [
          {
            path: '0',
            propertyChangeType: 'Modify',
            children: [
              {
                path: 'properties.priority',
                propertyChangeType: 'Modify',
                before: 100,
                after: 200,
              },
              { path: 'tag', propertyChangeType: 'Delete', before: 'Default' },
            ],
          },
          {
            path: '1',
            propertyChangeType: 'Modify',
            children: [
              {
                path: 'properties.ports',
                propertyChangeType: 'Array',
                children: [{ path: '1', propertyChangeType: 'Create', after: 443 }],
              },
            ],
          },
        ],
      },
    ]);
  });

  it('shows arrays of arrays as nested Array changes', () => {
    expect(deltaOf({ properties: { m: [[1], [2]] } }, { properties: { m: [[1], [3]] } })).toEqual([
      {
        path: 'properties.m',
        propertyChangeType: 'Array',
        children: [
          {
            path: '1',
            propertyChangeType: 'Array',
            children: [
              { path: '0', propertyChangeType: 'Delete', before: 2 },
              { path: '0', propertyChangeType: 'Create', after: 3 },
            ],
          },
        ],
      },
    ]);
  });

  it('sees no change in equal arrays and objects whatever their member order', () => {
    const before = { properties: { list: [{ a: 1, b: 2 }], obj: { x: 1, y: [1, 2] } } };
    const after = { properties: { obj: { y: [1, 2], x: 1 }, list: [{ b: 2, a: 1 }] } };
    expect(deltaOf(before, after)).toBeUndefined();
  });
});

describe('whatIfChanges: envelope members', () => {
  it('compares id, name and type in any case and location in any case and spacing', () => {
    const before = identityNow('id1', { location: 'westus2' });
    const after = {
      ...identityDeployed('id1'),
      id: uaiId('id1').toUpperCase(),
      name: 'ID1',
      type: UAI_TYPE.toLowerCase(),
      location: 'West US 2',
    };
    const [change] = whatIfChanges([{ resourceId: uaiId('id1'), before, after }], FULL);
    expect(change?.changeType).toBe('NoChange');
    expect(change?.delta).toBeUndefined();
  });

  it('still reports another name, another location and another apiVersion', () => {
    const before = identityNow('id1');
    const after = { ...identityDeployed('id2'), location: 'East US', apiVersion: '2024-11-30' };
    expect(whatIfChanges([{ resourceId: uaiId('id1'), before, after }], FULL)[0]?.delta).toEqual([
      {
        path: 'apiVersion',
        propertyChangeType: 'Modify',
        before: '2023-01-31',
        after: '2024-11-30',
      },
      { path: 'id', propertyChangeType: 'Modify', before: uaiId('id1'), after: uaiId('id2') },
      { path: 'location', propertyChangeType: 'Modify', before: 'westus2', after: 'East US' },
      { path: 'name', propertyChangeType: 'Modify', before: 'id1', after: 'id2' },
    ]);
  });

  it('compares location exactly below the envelope', () => {
    const delta = deltaOf(
      { properties: { location: 'westus' } },
      { properties: { location: 'West US' } },
    );
    expect(delta).toEqual([
      {
        path: 'properties.location',
        propertyChangeType: 'Modify',
        before: 'westus',
        after: 'West US',
      },
    ]);
  });

  it('never compares etag, systemData or managedBy, even with an empty read-only list', () => {
    const before = { id: VM_ID, etag: '"1"', systemData: { createdBy: 'a' }, managedBy: 'x' };
    const after = { id: VM_ID, etag: '"2"' };
    expect(deltaOf(before, after, { readOnly: [] })).toEqual([
      { path: 'etag', propertyChangeType: 'NoEffect', after: '"2"' },
    ]);
  });

  it('treats empty tags, and properties holding only computed members, as absent', () => {
    const before = identityNow('id1', { tags: {} });
    const after = identityDeployed('id1', { properties: {} });
    const [change] = whatIfChanges([{ resourceId: uaiId('id1'), before, after }], FULL);
    expect(change?.changeType).toBe('NoChange');
    const tagged = whatIfChanges(
      [{ resourceId: uaiId('id1'), before: identityNow('id1', { tags: { a: '1' } }), after }],
      FULL,
    );
    expect(tagged[0]?.delta).toEqual([
      { path: 'tags.a', propertyChangeType: 'Delete', before: '1' },
    ]);
  });
});

describe('whatIfChanges: read-only paths', () => {
  const vmNow = {
    apiVersion: '2024-07-01',
    id: VM_ID,
    name: 'vm1',
    type: 'Microsoft.Compute/virtualMachines',
    location: 'westus',
    etag: '"3"',
    identity: {
      type: 'SystemAssigned, UserAssigned',
      principalId: 'p-system',
      tenantId: 't',
      userAssignedIdentities: { [uaiId('a')]: { principalId: 'p-a', clientId: 'c-a' } },
    },
    properties: {
      vmId: '33333333-3333-3333-3333-333333333333',
      hardwareProfile: { vmSize: 'Standard_B1s' },
      provisioningState: 'Succeeded',
    },
  };
  const vmDeployed = {
    id: VM_ID,
    name: 'vm1',
    type: 'Microsoft.Compute/virtualMachines',
    apiVersion: '2024-07-01',
    location: 'westus',
    identity: {
      type: 'SystemAssigned, UserAssigned',
      userAssignedIdentities: { [uaiId('a')]: {} },
    },
    properties: { hardwareProfile: { vmSize: 'Standard_B1s' } },
  };

  it('shows no noise from what Tessera computes for a VM', () => {
    const [change] = whatIfChanges([{ resourceId: VM_ID, before: vmNow, after: vmDeployed }], FULL);
    expect(change?.changeType).toBe('NoChange');
    expect(change?.delta).toBeUndefined();
  });

  it('reports the same members as changes without the read-only list', () => {
    const delta = whatIfChanges([{ resourceId: VM_ID, before: vmNow, after: vmDeployed }], {
      ...FULL,
      readOnly: [],
    })[0]?.delta;
    expect(delta?.map((c) => [c.path, c.propertyChangeType])).toEqual([
      ['identity.principalId', 'Delete'],
      ['identity.tenantId', 'Delete'],
      [`identity.userAssignedIdentities.${uaiId('a')}.clientId`, 'Delete'],
      [`identity.userAssignedIdentities.${uaiId('a')}.principalId`, 'Delete'],
      ['properties.provisioningState', 'Delete'],
      ['properties.vmId', 'Delete'],
    ]);
  });

  it('shows identities added and removed, read-only members left out of the values', () => {
    const after = {
      ...vmDeployed,
      identity: {
        type: 'SystemAssigned, UserAssigned',
        userAssignedIdentities: { [uaiId('b')]: {} },
      },
    };
    const [change] = whatIfChanges([{ resourceId: VM_ID, before: vmNow, after }], FULL);
    expect(change?.changeType).toBe('Modify');
    expect(change?.delta).toEqual([
      {
        path: `identity.userAssignedIdentities.${uaiId('a')}`,
        propertyChangeType: 'Delete',
        before: {},
      },
      {
        path: `identity.userAssignedIdentities.${uaiId('b')}`,
        propertyChangeType: 'Create',
        after: {},
      },
    ]);
  });

  it('reports a read-only member the template sets to another value as NoEffect only', () => {
    const after = { ...vmDeployed, properties: { ...vmDeployed.properties, vmId: 'mine' } };
    const [change] = whatIfChanges([{ resourceId: VM_ID, before: vmNow, after }], FULL);
    expect(change?.changeType).toBe('NoChange');
    expect(change?.delta).toEqual([
      { path: 'properties.vmId', propertyChangeType: 'NoEffect', after: 'mine' },
    ]);
  });

  it('limits a typed pattern to its type: a vault tenantId is compared, an identity one not', () => {
    const vaultId = `${RG}/providers/Microsoft.KeyVault/vaults/kv1`;
    const vault = (tenantId: string): Record<string, unknown> => ({
      id: vaultId,
      type: 'Microsoft.KeyVault/vaults',
      properties: { tenantId, vaultUri: 'https://kv1.vault.azure.net/', accessPolicies: [] },
    });
    const changes = whatIfChanges(
      [
        {
          resourceId: vaultId,
          before: vault('t1'),
          after: { ...vault('t2'), properties: { tenantId: 't2' } },
        },
        {
          resourceId: uaiId('id1'),
          before: identityNow('id1'),
          after: identityDeployed('id1', { properties: { tenantId: 'other' } }),
        },
      ],
      FULL,
    );
    expect(changes.map((c) => [c.changeType, c.delta])).toEqual([
      [
        'Modify',
        [{ path: 'properties.tenantId', propertyChangeType: 'Modify', before: 't1', after: 't2' }],
      ],
      [
        'NoChange',
        [{ path: 'properties.tenantId', propertyChangeType: 'NoEffect', after: 'other' }],
      ],
    ]);
  });

  it('matches `*` against array indices and custom patterns replace the defaults', () => {
    const before = { properties: { items: [{ id: 'a', state: 'x' }], provisioningState: 'S' } };
    const after = { properties: { items: [{ id: 'a' }] } };
    expect(deltaOf(before, after, { readOnly: ['properties.items.*.state'] })).toEqual([
      { path: 'properties.provisioningState', propertyChangeType: 'Delete', before: 'S' },
    ]);
  });

  it('shows no noise for a role assignment and a vault as Tessera renders them', () => {
    const scope = RG;
    const raId = `${scope}/providers/Microsoft.Authorization/roleAssignments/0b7f7a4c-1111-4e0e-9e0b-000000000001`;
    const roleDefinitionId =
      '/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6';
    const assignmentNow = {
      apiVersion: '2022-04-01',
      properties: {
        roleDefinitionId,
        principalId: 'p1',
        principalType: 'ServicePrincipal',
        scope,
        condition: null,
        conditionVersion: null,
        createdOn: '2024-01-01T00:00:00.000Z',
        updatedOn: '2024-01-01T00:00:00.000Z',
        createdBy: 'caller',
        updatedBy: 'caller',
        delegatedManagedIdentityResourceId: null,
        description: null,
      },
      id: raId,
      type: 'Microsoft.Authorization/roleAssignments',
      name: '0b7f7a4c-1111-4e0e-9e0b-000000000001',
    };
    const assignmentDeployed = {
      id: raId,
      name: '0b7f7a4c-1111-4e0e-9e0b-000000000001',
      type: 'Microsoft.Authorization/roleAssignments',
      apiVersion: '2022-04-01',
      properties: { roleDefinitionId, principalId: 'p1', principalType: 'ServicePrincipal' },
    };
    const vaultId = `${RG}/providers/Microsoft.KeyVault/vaults/kv1`;
    const vaultNow = {
      apiVersion: '2023-07-01',
      id: vaultId,
      name: 'kv1',
      type: 'Microsoft.KeyVault/vaults',
      location: 'westus',
      tags: {},
      properties: {
        sku: { family: 'A', name: 'standard' },
        tenantId: 't1',
        accessPolicies: [],
        enableRbacAuthorization: true,
        vaultUri: 'https://kv1.vault.azure.net/',
        provisioningState: 'Succeeded',
      },
    };
    const vaultDeployed = {
      id: vaultId,
      name: 'kv1',
      type: 'Microsoft.KeyVault/vaults',
      apiVersion: '2023-07-01',
      location: 'West US',
      properties: { tenantId: 't1', sku: { name: 'standard', family: 'A' } },
    };
    const changes = whatIfChanges(
      [
        { resourceId: raId, before: assignmentNow, after: assignmentDeployed },
        { resourceId: vaultId, before: vaultNow, after: vaultDeployed },
      ],
      FULL,
    );
    expect(changes.map((c) => [c.resourceId, c.changeType, c.delta])).toEqual([
      [raId, 'NoChange', undefined],
      [vaultId, 'NoChange', undefined],
    ]);
  });

  it('covers the members the renderers compute', () => {
    expect(TESSERA_READ_ONLY_PATHS).toEqual(
      expect.arrayContaining([
        'properties.provisioningState',
        'identity.userAssignedIdentities.*.principalId',
        'Microsoft.ManagedIdentity/userAssignedIdentities:properties.clientId',
        'Microsoft.Compute/virtualMachines:properties.vmId',
        'Microsoft.KeyVault/vaults:properties.vaultUri',
        'Microsoft.Authorization/roleAssignments:properties.createdOn',
        'Microsoft.Authorization/roleDefinitions:properties.updatedBy',
      ]),
    );
  });
});
