// Tests for parameters/variables, copyIndex, the scope objects, the resource-id functions and reference().
import { describe, expect, it } from 'vitest';
import {
  errorOf,
  evaluate,
  fakeContext,
  GROUP_SCOPE,
  SUBSCRIPTION_ID,
  SUBSCRIPTION_SCOPE,
  TENANT_ID,
} from '../../../test/fixtures/expression-context.js';
import { evaluateTemplateString } from './expressions.js';

const RG = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg1`;
const subscriptionScope = SUBSCRIPTION_SCOPE;

describe('parameters and variables', () => {
  it('look names up ignoring case, and may be computed', () => {
    const options = {
      parameters: { location: 'westeurope', builtInRoleType: 'Reader' },
      variables: { reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7' },
    };
    expect(evaluate("[parameters('Location')]", options)).toBe('westeurope');
    expect(evaluate("[variables(parameters('builtInRoleType'))]", options)).toBe(
      'acdd72a7-3385-48ef-bd42-f606fba81ae7',
    );
    expect(errorOf('[parameters(1)]')).toContain("expects its parameter to be of type 'String'");
  });
});

describe('copyIndex', () => {
  const loops = { '': 2, disks: 5 };

  it('answers the innermost or the named loop, plus an offset', () => {
    expect(evaluate('[copyIndex()]', { loops })).toBe(2);
    expect(evaluate('[copyIndex(1)]', { loops })).toBe(3);
    expect(evaluate("[copyIndex('Disks')]", { loops })).toBe(5);
    expect(evaluate("[copyIndex('disks', 10)]", { loops })).toBe(15);
    expect(evaluate("[concat('vm', copyIndex(1))]", { loops })).toBe('vm3');
  });

  it("refuses arguments of the wrong type, and passes on the engine's refusal", () => {
    expect(errorOf('[copyIndex(1, 2)]', { loops })).toContain(
      "first parameter to be of type 'String'",
    );
    expect(errorOf("[copyIndex('disks', 'x')]", { loops })).toContain(
      "second parameter to be of type 'Integer'",
    );
    expect(errorOf('[copyIndex()]')).toBe(
      "The template function 'copyIndex' is not expected at this location.",
    );
  });
});

describe('scope objects', () => {
  it('resourceGroup() (template-functions-scope.md)', () => {
    expect(evaluate('[resourceGroup()]')).toEqual({
      id: RG,
      name: 'rg1',
      type: 'Microsoft.Resources/resourceGroups',
      location: 'westus',
      tags: { env: 'test' },
      properties: { provisioningState: 'Succeeded' },
    });
  });

  it('resourceGroup() is not expected in a subscription deployment (observed wording)', () => {
    expect(errorOf('[RESOURCEGROUP().location]', { scope: subscriptionScope })).toBe(
      "The template function 'RESOURCEGROUP' is not expected at this location.",
    );
  });

  it('subscription() and tenant()', () => {
    expect(evaluate('[subscription()]')).toEqual({
      id: `/subscriptions/${SUBSCRIPTION_ID}`,
      subscriptionId: SUBSCRIPTION_ID,
      tenantId: TENANT_ID,
      displayName: 'Tessera Test',
    });
    expect(evaluate('[tenant()]')).toEqual({ id: `/tenants/${TENANT_ID}`, tenantId: TENANT_ID });
    const scope = { ...GROUP_SCOPE, tenantDisplayName: 'Contoso', tenantCountryCode: 'NL' };
    expect(evaluate('[tenant()]', { scope })).toEqual({
      countryCode: 'NL',
      displayName: 'Contoso',
      id: `/tenants/${TENANT_ID}`,
      tenantId: TENANT_ID,
    });
  });

  it('deployment() and environment()', () => {
    expect(evaluate('[deployment()]')).toEqual({ name: 'deploy1', properties: {} });
    const scope = {
      ...subscriptionScope,
      deploymentLocation: 'westus',
      deploymentProperties: { templateLink: { uri: 'https://example.test/azuredeploy.json' } },
    };
    expect(
      evaluate("[uri(deployment().properties.templateLink.uri, 'nested/vm.json')]", { scope }),
    ).toBe('https://example.test/nested/vm.json');
    expect(evaluate('[deployment().location]', { scope })).toBe('westus');
    expect(evaluate('[environment().suffixes.keyvaultDns]')).toBe('.vault.tessera.test');
  });
});

describe('resourceId', () => {
  it('builds ids in the deployment group, child types interleaving names', () => {
    expect(evaluate("[resourceId('Microsoft.Storage/storageAccounts', 'sa1')]")).toBe(
      `${RG}/providers/Microsoft.Storage/storageAccounts/sa1`,
    );
    expect(
      evaluate("[resourceId('Microsoft.Compute/virtualMachines/extensions', 'vm1', 'ext')]"),
    ).toBe(`${RG}/providers/Microsoft.Compute/virtualMachines/vm1/extensions/ext`);
  });

  it('takes a group, or a subscription and a group, before the type', () => {
    expect(evaluate("[resourceId('other', 'Microsoft.Network/virtualNetworks', 'vnet')]")).toBe(
      `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/other/providers/Microsoft.Network/virtualNetworks/vnet`,
    );
    expect(
      evaluate("[resourceId('sub2', 'rg2', 'Microsoft.Network/virtualNetworks', 'vnet')]"),
    ).toBe(
      '/subscriptions/sub2/resourceGroups/rg2/providers/Microsoft.Network/virtualNetworks/vnet',
    );
  });

  it("ignores a trailing '/' on the type (role-assignment and MSI templates write one)", () => {
    expect(
      evaluate("[resourceID('Microsoft.ManagedIdentity/userAssignedIdentities/', 'id1')]"),
    ).toBe(`${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`);
  });

  it('is at subscription level in a subscription deployment (template-functions-resource.md)', () => {
    expect(
      evaluate("[resourceId('Microsoft.Authorization/roleDefinitions', 'r1')]", {
        scope: subscriptionScope,
      }),
    ).toBe(
      `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/r1`,
    );
  });

  it('wants one name per type segment (observed wording)', () => {
    expect(errorOf("[resourceId('Microsoft.Compute/virtualMachines/extensions', 'vm1/ext')]")).toBe(
      "Unable to evaluate template language function 'resourceId': function requires exactly one multi-segmented argument which must be resource type including resource provider namespace. Current function arguments 'Microsoft.Compute/virtualMachines/extensions,vm1/ext'. Please see https://aka.ms/arm-resource-functions/#resourceid for usage details.",
    );
    expect(errorOf("[resourceId('Microsoft.Compute/virtualMachines/extensions', 'vm1')]")).toBe(
      "Unable to evaluate template language function 'resourceId': the type 'Microsoft.Compute/virtualMachines/extensions' requires '2' resource name argument(s). Please see https://aka.ms/arm-resource-functions/#resourceid for usage details.",
    );
  });

  it("counts a leading '/' as ARM does (azure-quickstart-templates PR 8065: requires '3')", () => {
    expect(
      errorOf(
        "[resourceId('rg', '/Microsoft.Network/virtualNetworks/subnets/', 'vnet', 'subnet')]",
      ),
    ).toContain(
      "the type '/Microsoft.Network/virtualNetworks/subnets' requires '3' resource name argument(s)",
    );
  });

  it('refuses arguments that are not strings, and too many before the type', () => {
    expect(errorOf("[resourceId('Microsoft.Storage/storageAccounts', 1)]")).toContain(
      'all function arguments must be string literals',
    );
    expect(
      errorOf("[resourceId('a', 'b', 'c', 'Microsoft.Storage/storageAccounts', 'sa')]"),
    ).toContain('function requires exactly one multi-segmented argument');
  });
});

describe('subscriptionResourceId, tenantResourceId, extensionResourceId', () => {
  it('subscriptionResourceId, with an optional subscription', () => {
    expect(
      evaluate("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r1')]"),
    ).toBe(
      `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/r1`,
    );
    expect(
      evaluate("[subscriptionResourceId('s2', 'Microsoft.Resources/resourceGroups', 'g')]"),
    ).toBe('/subscriptions/s2/providers/Microsoft.Resources/resourceGroups/g');
  });

  it('tenantResourceId', () => {
    expect(evaluate("[tenantResourceId('Microsoft.Authorization/policyDefinitions', 'p1')]")).toBe(
      '/providers/Microsoft.Authorization/policyDefinitions/p1',
    );
  });

  it('extensionResourceId puts the extension under the base id', () => {
    expect(
      evaluate(
        "[extensionResourceId(resourceGroup().id, 'Microsoft.Authorization/locks', 'lock1')]",
      ),
    ).toBe(`${RG}/providers/Microsoft.Authorization/locks/lock1`);
  });

  it('extensionResourceId wants exactly two multi-segmented arguments (observed wording)', () => {
    expect(
      errorOf(
        "[extensionResourceId('/providers/Microsoft.Management/managementGroups/ESD', 'Microsoft.Authorization/roleDefinitions', '/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/y')]",
      ),
    ).toBe(
      "Unable to evaluate template language function 'extensionResourceId': function requires exactly two multi-segmented arguments. The first must be the parent resource id while the second must be resource type including resource provider namespace. Current function arguments '/providers/Microsoft.Management/managementGroups/ESD,Microsoft.Authorization/roleDefinitions,/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/y'. Please see https://aka.ms/arm-resource-functions/#extensionresourceid for usage details.",
    );
  });
});

describe('reference', () => {
  const references = {
    [`${RG}/providers/Microsoft.Compute/virtualMachines/vm1`]: {
      identity: { principalId: 'p-1', tenantId: TENANT_ID },
    },
  };

  it("passes name or id, api-version and 'Full' to the engine, and selects from the answer", () => {
    const ctx = fakeContext({ references });
    const text =
      "[reference(resourceId('Microsoft.Compute/virtualMachines', 'vm1'), '2019-12-01', 'Full').Identity.principalId]";
    expect(evaluateTemplateString(text, ctx)).toBe('p-1');
    expect(
      evaluateTemplateString(
        "[reference('vm1x', '2019-12-01').x]",
        fakeContext({ references: { vm1x: { x: 1 } } }),
      ),
    ).toBe(1);
    expect(ctx.calls).toEqual([
      {
        nameOrId: `${RG}/providers/Microsoft.Compute/virtualMachines/vm1`,
        apiVersion: '2019-12-01',
        full: true,
      },
    ]);
  });

  it("accepts 'full' in any case and refuses anything else", () => {
    const ctx = fakeContext({ references: { a: {} } });
    evaluateTemplateString("[reference('a', '2020-01-01', 'FULL')]", ctx);
    evaluateTemplateString("[reference('a')]", ctx);
    expect(ctx.calls).toEqual([
      { nameOrId: 'a', apiVersion: '2020-01-01', full: true },
      { nameOrId: 'a', apiVersion: undefined, full: false },
    ]);
    expect(
      errorOf("[reference('a', '2020-01-01', 'Partial')]", { references: { a: {} } }),
    ).toContain("The third parameter 'Partial' must be 'Full'.");
  });
});
