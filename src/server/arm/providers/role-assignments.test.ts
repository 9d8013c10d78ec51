import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ARM_REGISTRY } from './index.js';
import { roleAssignments } from './role-assignments.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000001';
const GROUP = `${SUB}/resourceGroups/rg`;
const VM = `${GROUP}/providers/Microsoft.Compute/virtualMachines/vm1`;
const NAME = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const AT = (scope: string): string =>
  `${scope}/PROVIDERS/microsoft.authorization/ROLEASSIGNMENTS/${NAME.toUpperCase()}`;

describe('the roleAssignments declaration', () => {
  it('is found from an assignment id in any case at every scope, the tenant root included', () => {
    const cases = [
      ['', '/', 'tenant'],
      [SUB, SUB, 'subscription'],
      [GROUP, GROUP, 'resourceGroup'],
      [VM, VM, 'resource'],
      [`${VM}/extensions/e1`, `${VM}/extensions/e1`, 'resource'],
    ] as const;
    for (const [scope, expected, scopeKind] of cases) {
      const target = parseTarget(AT(scope))!;
      expect(ARM_REGISTRY.get(target.type)).toBe(roleAssignments);
      expect(target).toMatchObject({ scope: expected, scopeKind, names: [NAME.toUpperCase()] });
    }
    const list = parseTarget(`${GROUP}/providers/Microsoft.Authorization/roleAssignments`)!;
    expect(list).toMatchObject({ type: roleAssignments.type, collection: true, scope: GROUP });
    expect(roleAssignments.placement).toEqual([
      'tenant',
      'subscription',
      'resourceGroup',
      'resource',
    ]);
    expect(roleAssignments.listAt).toBeUndefined();
  });

  it('authorizes read, write and delete at the scope, not the item, and has no PATCH', () => {
    const resolved = (method: string, collection = false) =>
      resolveOperation(roleAssignments, method, collection);
    for (const [method, collection, verb] of [
      ['GET', false, 'read'],
      ['GET', true, 'read'],
      ['PUT', false, 'write'],
      ['DELETE', false, 'delete'],
    ] as const) {
      expect(resolved(method, collection)).toMatchObject({
        action: `Microsoft.Authorization/roleAssignments/${verb}`,
        authorizeAt: 'container',
      });
    }
    expect(resolved('PATCH')).toBeUndefined();
    expect(resolved('POST')).toBeUndefined();
  });

  it('takes GUID names only and stays removable when the scope’s group is gone', () => {
    expect(() => roleAssignments.validateName?.(NAME)).not.toThrow();
    expect(() => roleAssignments.validateName?.('not-a-guid')).toThrow(
      expect.objectContaining({ wire: { arm: 'InvalidRoleAssignmentId' } }),
    );
    expect(roleAssignments.groupMayBeGone).toBe(true);
  });

  it('accepts what az and @azure/arm-authorization 9 send (2022-04-01), answered as ARM’s own', () => {
    expect(roleAssignments.apiVersions.authority).toBe('authorization');
    expect(roleAssignments.apiVersions.versions).toEqual(
      expect.arrayContaining(['2015-07-01', '2018-09-01-preview', '2022-04-01']),
    );
  });
});
