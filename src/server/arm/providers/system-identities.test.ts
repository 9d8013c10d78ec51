import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ARM_REGISTRY } from './index.js';
import { systemIdentities } from './system-identities.js';

const GROUP = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg';
const VM = `${GROUP}/providers/Microsoft.Compute/virtualMachines/vm1`;
const DEFAULT = 'providers/Microsoft.ManagedIdentity/identities/default';

describe('the system-assigned identities declaration', () => {
  it('is found on a VM or a scale set in any case, as an extension type of the resource', () => {
    const target = parseTarget(`${VM}/${DEFAULT}`.toLowerCase())!;
    expect(ARM_REGISTRY.get(target.type)).toBe(systemIdentities);
    expect(target).toMatchObject({
      scopeKind: 'resource',
      scopeType: 'microsoft.compute/virtualmachines',
      names: ['default'],
    });
    expect(systemIdentities.placement).toEqual(['resource']);
    expect(systemIdentities.on).toEqual([
      'Microsoft.Compute/virtualMachines',
      'Microsoft.Compute/virtualMachineScaleSets',
    ]);
  });

  it('is read with the action ARM checks for it, and only read', () => {
    expect(resolveOperation(systemIdentities, 'GET', false)).toMatchObject({
      action: 'Microsoft.ManagedIdentity/identities/read',
      authorizeAt: 'item',
    });
    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
      expect(resolveOperation(systemIdentities, method, false)).toBeUndefined();
    }
    expect(resolveOperation(systemIdentities, 'GET', true)).toBeUndefined();
  });

  it('accepts the MSI api-versions (2018-11-30, 2023-01-31, 2024-11-30)', () => {
    expect(systemIdentities.apiVersions.authority).toBe('provider');
    expect(systemIdentities.apiVersions.versions).toEqual(
      expect.arrayContaining(['2018-11-30', '2023-01-31', '2024-11-30']),
    );
  });
});
