import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ARM_REGISTRY } from './index.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000001';

describe('the generic resources declaration', () => {
  const declaration = ARM_REGISTRY.get('Microsoft.Resources/resources')!;

  it('is a list at the subscription and at a group, nothing else', () => {
    expect(parseTarget(`${SUB}/Resources`)).toMatchObject({
      type: declaration.type,
      scopeKind: 'subscription',
    });
    expect(parseTarget(`${SUB}/resourceGroups/g/resources`)).toMatchObject({
      type: declaration.type,
      scopeKind: 'resourceGroup',
    });
    expect(declaration.placement).toEqual([]);
    expect(declaration.listAt).toEqual(['subscription', 'resourceGroup']);
    expect(resolveOperation(declaration, 'GET', true)?.authorizeAt).toBe('none');
    expect(resolveOperation(declaration, 'GET', false)).toBeUndefined();
  });

  it('accepts what az resource list (2021-04-01) and @azure/arm-resources 6.1 (2025-03-01) send', () => {
    expect(declaration.apiVersions.versions).toEqual(
      expect.arrayContaining(['2021-04-01', '2025-03-01']),
    );
  });

  it('lists the tracked types of the registry', () => {
    const tracked = ARM_REGISTRY.types
      .filter((type) => type.tracked === true)
      .map((type) => type.type);
    expect(tracked).toContain('Microsoft.ManagedIdentity/userAssignedIdentities');
    expect(tracked).not.toContain('Microsoft.Resources/resourceGroups');
  });
});
