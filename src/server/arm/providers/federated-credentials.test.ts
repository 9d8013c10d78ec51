import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../../wire/arm/target.js';
import { resolveOperation } from '../provider.js';
import { federatedCredentials } from './federated-credentials.js';
import { ARM_REGISTRY } from './index.js';

const FIC = 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials';
const IDENTITY =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg/providers/microsoft.managedidentity/USERASSIGNEDIDENTITIES/id1';

describe('the federatedIdentityCredentials declaration', () => {
  it('is a child of a user-assigned identity, found from an id in any case', () => {
    const item = parseTarget(`${IDENTITY}/FederatedIdentityCredentials/fic1`)!;
    expect(ARM_REGISTRY.get(item.type)).toBe(federatedCredentials);
    expect(item).toMatchObject({
      names: ['id1', 'fic1'],
      collection: false,
      scopeKind: 'resourceGroup',
    });
    const list = parseTarget(`${IDENTITY}/federatedIdentityCredentials`)!;
    expect(ARM_REGISTRY.get(list.type)).toBe(federatedCredentials);
    expect(list.collection).toBe(true);
  });

  it('names its actions as Azure does, has no PATCH, and lists with read at the identity', () => {
    const action = (method: string, collection = false): string | undefined =>
      resolveOperation(federatedCredentials, method, collection)?.action;
    expect(action('GET')).toBe(`${FIC}/read`);
    expect(action('PUT')).toBe(`${FIC}/write`);
    expect(action('DELETE')).toBe(`${FIC}/delete`);
    expect(action('PATCH')).toBeUndefined();
    expect(resolveOperation(federatedCredentials, 'GET', true)?.authorizeAt).toBe('container');
  });

  it('accepts the versions that have the resource, from 2022-01-31-preview on', () => {
    expect(federatedCredentials.apiVersions.versions).toEqual(
      expect.arrayContaining(['2022-01-31-preview', '2023-01-31', '2024-11-30']),
    );
    expect(federatedCredentials.apiVersions.versions).not.toContain('2018-11-30');
    expect(() => federatedCredentials.validateName?.('a_b-c')).not.toThrow();
    expect(() => federatedCredentials.validateName?.('_ab')).toThrow();
    expect(() => federatedCredentials.validateName?.('x'.repeat(121))).toThrow();
  });
});
