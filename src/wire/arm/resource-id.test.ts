// Tests of ARM id parsing: every scope shape, case handling, round trips and ARM's error codes.
import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';

import {
  canonicalResourceId,
  formatResourceId,
  parseResourceId,
  parseScope,
  resourceIdKey,
  sameResourceId,
  validateResourceGroupName,
  validateResourceName,
} from './resource-id.js';

const SUB = '00000000-1111-2222-3333-444444444444';
const RG = `/subscriptions/${SUB}/resourceGroups/rg1`;
const VM = `${RG}/providers/Microsoft.Compute/virtualMachines/vm1`;
const UAI = `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`;

describe('parseResourceId', () => {
  it.each([
    {
      id: `/subscriptions/${SUB}`,
      kind: 'subscription',
      fullType: 'Microsoft.Resources/subscriptions',
      name: SUB,
      types: ['subscriptions'],
    },
    {
      id: RG,
      kind: 'resourceGroup',
      fullType: 'Microsoft.Resources/resourceGroups',
      name: 'rg1',
      types: ['resourceGroups'],
    },
    {
      id: VM,
      kind: 'resource',
      fullType: 'Microsoft.Compute/virtualMachines',
      name: 'vm1',
      types: ['virtualMachines'],
    },
    {
      id: `${VM}/extensions/ext1`,
      kind: 'resource',
      fullType: 'Microsoft.Compute/virtualMachines/extensions',
      name: 'ext1',
      types: ['virtualMachines', 'extensions'],
    },
    {
      id: `${VM}/providers/Microsoft.ManagedIdentity/identities/default`,
      kind: 'resource',
      fullType: 'Microsoft.ManagedIdentity/identities',
      name: 'default',
      types: ['identities'],
    },
    {
      id: `${RG}/providers/Microsoft.Authorization/roleAssignments/05c5a614-a7d6-4502-b150-c2fb455033ff`,
      kind: 'resource',
      fullType: 'Microsoft.Authorization/roleAssignments',
      name: '05c5a614-a7d6-4502-b150-c2fb455033ff',
      types: ['roleAssignments'],
    },
    {
      id: '/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7',
      kind: 'resource',
      fullType: 'Microsoft.Authorization/roleDefinitions',
      name: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
      types: ['roleDefinitions'],
    },
  ])('parses $fullType ($kind)', ({ id, kind, fullType, name, types }) => {
    const parsed = parseResourceId(id);
    expect(parsed).toMatchObject({ id, kind, fullType, name, types });
  });

  it('gives a child resource its parent, and every level its own id in the original case', () => {
    const ext = parseResourceId(`${VM}/extensions/ext1`);
    expect(ext).toMatchObject({
      subscriptionId: SUB,
      resourceGroup: 'rg1',
      provider: 'Microsoft.Compute',
      names: ['vm1', 'ext1'],
      extension: false,
    });
    expect(ext.parent?.id).toBe(VM);
    expect(ext.parent?.parent?.id).toBe(RG);
    expect(ext.parent?.parent?.parent?.id).toBe(`/subscriptions/${SUB}`);
  });

  it('marks an extension resource and makes its target the parent', () => {
    const assignment = parseResourceId(
      `${VM}/providers/Microsoft.Authorization/roleAssignments/a1b2c3d4-0000-0000-0000-000000000000`,
    );
    expect(assignment.extension).toBe(true);
    expect(assignment.parent?.id).toBe(VM);
    expect(assignment.resourceGroup).toBe('rg1');
  });

  it('matches keywords in any case and keeps names as written', () => {
    const id = `/SUBSCRIPTIONS/${SUB}/resourcegroups/MyRG/PROVIDERS/Microsoft.Compute/virtualMachines/MyVM`;
    const parsed = parseResourceId(id);
    expect(parsed).toMatchObject({ id, resourceGroup: 'MyRG', name: 'MyVM', kind: 'resource' });
    expect(parsed.parent?.id).toBe(`/SUBSCRIPTIONS/${SUB}/resourcegroups/MyRG`);
  });

  it.each([
    ['no leading slash', `subscriptions/${SUB}`],
    ['a trailing slash', `${RG}/`],
    ['an empty segment', `/subscriptions/${SUB}//resourceGroups/rg1`],
    ['a missing resource group name', `/subscriptions/${SUB}/resourceGroups`],
    ['a collection path', `${RG}/providers/Microsoft.Compute/virtualMachines`],
    ['an unknown keyword', `/subscriptions/${SUB}/things/x`],
    ['the root scope', '/'],
    ['nothing', ''],
  ])('refuses %s with LinkedInvalidPropertyId', (_, id) => {
    expect(armFailure(() => parseResourceId(id, { path: 'properties.scope' }))).toEqual({
      status: 400,
      code: 'LinkedInvalidPropertyId',
      message: `Property id '${id}' at path 'properties.scope' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.`,
    });
  });

  it('refuses a subscription that is not a GUID with InvalidSubscriptionId', () => {
    expect(armFailure(() => parseResourceId('/subscriptions/resourceGroups/rg/x'))).toEqual({
      status: 400,
      code: 'InvalidSubscriptionId',
      message: "The provided subscription identifier 'resourceGroups' is malformed or invalid.",
    });
  });

  it('checks names unless told not to', () => {
    const badUai = `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ab`;
    expect(armFailure(() => parseResourceId(badUai)).code).toBe('InvalidResourceName');
    expect(parseResourceId(badUai, { validateNames: false }).name).toBe('ab');
    expect(armFailure(() => parseResourceId(`/subscriptions/${SUB}/resourceGroups/a%b`)).code).toBe(
      'InvalidResourceGroup',
    );
  });
});

describe('parseScope', () => {
  it('accepts the root scope', () => {
    expect(parseScope('/')).toMatchObject({ kind: 'tenant', fullType: '', types: [] });
  });
});

describe('formatting and comparing', () => {
  it.each([
    `/subscriptions/${SUB}`,
    RG,
    VM,
    `${VM}/extensions/ext1`,
    `${VM}/providers/Microsoft.ManagedIdentity/identities/default`,
    `${VM}/extensions/e/providers/Microsoft.Authorization/roleAssignments/r1`,
    '/providers/Microsoft.Management/managementGroups/mg1',
    '/providers/Microsoft.Management/managementGroups/mg1/providers/Microsoft.Authorization/roleAssignments/r',
  ])('round-trips %s', (id) => {
    const parsed = parseResourceId(id);
    expect(canonicalResourceId(parsed)).toBe(id);
    expect(parseResourceId(canonicalResourceId(parsed))).toEqual(parsed);
  });

  it('formats each kind with canonical keywords', () => {
    expect(formatResourceId({ kind: 'subscription', subscriptionId: SUB })).toBe(
      `/subscriptions/${SUB}`,
    );
    expect(
      formatResourceId({ kind: 'resourceGroup', subscriptionId: SUB, resourceGroup: 'rg1' }),
    ).toBe(RG);
    expect(
      formatResourceId({
        kind: 'resource',
        scope: RG,
        provider: 'Microsoft.Compute',
        types: ['virtualMachines', 'extensions'],
        names: ['vm1', 'ext1'],
      }),
    ).toBe(`${VM}/extensions/ext1`);
    expect(
      formatResourceId({
        kind: 'resource',
        scope: '/',
        provider: 'Microsoft.Authorization',
        types: ['roleDefinitions'],
        names: ['x'],
      }),
    ).toBe('/providers/Microsoft.Authorization/roleDefinitions/x');
    expect(() =>
      formatResourceId({ kind: 'resource', scope: RG, provider: 'P', types: ['a'], names: [] }),
    ).toThrow();
  });

  it('canonicalises keywords but keeps names', () => {
    const lower = `/subscriptions/${SUB}/resourcegroups/RG1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/Id1`;
    expect(canonicalResourceId(parseResourceId(lower))).toBe(
      `/subscriptions/${SUB}/resourceGroups/RG1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/Id1`,
    );
  });

  it('keys and compares ids case-insensitively', () => {
    const upper = UAI.toUpperCase().replace(SUB.toUpperCase(), SUB);
    expect(resourceIdKey(UAI)).toBe(resourceIdKey(upper));
    expect(resourceIdKey(UAI)).toBe(UAI.toLowerCase());
    expect(sameResourceId(UAI, upper)).toBe(true);
    expect(sameResourceId(UAI, `${UAI}2`)).toBe(false);
  });
});

describe('validateResourceGroupName', () => {
  it.each(['a', 'rg-1_(x).y', 'x'.repeat(90), 'Ünïcødé', '日本'])('accepts %s', (name) => {
    expect(() => {
      validateResourceGroupName(name);
    }).not.toThrow();
  });

  it('names every invalid character in order, as ARM does', () => {
    expect(
      armFailure(() => {
        validateResourceGroupName('Create new resource group');
      }),
    ).toEqual({
      status: 400,
      code: 'InvalidResourceGroup',
      message:
        "The provided resource group name 'Create new resource group' has these invalid characters: '   '. The name can only be a letter, digit, '-', '.', '(', ')' or '_'.",
    });
  });

  it.each(['', 'x'.repeat(91), 'ends.'])('refuses %j', (name) => {
    expect(
      armFailure(() => {
        validateResourceGroupName(name);
      }).code,
    ).toBe('InvalidResourceGroup');
  });
});

describe('validateResourceName', () => {
  const uai = 'Microsoft.ManagedIdentity/userAssignedIdentities';
  const vm = 'Microsoft.Compute/virtualMachines';
  it.each([
    [uai, 'abc', true],
    [uai, 'a_b-c', true],
    [uai, '1' + 'x'.repeat(127), true],
    [uai, 'ab', false],
    [uai, '_abc', false],
    [uai, 'a.bc', false],
    [uai, '1' + 'x'.repeat(128), false],
    [vm, 'v', true],
    [vm, 'my.vm-1_x', true],
    [vm, 'x'.repeat(64), true],
    [vm, 'x'.repeat(65), false],
    [vm, '_vm', false],
    [vm, 'vm.', false],
    [vm, 'vm-', false],
    [vm, 'a@b', false],
    ['Microsoft.Compute/virtualMachineScaleSets', 'ss#1', false],
    ['Microsoft.KeyVault/vaults', 'anything goes here', true],
  ])('%s %j valid: %s', (type, name, valid) => {
    const check = () => {
      validateResourceName(type, name);
    };
    if (valid) expect(check).not.toThrow();
    else expect(armFailure(check)).toMatchObject({ status: 400, code: 'InvalidResourceName' });
  });
});
