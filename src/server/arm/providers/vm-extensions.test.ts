import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ARM_REGISTRY } from './index.js';
import { vmExtensions } from './vm-extensions.js';

const VM =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1';

describe('the VM extensions declaration', () => {
  it('is registered and found from an extension id and the VM’s list in any case', () => {
    const target = parseTarget(`${VM}/EXTENSIONS/MyExt`.toLowerCase().replace('myext', 'MyExt'))!;
    expect(ARM_REGISTRY.get(target.type)).toBe(vmExtensions);
    expect(target).toMatchObject({
      scopeKind: 'resourceGroup',
      names: ['vm1', 'MyExt'],
      collection: false,
    });
    const list = parseTarget(`${VM}/extensions`)!;
    expect(list).toMatchObject({ type: vmExtensions.type, names: ['vm1'], collection: true });
    expect(vmExtensions.placement).toEqual(['resourceGroup']);
  });

  it('derives its RBAC actions from the type; the list is filtered per extension', () => {
    const resolved = (method: string, collection = false) =>
      resolveOperation(vmExtensions, method, collection);
    expect(resolved('GET')?.action).toBe('Microsoft.Compute/virtualMachines/extensions/read');
    expect(resolved('GET', true)).toMatchObject({
      action: 'Microsoft.Compute/virtualMachines/extensions/read',
      authorizeAt: 'none',
    });
    expect(resolved('PUT')?.action).toBe('Microsoft.Compute/virtualMachines/extensions/write');
    expect(resolved('PATCH')?.action).toBe('Microsoft.Compute/virtualMachines/extensions/write');
    expect(resolved('DELETE')?.action).toBe('Microsoft.Compute/virtualMachines/extensions/delete');
    expect(resolved('POST')).toBeUndefined();
  });

  it('takes names by Tessera’s rule and accepts what @azure/arm-compute sends (2025-11-01)', () => {
    expect(() => vmExtensions.validateName?.('ManagedIdentityExtensionForLinux')).not.toThrow();
    expect(() => vmExtensions.validateName?.('a?b')).toThrow(
      expect.objectContaining({ wire: { arm: 'InvalidResourceName' } }),
    );
    expect(vmExtensions.apiVersions.versions).toEqual(
      expect.arrayContaining(['2024-07-01', '2025-11-01']),
    );
  });
});
