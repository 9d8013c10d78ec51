import { describe, expect, it } from 'vitest';
import { parseTarget } from './target.js';

const SUB = '00000000-0000-0000-0000-000000000001';

describe('parseTarget', () => {
  it('reads ARM’s own endpoints as Microsoft.Resources types', () => {
    expect(parseTarget('/tenants')).toMatchObject({
      type: 'Microsoft.Resources/tenants',
      collection: true,
    });
    expect(parseTarget('/subscriptions')).toMatchObject({
      type: 'Microsoft.Resources/subscriptions',
      collection: true,
      scopeKind: 'tenant',
    });
    expect(parseTarget(`/SUBSCRIPTIONS/${SUB}`)).toMatchObject({
      type: 'Microsoft.Resources/subscriptions',
      subscriptionId: SUB,
      names: [SUB],
      collection: false,
    });
    expect(parseTarget(`/subscriptions/${SUB}/resourcegroups/My-RG`)).toMatchObject({
      type: 'Microsoft.Resources/resourceGroups',
      resourceGroup: 'My-RG',
      names: ['My-RG'],
      scopeKind: 'subscription',
    });
    expect(parseTarget(`/subscriptions/${SUB}/resourceGroups/g/resources`)).toMatchObject({
      type: 'Microsoft.Resources/resources',
      scopeKind: 'resourceGroup',
      collection: true,
    });
    expect(parseTarget('/providers')).toMatchObject({
      type: 'Microsoft.Resources/providers',
      collection: true,
    });
    expect(parseTarget(`/subscriptions/${SUB}/providers/microsoft.compute`)).toMatchObject({
      type: 'Microsoft.Resources/providers',
      names: ['microsoft.compute'],
      namespace: 'microsoft.compute',
      collection: false,
    });
  });

  it('reads items, collections and child types with names in their case', () => {
    const vm = `/subscriptions/${SUB}/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/VM1`;
    expect(parseTarget(vm)).toMatchObject({
      type: 'Microsoft.Compute/virtualMachines',
      names: ['VM1'],
      collection: false,
      scope: `/subscriptions/${SUB}/resourceGroups/g`,
      id: vm,
    });
    expect(parseTarget(`${vm}/extensions`)).toMatchObject({
      type: 'Microsoft.Compute/virtualMachines/extensions',
      names: ['VM1'],
      collection: true,
    });
    expect(parseTarget(`${vm}/extensions/e%20x`)).toMatchObject({ names: ['VM1', 'e x'] });
  });

  it('reads extension types on a resource and tenant-level types', () => {
    const vm = `/subscriptions/${SUB}/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1`;
    expect(parseTarget(`${vm}/providers/Microsoft.Authorization/roleAssignments/a1`)).toMatchObject(
      {
        type: 'Microsoft.Authorization/roleAssignments',
        names: ['a1'],
        scope: vm,
        scopeKind: 'resource',
        scopeType: 'Microsoft.Compute/virtualMachines',
        subscriptionId: SUB,
        resourceGroup: 'g',
      },
    );
    expect(parseTarget('/providers/Microsoft.Authorization/roleDefinitions/r1')).toMatchObject({
      type: 'Microsoft.Authorization/roleDefinitions',
      scopeKind: 'tenant',
      scope: '/',
    });
  });

  it('gives up on what has no ARM shape', () => {
    for (const path of [
      '/',
      '/subscriptions//resourceGroups',
      `/subscriptions/${SUB}/things`,
      `/subscriptions/${SUB}/resourceGroups/g/providers/Microsoft.Compute`,
      `/subscriptions/${SUB}/resourceGroups/g/providers`,
      '/subscriptions/%E0%A4%A',
      '/tenants/t1',
    ]) {
      expect(parseTarget(path), path).toBeUndefined();
    }
  });
});
