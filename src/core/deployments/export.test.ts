// Tests of the resource-group export: the exact template, its options and errors, and that it deploys into another group.
import { describe, expect, it } from 'vitest';

import {
  GROUP_SCOPE,
  SUBSCRIPTION_ID,
  TENANT_ID,
} from '../../../test/fixtures/expression-context.js';
import type { TemplateValue } from '../templates/context.js';
import { planDeployment, type PlannedResource, type TemplateRuntime } from '../templates/plan.js';
import { readTemplate } from '../templates/template.js';
import { templateGuid } from '../templates/unique.js';
import { exportGroupTemplate, type ExportedResource } from './export.js';

const RA_T = 'Microsoft.Authorization/roleAssignments';
const VM_T = 'Microsoft.Compute/virtualMachines';
const VMSS_T = 'Microsoft.Compute/virtualMachineScaleSets';
const KV_T = 'Microsoft.KeyVault/vaults';
const UAI_T = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const FIC_T = `${UAI_T}/federatedIdentityCredentials`;
const GROUP = { subscriptionId: SUBSCRIPTION_ID, name: 'rg-src' };
const SRC = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-src`;
const UAI_ID = `${SRC}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app.1`;
const VAULT_ID = `${SRC}/providers/Microsoft.KeyVault/vaults/kv-src`;
const UAI_PRINCIPAL = '6a0d2b1e-0000-4000-8000-00000000000a';
const VM_PRINCIPAL = '6a0d2b1e-0000-4000-8000-00000000000b';
const USER = '6a0d2b1e-0000-4000-8000-00000000000c';
const DEFINITIONS = `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions`;
const READER = `${DEFINITIONS}/acdd72a7-3385-48ef-bd42-f606fba81ae7`;
const SECRETS_USER = `${DEFINITIONS}/4633458b-17de-408a-b874-0445c86b69e6`;

/** A role assignment as `renderRoleAssignment` shows it. */
function assignment(scope: string, guid: string, who: string, role: string): ExportedResource {
  const id = `${scope}/providers/${RA_T}/${guid}`;
  const at = '2024-01-02T03:04:05.000Z';
  const properties = {
    roleDefinitionId: role,
    principalId: who,
    principalType: who === USER ? 'User' : 'ServicePrincipal',
    scope,
    condition: null,
    conditionVersion: null,
    createdOn: at,
    updatedOn: at,
    createdBy: USER,
    updatedBy: USER,
    delegatedManagedIdentityResourceId: null,
    description: null,
  };
  return {
    id,
    type: RA_T,
    apiVersion: '2022-04-01',
    body: { properties, id, type: RA_T, name: guid },
  };
}

/** `{group}/providers/{ns}/{t1}/{n1}/{t2}/{n2}` for a type and a `n1/n2` name. */
function idIn(group: string, type: string, name: string): string {
  const [namespace = '', ...types] = type.split('/');
  const names = name.split('/');
  return `${group}/providers/${namespace}${types.map((t, i) => `/${t}/${names[i] ?? ''}`).join('')}`;
}

/** A resource of rg-src as ARM GET shows it. */
function resource(type: string, name: string, apiVersion: string, body: object): ExportedResource {
  const id = idIn(SRC, type, name);
  return { id, type, apiVersion, body: { id, name: name.split('/').at(-1), type, ...body } };
}

const FIC_PROPERTIES = {
  issuer: 'https://token.actions.githubusercontent.com',
  subject: 'repo:org/app:ref:refs/heads/main',
  audiences: ['api://AzureADTokenExchange'],
};
const EXTENSION_PROPERTIES = {
  publisher: 'Microsoft.ManagedIdentity',
  type: 'ManagedIdentityExtensionForLinux',
  typeHandlerVersion: '1.0',
  settings: { port: 50342, note: '[not an expression]' },
};

// The group's resources as Tessera's renderers show them, in no particular order.
const RESOURCES: readonly ExportedResource[] = [
  assignment(VAULT_ID, '22222222-2222-4222-8222-222222222222', UAI_PRINCIPAL, SECRETS_USER),
  resource(VM_T, 'vm1', '2024-07-01', {
    location: 'westus',
    etag: '"1"',
    identity: {
      type: 'SystemAssigned, UserAssigned',
      principalId: VM_PRINCIPAL,
      tenantId: TENANT_ID,
      // Another spelling of the identity's id: ids match without case.
      userAssignedIdentities: {
        [UAI_ID.replace('resourceGroups', 'resourcegroups')]: {
          principalId: UAI_PRINCIPAL,
          clientId: '6a0d2b1e-0000-4000-8000-0000000000c1',
        },
      },
    },
    properties: {
      hardwareProfile: { vmSize: 'Standard_B1s' },
      tessera: { hostId: 'host-1', privateIpAddresses: ['10.0.0.4'] },
      vmId: '0f0f0f0f-0000-4000-8000-000000000001',
      provisioningState: 'Succeeded',
    },
  }),
  resource(FIC_T, 'id-app.1/gh', '2023-01-31', { properties: FIC_PROPERTIES }),
  assignment(SRC, '11111111-1111-4111-8111-111111111111', VM_PRINCIPAL, READER),
  resource('Microsoft.Storage/storageAccounts', 'st1', '2023-01-01', { location: 'westus' }),
  resource(KV_T, 'kv-src', '2023-07-01', {
    location: 'westus',
    tags: {},
    properties: {
      sku: { family: 'A', name: 'standard' },
      tenantId: TENANT_ID,
      accessPolicies: [
        { tenantId: TENANT_ID, objectId: UAI_PRINCIPAL, permissions: { secrets: ['get'] } },
      ],
      enableRbacAuthorization: false,
      vaultUri: 'https://kv-src.vault.azure.net/',
      provisioningState: 'Succeeded',
    },
  }),
  resource(`${VM_T}/extensions`, 'vm1/ext-mi', '2024-07-01', {
    location: 'westus',
    properties: { ...EXTENSION_PROPERTIES, provisioningState: 'Succeeded' },
  }),
  resource(UAI_T, 'id-app.1', '2023-01-31', {
    location: 'westus',
    tags: { team: 'blue' },
    properties: {
      tenantId: TENANT_ID,
      principalId: UAI_PRINCIPAL,
      clientId: '6a0d2b1e-0000-4000-8000-0000000000c1',
    },
  }),
  assignment(SRC, '33333333-3333-4333-8333-333333333333', USER, READER),
  resource(VMSS_T, 'ss1', '2024-07-01', {
    location: 'westus',
    sku: { name: 'Standard_B1s', tier: 'Standard', capacity: 2 },
    identity: { type: 'UserAssigned', userAssignedIdentities: { [UAI_ID]: {} } },
    properties: {
      upgradePolicy: { mode: 'Manual' },
      uniqueId: '0f0f0f0f-0000-4000-8000-000000000002',
      timeCreated: '2024-01-02T03:04:05Z',
      provisioningState: 'Succeeded',
    },
  }),
];

const VM =
  "resourceId('Microsoft.Compute/virtualMachines', parameters('virtualMachines_vm1_name'))";
const UAI =
  "resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('userAssignedIdentities_id_app_1_name'))";
const VAULT = "resourceId('Microsoft.KeyVault/vaults', parameters('vaults_kv_src_name'))";
const UAI_PRINCIPAL_REF = `[reference(${UAI}, '2023-01-31').principalId]`;

const EXPECTED_RESOURCES = [
  {
    type: RA_T,
    apiVersion: '2022-04-01',
    name: `[guid(resourceGroup().id, ${VM}, '${READER}')]`,
    dependsOn: [`[${VM}]`],
    properties: {
      roleDefinitionId: READER,
      principalId: `[reference(${VM}, '2024-07-01', 'Full').identity.principalId]`,
      principalType: 'ServicePrincipal',
    },
  },
  {
    type: RA_T,
    apiVersion: '2022-04-01',
    name: `[guid(${VAULT}, ${UAI}, '${SECRETS_USER}')]`,
    scope: "[concat('Microsoft.KeyVault/vaults/', parameters('vaults_kv_src_name'))]",
    dependsOn: [`[${VAULT}]`, `[${UAI}]`],
    properties: {
      roleDefinitionId: SECRETS_USER,
      principalId: UAI_PRINCIPAL_REF,
      principalType: 'ServicePrincipal',
    },
  },
  {
    type: RA_T,
    apiVersion: '2022-04-01',
    name: `[guid(resourceGroup().id, '${USER}', '${READER}')]`,
    properties: { roleDefinitionId: READER, principalId: USER, principalType: 'User' },
  },
  {
    type: VM_T,
    apiVersion: '2024-07-01',
    name: "[parameters('virtualMachines_vm1_name')]",
    location: 'westus',
    dependsOn: [`[${UAI}]`],
    identity: {
      type: 'SystemAssigned, UserAssigned',
      userAssignedIdentities: { [`[${UAI}]`]: {} },
    },
    properties: {
      hardwareProfile: { vmSize: 'Standard_B1s' },
      tessera: { hostId: 'host-1', privateIpAddresses: ['10.0.0.4'] },
    },
  },
  {
    type: `${VM_T}/extensions`,
    apiVersion: '2024-07-01',
    name: "[concat(parameters('virtualMachines_vm1_name'), '/ext-mi')]",
    location: 'westus',
    dependsOn: [`[${VM}]`],
    properties: {
      ...EXTENSION_PROPERTIES,
      settings: { port: 50342, note: '[[not an expression]' },
    },
  },
  {
    type: VMSS_T,
    apiVersion: '2024-07-01',
    name: "[parameters('virtualMachineScaleSets_ss1_name')]",
    location: 'westus',
    dependsOn: [`[${UAI}]`],
    sku: { name: 'Standard_B1s', tier: 'Standard', capacity: 2 },
    identity: { type: 'UserAssigned', userAssignedIdentities: { [`[${UAI}]`]: {} } },
    properties: { upgradePolicy: { mode: 'Manual' } },
  },
  {
    type: KV_T,
    apiVersion: '2023-07-01',
    name: "[parameters('vaults_kv_src_name')]",
    location: 'westus',
    dependsOn: [`[${UAI}]`],
    properties: {
      sku: { family: 'A', name: 'standard' },
      tenantId: '[subscription().tenantId]',
      accessPolicies: [
        {
          tenantId: '[subscription().tenantId]',
          objectId: UAI_PRINCIPAL_REF,
          permissions: { secrets: ['get'] },
        },
      ],
      enableRbacAuthorization: false,
    },
  },
  {
    type: UAI_T,
    apiVersion: '2023-01-31',
    name: "[parameters('userAssignedIdentities_id_app_1_name')]",
    location: 'westus',
    tags: { team: 'blue' },
  },
  {
    type: FIC_T,
    apiVersion: '2023-01-31',
    name: "[concat(parameters('userAssignedIdentities_id_app_1_name'), '/gh')]",
    dependsOn: [`[${UAI}]`],
    properties: FIC_PROPERTIES,
  },
];

describe('exportGroupTemplate', () => {
  it('writes the template Azure would, with every cross-reference as an expression', () => {
    const { template, errors } = exportGroupTemplate(GROUP, RESOURCES, {});
    expect(template).toEqual({
      $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
      contentVersion: '1.0.0.0',
      parameters: {
        virtualMachines_vm1_name: { type: 'String' },
        virtualMachineScaleSets_ss1_name: { type: 'String' },
        vaults_kv_src_name: { type: 'String' },
        userAssignedIdentities_id_app_1_name: { type: 'String' },
      },
      variables: {},
      resources: EXPECTED_RESOURCES,
    });
    // Key order is part of the answer too: members come in the order Azure's exports write them.
    expect(JSON.stringify(template.resources)).toBe(JSON.stringify(EXPECTED_RESOURCES));
    expect(errors).toEqual([
      {
        code: 'ExportTemplateProviderError',
        message:
          "Could not get resources of the type 'Microsoft.Storage/storageAccounts'. Resources of this type will not be exported.",
        target: 'Microsoft.Storage/storageAccounts',
      },
    ]);
  });

  it('does not depend on the order resources come in', () => {
    const reversed = exportGroupTemplate(GROUP, [...RESOURCES].reverse(), {});
    expect(JSON.stringify(reversed)).toBe(
      JSON.stringify(exportGroupTemplate(GROUP, RESOURCES, {})),
    );
  });

  it('gives the parameters default values with includeParameterDefaultValue', () => {
    const options = { includeParameterDefaultValue: true };
    const { template } = exportGroupTemplate(GROUP, RESOURCES, options);
    expect(template.parameters).toEqual({
      virtualMachines_vm1_name: { defaultValue: 'vm1', type: 'String' },
      virtualMachineScaleSets_ss1_name: { defaultValue: 'ss1', type: 'String' },
      vaults_kv_src_name: { defaultValue: 'kv-src', type: 'String' },
      userAssignedIdentities_id_app_1_name: { defaultValue: 'id-app.1', type: 'String' },
    });
  });

  it.each([{ skipResourceNameParameterization: true }, { skipAllParameterization: true }])(
    'writes names as literals with %o',
    (options) => {
      const { template } = exportGroupTemplate(GROUP, RESOURCES, options);
      const resources = template.resources as Record<string, unknown>[];
      expect(template.parameters).toEqual({});
      const literalNames = 'vm1 vm1/ext-mi ss1 kv-src id-app.1 id-app.1/gh'.split(' ');
      expect(resources.map((r) => r.name).slice(3)).toEqual(literalNames);
      const uai = `resourceId('${UAI_T}', 'id-app.1')`;
      expect(resources[1]).toMatchObject({
        name: `[guid(resourceId('Microsoft.KeyVault/vaults', 'kv-src'), ${uai}, '${SECRETS_USER}')]`,
        scope: 'Microsoft.KeyVault/vaults/kv-src',
        dependsOn: ["[resourceId('Microsoft.KeyVault/vaults', 'kv-src')]", `[${uai}]`],
      });
    },
  );

  it('reports a resource outside the group, and keeps ids of resources it leaves out literal', () => {
    const stranger = idIn(`/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/other`, UAI_T, 'x');
    const vm = resource(VM_T, 'vm1', '2024-07-01', {
      location: 'westus',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [stranger]: {} } },
    });
    const outside = { id: stranger, type: UAI_T, apiVersion: '2023-01-31', body: {} };
    const { template, errors } = exportGroupTemplate(GROUP, [vm, outside], {});
    expect(template.resources).toEqual([
      {
        type: VM_T,
        apiVersion: '2024-07-01',
        name: "[parameters('virtualMachines_vm1_name')]",
        location: 'westus',
        identity: { type: 'UserAssigned', userAssignedIdentities: { [stranger]: {} } },
      },
    ]);
    expect(errors).toEqual([
      {
        code: 'ExportTemplateInvalidResource',
        message: `The resource '${stranger}' is not in the resource group 'rg-src'. It will not be exported.`,
        target: stranger,
      },
    ]);
  });

  it('tells apart two names that sanitise alike', () => {
    const uai = (name: string): ExportedResource =>
      resource(UAI_T, name, '2023-01-31', { location: 'westus' });
    const { template } = exportGroupTemplate(GROUP, [uai('a.b'), uai('a-b')], {});
    expect(Object.keys(template.parameters as object)).toEqual([
      'userAssignedIdentities_a_b_name',
      'userAssignedIdentities_a_b_name_2',
    ]);
    expect((template.resources as { name: string }[]).map((r) => r.name)).toEqual([
      "[parameters('userAssignedIdentities_a_b_name')]",
      "[parameters('userAssignedIdentities_a_b_name_2')]",
    ]);
  });
});

describe('the exported template deployed into another group', () => {
  const COPY = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-copy`;
  const NEW_UAI = idIn(COPY, UAI_T, 'id-copy');
  const NEW_VM = idIn(COPY, VM_T, 'vm2');
  const NEW_VAULT = idIn(COPY, KV_T, 'kv-copy');
  const NEW_UAI_PRINCIPAL = '7b0d2b1e-0000-4000-8000-00000000000a';
  const NEW_VM_PRINCIPAL = '7b0d2b1e-0000-4000-8000-00000000000b';

  const { template } = exportGroupTemplate(GROUP, RESOURCES, {});
  const plan = planDeployment(readTemplate(template as TemplateValue), {
    scope: { ...GROUP_SCOPE, resourceGroup: { name: 'rg-copy', location: 'eastus', tags: {} } },
    parameters: {
      virtualMachines_vm1_name: { value: 'vm2' },
      virtualMachineScaleSets_ss1_name: { value: 'ss2' },
      vaults_kv_src_name: { value: 'kv-copy' },
      userAssignedIdentities_id_app_1_name: { value: 'id-copy' },
    },
    newGuid: () => '0d6c4d4e-7a4b-4c59-9d7b-2f0f1f1f1f1f',
    now: () => Date.UTC(2024, 0, 2),
  });
  // What the new resources' reference() answers once they exist.
  const runtime: TemplateRuntime = {
    reference(id, apiVersion, full) {
      if (id === NEW_UAI && apiVersion === '2023-01-31' && !full) {
        return { tenantId: TENANT_ID, principalId: NEW_UAI_PRINCIPAL, clientId: 'c' };
      }
      if (id === NEW_VM && apiVersion === '2024-07-01' && full) {
        return { identity: { type: 'SystemAssigned', principalId: NEW_VM_PRINCIPAL } };
      }
      throw new Error(`unexpected reference(${id}, ${apiVersion}, ${String(full)})`);
    },
  };
  const assignmentId = (scope: string, ...parts: string[]): string =>
    `${scope}/providers/${RA_T}/${templateGuid(parts)}`;
  const planned = (id: string): PlannedResource | undefined =>
    plan.resources.find((r) => r.id === id);
  const GROUP_READER = assignmentId(COPY, COPY, NEW_VM, READER);
  const VAULT_USER = assignmentId(NEW_VAULT, NEW_VAULT, NEW_UAI, SECRETS_USER);

  it('plans every resource under the new group and names, in dependency order', () => {
    expect(plan.resources.map((r) => [r.type, r.id, r.dependsOn])).toEqual([
      [RA_T, GROUP_READER, [NEW_VM]],
      [RA_T, VAULT_USER, [NEW_VAULT, NEW_UAI]],
      [RA_T, assignmentId(COPY, COPY, USER, READER), []],
      [VM_T, NEW_VM, [NEW_UAI]],
      [`${VM_T}/extensions`, `${NEW_VM}/extensions/ext-mi`, [NEW_VM]],
      [VMSS_T, idIn(COPY, VMSS_T, 'ss2'), [NEW_UAI]],
      [KV_T, NEW_VAULT, [NEW_UAI]],
      [UAI_T, NEW_UAI, []],
      [FIC_T, `${NEW_UAI}/federatedIdentityCredentials/gh`, [NEW_UAI]],
    ]);
    expect(planned(VAULT_USER)?.scope).toBe(NEW_VAULT);
    // Role assignments get fresh GUIDs: the source group's names are not reused.
    expect(plan.resources.some((r) => r.id.includes('11111111-1111'))).toBe(false);
  });

  it('evaluates the bodies against the new resources', () => {
    expect(planned(GROUP_READER)?.body(runtime)).toEqual({
      properties: {
        roleDefinitionId: READER,
        principalId: NEW_VM_PRINCIPAL,
        principalType: 'ServicePrincipal',
      },
    });
    expect(planned(VAULT_USER)?.body(runtime)).toMatchObject({
      properties: { principalId: NEW_UAI_PRINCIPAL },
    });
    expect(planned(NEW_VM)?.body(runtime)).toEqual({
      location: 'westus',
      identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [NEW_UAI]: {} } },
      properties: {
        hardwareProfile: { vmSize: 'Standard_B1s' },
        tessera: { hostId: 'host-1', privateIpAddresses: ['10.0.0.4'] },
      },
    });
    expect(planned(NEW_VAULT)?.body(runtime)).toMatchObject({
      properties: {
        tenantId: TENANT_ID,
        accessPolicies: [{ tenantId: TENANT_ID, objectId: NEW_UAI_PRINCIPAL }],
      },
    });
    expect(planned(`${NEW_VM}/extensions/ext-mi`)?.body(runtime)).toMatchObject({
      properties: { settings: { port: 50342, note: '[not an expression]' } },
    });
  });
});
