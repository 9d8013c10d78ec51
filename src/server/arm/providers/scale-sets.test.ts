import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ARM_REGISTRY } from './index.js';
import { scaleSets } from './scale-sets.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000001';
const ITEM = `${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/Fleet`;

describe('the virtualMachineScaleSets declaration', () => {
  it('is registered and found from its id in any case', () => {
    const target = parseTarget(ITEM.toLowerCase().replace('fleet', 'Fleet'))!;
    expect(ARM_REGISTRY.get(target.type)).toBe(scaleSets);
    expect(target).toMatchObject({
      scopeKind: 'resourceGroup',
      names: ['Fleet'],
      collection: false,
    });
  });

  it('derives its RBAC actions from the type and has no POST action', () => {
    const action = (method: string, collection = false): string | undefined =>
      resolveOperation(scaleSets, method, collection)?.action;
    expect(action('GET')).toBe('Microsoft.Compute/virtualMachineScaleSets/read');
    expect(action('GET', true)).toBe('Microsoft.Compute/virtualMachineScaleSets/read');
    expect(action('PUT')).toBe('Microsoft.Compute/virtualMachineScaleSets/write');
    expect(action('PATCH')).toBe('Microsoft.Compute/virtualMachineScaleSets/write');
    expect(action('DELETE')).toBe('Microsoft.Compute/virtualMachineScaleSets/delete');
    expect(resolveOperation(scaleSets, 'POST', false, 'restart')).toBeUndefined();
  });

  it('accepts the Compute api-versions the SDKs and the CLI send, and lists like a VM', () => {
    expect(scaleSets.apiVersions.versions).toEqual(
      expect.arrayContaining(['2017-12-01', '2024-07-01', '2026-03-01']),
    );
    expect(scaleSets.placement).toEqual(['resourceGroup']);
    expect(scaleSets.listAt).toEqual(['subscription', 'resourceGroup']);
    expect(scaleSets.tracked).toBe(true);
  });
});
