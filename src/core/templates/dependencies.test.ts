// Tests of the dependency helpers: finding reference()/list*() arguments in expression text, and ordering waves.
import { describe, expect, it } from 'vitest';

import { isAppError } from '../errors.js';
import { NO_SOURCE } from './errors.js';
import {
  orderWaves,
  referenceArguments,
  ResourceIndex,
  type GraphResource,
} from './dependencies.js';

describe('referenceArguments', () => {
  it.each([
    ["reference('vm1').identity.principalId", ["'vm1'"]],
    [
      "concat(reference(resourceId('Microsoft.Compute/virtualMachines', 'a, b')).x, listKeys(variables('sa'), '2019-06-01').keys[0].value)",
      ["resourceId('Microsoft.Compute/virtualMachines', 'a, b')", "variables('sa')"],
    ],
    ["REFERENCE ( 'x' )", ["'x'"]],
    ["concat('reference(''no'')', 'x')", []],
    ["tessera.listThings('x')", []],
    ["if(true(), reference(reference('inner').id), 'x')", ["reference('inner').id", "'inner'"]],
    ["parameters('references')", []],
  ])('%s', (expression, expected) => {
    expect(referenceArguments(expression)).toEqual(expected);
  });
});

function resource(id: string, extra: Partial<GraphResource> = {}): GraphResource {
  return {
    id,
    type: 'N/t',
    name: id,
    skipped: false,
    at: { source: NO_SOURCE, path: [] },
    ...extra,
  };
}

describe('orderWaves', () => {
  it('puts independent resources together and each after what it waits for', () => {
    const resources = ['a', 'b', 'c', 'd'].map((id) => resource(id));
    const edges = [new Set<number>(), new Set([0]), new Set<number>(), new Set([1, 2])];
    expect(orderWaves(resources, edges)).toEqual([[0, 2], [1], [3]]);
  });

  it('names the first resource, in template order, at which a cycle closes', () => {
    const resources = ['a', 'b', 'c'].map((id) => resource(id));
    try {
      orderWaves(resources, [new Set<number>(), new Set([2]), new Set([1])]);
      expect.unreachable();
    } catch (error) {
      expect(isAppError(error) && error.message).toContain(
        "Circular dependency detected on resource: 'b'",
      );
    }
  });
});

describe('ResourceIndex', () => {
  it('finds resources by id, name and type/name in any case, and loops by name', () => {
    const index = new ResourceIndex([
      resource('/s/rg/providers/N/t/x/u/y', { type: 'N/t/u', name: 'x/y', loop: 'Loop' }),
    ]);
    for (const key of ['/S/RG/providers/N/t/x/u/y/', 'N/t/x/u/y', 'n/t/u/x/y', 'X/Y']) {
      expect(index.find(key)).toEqual([0]);
    }
    expect(index.find('y')).toEqual([]);
    expect(index.loop('LOOP')).toEqual([0]);
    expect(index.loop('other')).toBeUndefined();
  });
});
