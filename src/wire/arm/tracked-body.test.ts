import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';
import type { Resource } from '../../core/model.js';
import {
  envelopeHead,
  optionalLocation,
  refuseMove,
  requiredLocation,
  tagsOf,
} from './tracked-body.js';

const stored: Resource = {
  id: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1',
  type: 'Microsoft.Compute/virtualMachines',
  name: 'vm1',
  subscriptionId: 's',
  resourceGroup: 'g',
  location: 'westeurope',
  tags: {},
  properties: {},
  createdAt: 0,
  updatedAt: 0,
};

describe('requiredLocation and tagsOf', () => {
  it('normalises the location as ARM does, and requires one', () => {
    expect(requiredLocation({ location: 'West Europe' })).toBe('westeurope');
    for (const location of [undefined, ' ', 7]) {
      expect(armFailure(() => requiredLocation({ location }))).toMatchObject({
        status: 400,
        code: 'LocationRequired',
      });
    }
  });

  it('reads an optional location: normalised when given, none when blank or no string', () => {
    expect(optionalLocation({ location: 'East US' })).toBe('eastus');
    expect(optionalLocation({ location: ' ' })).toBeUndefined();
    expect(optionalLocation({ location: 7 })).toBeUndefined();
  });

  it('reads absent or null tags as none, and checks the rest', () => {
    expect(tagsOf({ tags: null })).toBeUndefined();
    expect(tagsOf({ tags: { env: 'test' } })).toEqual({ env: 'test' });
    expect(() => tagsOf({ tags: { env: 7 } })).toThrow();
  });
});

describe('refuseMove', () => {
  it('lets a new resource or the same location through, and refuses a move with 409', () => {
    expect(() => {
      refuseMove(undefined, 'eastus', 'g');
    }).not.toThrow();
    expect(() => {
      refuseMove(stored, 'westeurope', 'g');
    }).not.toThrow();
    expect(
      armFailure(() => {
        refuseMove(stored, 'eastus', 'G');
      }),
    ).toMatchObject({
      status: 409,
      code: 'InvalidResourceLocation',
      message:
        "The resource 'vm1' already exists in location 'westeurope' in resource group 'G'. A resource with the same name cannot be created in location 'eastus'. Please select a new resource name.",
    });
  });
});

describe('envelopeHead', () => {
  it('leaves empty tags out unless the type always shows them', () => {
    expect(envelopeHead(stored, 'Microsoft.Compute/virtualMachines')).not.toHaveProperty('tags');
    expect(envelopeHead(stored, 'X/y', 'always')).toEqual({
      id: stored.id,
      name: 'vm1',
      type: 'X/y',
      location: 'westeurope',
      tags: {},
    });
  });
});
