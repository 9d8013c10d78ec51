import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';
import type { Resource } from '../../core/model.js';
import { parseIsolationScope, renderUserAssignedIdentity } from './user-assigned-identity.js';

const identity: Resource = {
  id: '/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1',
  type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
  name: 'id1',
  subscriptionId: 's',
  resourceGroup: 'g',
  location: 'westeurope',
  tags: { env: 'test' },
  properties: { tenantId: 't', principalId: 'p', clientId: 'c', isolationScope: 'Regional' },
  createdAt: 0,
  updatedAt: 0,
};

describe('parseIsolationScope', () => {
  it('reads None or Regional in any case from 2024-11-30 on, answered in Azure’s case', () => {
    const body = { properties: { isolationScope: 'regional' } };
    expect(parseIsolationScope(body, '2024-11-30', 'None')).toBe('Regional');
    expect(parseIsolationScope({ properties: {} }, '2024-11-30', 'Regional')).toBe('Regional');
  });

  it('ignores the member at older api-versions, where it does not exist', () => {
    const body = { properties: { isolationScope: 'Nowhere' } };
    expect(parseIsolationScope(body, '2023-01-31', 'None')).toBe('None');
  });

  it('refuses another value on the member', () => {
    const body = { properties: { isolationScope: 7 } };
    expect(armFailure(() => parseIsolationScope(body, '2024-11-30', 'None'))).toMatchObject({
      code: 'InvalidParameter',
      target: 'properties.isolationScope',
      message:
        "The value '7' of property 'properties.isolationScope' is invalid. Allowed values are 'None' and 'Regional'.",
    });
  });
});

describe('renderUserAssignedIdentity', () => {
  it('shows the principal’s ids, and the isolation scope only where the api-version has it', () => {
    expect(renderUserAssignedIdentity(identity, '2023-01-31')).toEqual({
      id: identity.id,
      name: 'id1',
      type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
      location: 'westeurope',
      tags: { env: 'test' },
      properties: { tenantId: 't', principalId: 'p', clientId: 'c' },
    });
    expect(renderUserAssignedIdentity(identity, '2024-11-30')).toMatchObject({
      properties: { isolationScope: 'Regional' },
    });
  });
});
