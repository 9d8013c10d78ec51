// Tests for how a new capacity changes a scale set's instances.
import { describe, expect, it } from 'vitest';
import type { Resource } from '../model.js';
import { instanceIdOf, isInstanceId, newInstance, planResize } from './instances.js';

const SCALE_SET: Resource = {
  id: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/fleet',
  type: 'Microsoft.Compute/virtualMachineScaleSets',
  name: 'fleet',
  subscriptionId: 's',
  resourceGroup: 'g',
  location: 'westeurope',
  tags: {},
  properties: {},
  createdAt: 0,
  updatedAt: 0,
};
const instances = (...ids: number[]): Resource[] =>
  ids.map((id) => newInstance(SCALE_SET, id, `vm-${id}`, 0));

describe('planResize', () => {
  it('scales out from the next id, never reusing one, and in from the highest ids', () => {
    expect(planResize([], 3, 0)).toEqual({ create: [0, 1, 2], remove: [], nextInstanceId: 3 });
    // Instance 1 was deleted: its id is not used again.
    const out = planResize(instances(0, 2), 4, 3);
    expect(out).toEqual({ create: [3, 4], remove: [], nextInstanceId: 5 });
    const scaledIn = planResize(instances(0, 2, 3, 4), 2, 5);
    expect(scaledIn.create).toEqual([]);
    expect(scaledIn.remove.map(instanceIdOf)).toEqual(['3', '4']);
    expect(scaledIn.nextInstanceId).toBe(5);
  });

  it('starts above the highest instance even when the counter lags behind', () => {
    expect(planResize(instances(0, 7), 3, 2)).toMatchObject({ create: [8], nextInstanceId: 9 });
  });
});

describe('instances', () => {
  it('are named after the scale set and take decimal ids only', () => {
    const [first] = instances(12);
    expect(first).toMatchObject({
      id: `${SCALE_SET.id}/virtualMachines/12`,
      name: 'fleet_12',
      type: 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines',
      properties: { vmId: 'vm-12' },
    });
    expect(['0', '12', '999999999'].map(isInstanceId)).toEqual([true, true, true]);
    expect(['01', '-1', 'a', '1000000000', ''].map(isInstanceId)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
