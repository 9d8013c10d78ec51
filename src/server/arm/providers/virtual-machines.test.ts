import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ARM_REGISTRY } from './index.js';
import { virtualMachines } from './virtual-machines.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000001';
const ITEM = `${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/Web-1`;

describe('the virtualMachines declaration', () => {
  it('is registered and found from its id, and its lists, in any case', () => {
    const target = parseTarget(ITEM.toUpperCase().replace('WEB-1', 'Web-1'))!;
    expect(ARM_REGISTRY.get(target.type)).toBe(virtualMachines);
    expect(target).toMatchObject({
      scopeKind: 'resourceGroup',
      names: ['Web-1'],
      collection: false,
    });
    const bySubscription = parseTarget(`${SUB}/providers/microsoft.compute/VIRTUALMACHINES`)!;
    expect(ARM_REGISTRY.get(bySubscription.type)).toBe(virtualMachines);
    expect(bySubscription).toMatchObject({ scopeKind: 'subscription', collection: true });
  });

  it('derives its RBAC actions from the type and has no POST action', () => {
    const action = (method: string, collection = false): string | undefined =>
      resolveOperation(virtualMachines, method, collection)?.action;
    expect(action('GET')).toBe('Microsoft.Compute/virtualMachines/read');
    expect(action('GET', true)).toBe('Microsoft.Compute/virtualMachines/read');
    expect(action('PUT')).toBe('Microsoft.Compute/virtualMachines/write');
    expect(action('PATCH')).toBe('Microsoft.Compute/virtualMachines/write');
    expect(action('DELETE')).toBe('Microsoft.Compute/virtualMachines/delete');
    expect(action('POST')).toBeUndefined();
    expect(resolveOperation(virtualMachines, 'POST', false, 'start')).toBeUndefined();
  });

  it('accepts what @azure/arm-compute 24 (2026-03-01), the CLI and 2017-12-01 clients send', () => {
    expect(virtualMachines.apiVersions.authority).toBe('provider');
    expect(virtualMachines.apiVersions.versions).toEqual(
      expect.arrayContaining(['2017-12-01', '2018-06-01', '2024-07-01', '2026-03-01']),
    );
    expect(virtualMachines.apiVersions.versions).not.toContain('2016-04-30-preview');
  });

  it('sits in a group, lists at the subscription and the group, and is a tracked type', () => {
    expect(virtualMachines.placement).toEqual(['resourceGroup']);
    expect(virtualMachines.listAt).toEqual(['subscription', 'resourceGroup']);
    expect(virtualMachines.tracked).toBe(true);
    expect(virtualMachines.on).toBeUndefined();
  });
});
