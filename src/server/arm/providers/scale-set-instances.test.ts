import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ARM_REGISTRY } from './index.js';
import { scaleSetInstances } from './scale-set-instances.js';

const SCALE_SET =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/fleet';

describe('the scale-set instances declaration', () => {
  it('is registered and found from an instance id in any case', () => {
    const target = parseTarget(`${SCALE_SET}/VirtualMachines/3`.toUpperCase())!;
    expect(ARM_REGISTRY.get(target.type)).toBe(scaleSetInstances);
    expect(target).toMatchObject({ scopeKind: 'resourceGroup', names: ['FLEET', '3'] });
    expect(scaleSetInstances.placement).toEqual(['resourceGroup']);
  });

  it('checks the list at the scale set, each instance at itself, and has no PATCH', () => {
    const resolved = (method: string, collection = false) =>
      resolveOperation(scaleSetInstances, method, collection);
    const type = 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines';
    expect(resolved('GET', true)).toMatchObject({
      action: `${type}/read`,
      authorizeAt: 'container',
    });
    expect(resolved('GET')).toMatchObject({ action: `${type}/read`, authorizeAt: 'item' });
    expect(resolved('PUT')?.action).toBe(`${type}/write`);
    expect(resolved('DELETE')?.action).toBe(`${type}/delete`);
    expect(resolved('PATCH')).toBeUndefined();
    expect(resolved('POST')).toBeUndefined();
  });

  it('takes any name (a non-number is an instance that does not exist) at Compute’s versions', () => {
    expect(() => scaleSetInstances.validateName?.('not-a-number')).not.toThrow();
    expect(scaleSetInstances.apiVersions.versions).toEqual(
      expect.arrayContaining(['2024-07-01', '2026-03-01']),
    );
  });
});
