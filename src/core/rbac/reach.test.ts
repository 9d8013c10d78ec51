import { describe, expect, it } from 'vitest';
import type { RoleAssignment } from '../model.js';
import { subscriptionsReached } from './reach.js';

const at = (scope: string): RoleAssignment =>
  ({ id: scope, scope, roleDefinitionId: 'r', principalId: 'p' }) as unknown as RoleAssignment;

describe('subscriptionsReached', () => {
  it('reaches the subscription of each assignment, at it or below it, by lower-case id', () => {
    const reach = subscriptionsReached([
      at('/subscriptions/AAAA'),
      at('/subscriptions/bbbb/resourceGroups/g'),
      at('/subscriptions/cccc/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v'),
    ]);
    expect(reach).toEqual({ all: false, ids: new Set(['aaaa', 'bbbb', 'cccc']) });
  });

  it('reaches every subscription from the tenant root, and none without assignments', () => {
    expect(subscriptionsReached([at('/subscriptions/a'), at('/')])).toEqual({ all: true });
    expect(subscriptionsReached([])).toEqual({ all: false, ids: new Set() });
  });
});
