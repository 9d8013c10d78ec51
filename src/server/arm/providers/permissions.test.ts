import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ARM_REGISTRY } from './index.js';
import { permissions } from './permissions.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000001';

describe('the permissions declaration', () => {
  it('is a list at every scope, the tenant root included, and has no items', () => {
    const cases = [
      ['', 'tenant'],
      [SUB, 'subscription'],
      [`${SUB}/resourceGroups/rg`, 'resourceGroup'],
      [`${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm`, 'resource'],
    ] as const;
    for (const [scope, scopeKind] of cases) {
      const target = parseTarget(`${scope}/Providers/microsoft.Authorization/PERMISSIONS`)!;
      expect(ARM_REGISTRY.get(target.type)).toBe(permissions);
      expect(target).toMatchObject({ collection: true, scopeKind });
    }
    expect(permissions.placement).toEqual([]);
    expect(permissions.listAt).toEqual(['tenant', 'subscription', 'resourceGroup', 'resource']);
  });

  it('needs no permission: every caller may ask what it can do', () => {
    expect(resolveOperation(permissions, 'GET', true)).toMatchObject({ authorizeAt: 'none' });
    expect(resolveOperation(permissions, 'PUT', false)).toBeUndefined();
  });

  it('accepts every version the other Authorization types do, oldest first, as ARM lists them', () => {
    const { authority, versions } = permissions.apiVersions;
    expect(authority).toBe('authorization');
    // 2018-09-01-preview is an assignments version only, 2022-05-01-preview a definitions one.
    expect(versions).toEqual(
      expect.arrayContaining([
        '2015-07-01',
        '2018-09-01-preview',
        '2022-04-01',
        '2022-05-01-preview',
      ]),
    );
    expect(versions).toHaveLength(6);
    expect([...versions].sort()).toEqual(versions);
  });
});
