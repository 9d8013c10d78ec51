import { describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../../core/rbac/index.js';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ARM_REGISTRY } from './index.js';
import { roleDefinitions } from './role-definitions.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000001';
const READER = BUILT_IN_ROLE_IDS.reader;

describe('the roleDefinitions declaration', () => {
  it('is found from a definition id in any case at the tenant root and below', () => {
    const cases = [
      ['', 'tenant'],
      [SUB, 'subscription'],
      [`${SUB}/resourceGroups/rg`, 'resourceGroup'],
      [`${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv`, 'resource'],
    ] as const;
    for (const [scope, scopeKind] of cases) {
      const target = parseTarget(
        `${scope}/providers/MICROSOFT.AUTHORIZATION/roledefinitions/${READER}`,
      )!;
      expect(ARM_REGISTRY.get(target.type)).toBe(roleDefinitions);
      expect(target).toMatchObject({
        scope: scope === '' ? '/' : scope,
        scopeKind,
        names: [READER],
      });
    }
    expect(roleDefinitions.placement).toEqual([
      'tenant',
      'subscription',
      'resourceGroup',
      'resource',
    ]);
  });

  it('is read and listed with roleDefinitions/read, written and deleted with /write and /delete, all at the scope', () => {
    for (const collection of [false, true]) {
      expect(resolveOperation(roleDefinitions, 'GET', collection)).toMatchObject({
        action: 'Microsoft.Authorization/roleDefinitions/read',
        authorizeAt: 'container',
        records: false,
      });
    }
    const verbs = [
      ['PUT', 'write'],
      ['DELETE', 'delete'],
    ] as const;
    for (const [method, verb] of verbs) {
      expect(resolveOperation(roleDefinitions, method, false)).toMatchObject({
        action: `Microsoft.Authorization/roleDefinitions/${verb}`,
        authorizeAt: 'container',
        records: true,
      });
      expect(resolveOperation(roleDefinitions, method, true)).toBeUndefined();
    }
    for (const method of ['PATCH', 'POST']) {
      expect(resolveOperation(roleDefinitions, method, false)).toBeUndefined();
    }
  });

  it('accepts what @azure/arm-authorization 9 (2022-04-01) and az (2022-05-01-preview) send', () => {
    expect(roleDefinitions.apiVersions.authority).toBe('authorization');
    expect(roleDefinitions.apiVersions.versions).toEqual(
      expect.arrayContaining(['2022-04-01', '2022-05-01-preview']),
    );
  });
});
