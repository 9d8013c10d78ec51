import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';
import type { Resource } from '../../core/model.js';
import {
  DEFAULT_SKU,
  rbacProperties,
  renderVault,
  validateVaultName,
  vaultPropertiesOf,
} from './key-vault-body.js';

const KEPT = { tenantId: 't0', sku: DEFAULT_SKU };

describe('validateVaultName', () => {
  it('takes 3-24 letters, digits and single hyphens, a letter first, no hyphen last', () => {
    for (const name of ['kv1', 'Kv-Prod-01', 'a'.repeat(24)]) {
      expect(() => {
        validateVaultName(name);
      }).not.toThrow();
    }
    for (const name of ['kv', '1kv', 'kv-', 'kv--1', 'a'.repeat(25), 'kv_1']) {
      expect(
        armFailure(() => {
          validateVaultName(name);
        }),
      ).toMatchObject({
        status: 400,
        code: 'VaultNameNotValid',
      });
    }
  });
});

describe('rbacProperties', () => {
  it('takes absent properties, RBAC asked for, and no access policies', () => {
    expect(rbacProperties({})).toEqual({});
    const properties = { enableRbacAuthorization: true, accessPolicies: [] };
    expect(rbacProperties({ properties })).toBe(properties);
  });

  it('refuses access-policy vaults, naming the member', () => {
    expect(
      armFailure(() => rbacProperties({ properties: { enableRbacAuthorization: false } })),
    ).toMatchObject({ code: 'InvalidParameter', target: 'properties.enableRbacAuthorization' });
    expect(
      armFailure(() => rbacProperties({ properties: { accessPolicies: [{ tenantId: 't' }] } })),
    ).toMatchObject({ code: 'InvalidParameter', target: 'properties.accessPolicies' });
    expect(armFailure(() => rbacProperties({ properties: 'x' }))).toMatchObject({
      target: 'properties',
    });
  });
});

describe('vaultPropertiesOf', () => {
  it('normalises the sku name’s case, and keeps what the body does not say', () => {
    expect(vaultPropertiesOf({ sku: { family: 'A', name: 'Premium' } }, KEPT)).toEqual({
      tenantId: 't0',
      sku: { family: 'A', name: 'premium' },
    });
    expect(vaultPropertiesOf({ tenantId: 't1' }, KEPT)).toEqual({ ...KEPT, tenantId: 't1' });
  });

  it('refuses an unknown sku name or family, and a blank tenant', () => {
    const refused = (given: Record<string, unknown>) =>
      armFailure(() => vaultPropertiesOf(given, KEPT)).target;
    expect(refused({ sku: { name: 'basic' } })).toBe('properties.sku.name');
    expect(refused({ sku: { name: 'standard', family: 'B' } })).toBe('properties.sku.family');
    expect(refused({ tenantId: ' ' })).toBe('properties.tenantId');
  });
});

describe('renderVault', () => {
  it('always shows RBAC authorization, no access policies, the data-plane URI and tags', () => {
    const vault: Resource = {
      id: '/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv1',
      type: 'Microsoft.KeyVault/vaults',
      name: 'kv1',
      subscriptionId: 's',
      resourceGroup: 'g',
      location: 'westeurope',
      tags: {},
      properties: { tenantId: 't0' },
      createdAt: 0,
      updatedAt: 0,
    };
    expect(renderVault(vault, 'https://kv1.vault.example/')).toEqual({
      id: vault.id,
      name: 'kv1',
      type: 'Microsoft.KeyVault/vaults',
      location: 'westeurope',
      tags: {},
      properties: {
        sku: DEFAULT_SKU,
        tenantId: 't0',
        accessPolicies: [],
        enableRbacAuthorization: true,
        vaultUri: 'https://kv1.vault.example/',
        provisioningState: 'Succeeded',
      },
    });
  });
});
