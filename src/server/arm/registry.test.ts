import { describe, expect, it } from 'vitest';
import { renderArmError } from '../../wire/errors/arm.js';
import type { ResourceTypeDeclaration } from './provider.js';
import { ARM_REGISTRY } from './providers/index.js';
import { createRegistry, notServed } from './registry.js';
import { parseTarget } from '../../wire/arm/target.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000001';
const answer = (error: Error): { status: number; code: string; message: string } => {
  const rendered = renderArmError(error);
  const body = JSON.parse(rendered.body) as { error: { code: string; message: string } };
  return { status: rendered.status, ...body.error };
};

describe('the registry', () => {
  it('finds types and namespaces in any case', () => {
    expect(ARM_REGISTRY.get('microsoft.compute/VIRTUALMACHINES')?.type).toBe(
      'Microsoft.Compute/virtualMachines',
    );
    expect(ARM_REGISTRY.namespace('microsoft.keyvault')).toBe('Microsoft.KeyVault');
    expect(ARM_REGISTRY.inNamespace('Microsoft.Nope')).toEqual([]);
  });

  it('refuses a type declared twice', () => {
    const one = { type: 'A.B/c' } as ResourceTypeDeclaration;
    expect(() => createRegistry([one, { ...one, type: 'a.b/C' }])).toThrow(/declared twice/);
  });

  it('answers an unknown type of a known namespace in ARM’s words, an unknown namespace too', () => {
    const disks = `${SUB}/resourceGroups/g/providers/Microsoft.Compute/disks/d1`;
    expect(answer(notServed(ARM_REGISTRY, disks, parseTarget(disks), '2024-03-02'))).toEqual({
      status: 404,
      code: 'InvalidResourceType',
      message:
        "The resource type 'disks' could not be found in the namespace 'Microsoft.Compute' for api version '2024-03-02'.",
    });
    const groups = `${SUB}/resourceGroups/g/providers/Microsoft.Container/groups/x`;
    expect(answer(notServed(ARM_REGISTRY, groups, parseTarget(groups)))).toEqual({
      status: 404,
      code: 'InvalidResourceNamespace',
      message: "The resource namespace 'Microsoft.Container' is invalid.",
    });
    expect(answer(notServed(ARM_REGISTRY, `${SUB}/things`)).code).toBe('InvalidResourceType');
  });
});
