import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ARM_REGISTRY } from './index.js';
import { userAssignedIdentities } from './user-assigned-identities.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000001';
const ITEM = `${SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`;

describe('the userAssignedIdentities declaration', () => {
  it('is registered and found from its id in any case', () => {
    const target = parseTarget(ITEM.toLowerCase().replace('id1', 'Id1'))!;
    expect(ARM_REGISTRY.get(target.type)).toBe(userAssignedIdentities);
    expect(target).toMatchObject({ scopeKind: 'resourceGroup', names: ['Id1'], collection: false });
  });

  it('derives its RBAC actions from the type', () => {
    const action = (method: string, collection = false): string | undefined =>
      resolveOperation(userAssignedIdentities, method, collection)?.action;
    expect(action('GET')).toBe('Microsoft.ManagedIdentity/userAssignedIdentities/read');
    expect(action('GET', true)).toBe('Microsoft.ManagedIdentity/userAssignedIdentities/read');
    expect(action('PUT')).toBe('Microsoft.ManagedIdentity/userAssignedIdentities/write');
    expect(action('PATCH')).toBe('Microsoft.ManagedIdentity/userAssignedIdentities/write');
    expect(action('DELETE')).toBe('Microsoft.ManagedIdentity/userAssignedIdentities/delete');
    expect(action('POST')).toBeUndefined();
  });

  it('accepts the MSI api-versions the SDKs send and lists at the subscription and the group', () => {
    expect(userAssignedIdentities.apiVersions.versions).toEqual(
      expect.arrayContaining(['2018-11-30', '2023-01-31', '2024-11-30']),
    );
    expect(userAssignedIdentities.apiVersions.authority).toBe('provider');
    expect(userAssignedIdentities.listAt).toEqual(['subscription', 'resourceGroup']);
    expect(userAssignedIdentities.placement).toEqual(['resourceGroup']);
  });
});
