// Tests for ARM scope parsing and ancestor listing.
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { ancestorScopes, parseScope } from './scope.js';

const SUB = '/subscriptions/6f7c1a52-93b1-4b8f-9d0a-6a1c2f6e0b11';
const sub = SUB.toLowerCase();

describe('parseScope', () => {
  it('parses the root, a subscription and a resource group', () => {
    expect(parseScope('/')).toMatchObject({ kind: 'root', key: '/', ancestors: ['/'] });
    expect(parseScope(SUB)).toMatchObject({
      kind: 'subscription',
      subscriptionId: '6f7c1a52-93b1-4b8f-9d0a-6a1c2f6e0b11',
      resourceGroup: null,
      ancestors: ['/', sub],
    });
    expect(parseScope(`${SUB}/resourceGroups/Demo-RG`)).toMatchObject({
      kind: 'resourceGroup',
      scope: `${SUB}/resourceGroups/Demo-RG`,
      key: `${sub}/resourcegroups/demo-rg`,
      resourceGroup: 'Demo-RG',
      ancestors: ['/', sub, `${sub}/resourcegroups/demo-rg`],
    });
  });

  it('lists every scope above a child resource, root first, in lower case', () => {
    const vm = `${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/VM1`;
    expect(ancestorScopes(`${vm}/extensions/ext1`)).toEqual([
      '/',
      sub,
      `${sub}/resourcegroups/rg`,
      `${sub}/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm1`,
      `${sub}/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm1/extensions/ext1`,
    ]);
    expect(parseScope(vm).kind).toBe('resource');
  });

  it('understands extension resources, subscription-level and tenant-level resources', () => {
    const vault = `${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv`;
    expect(
      ancestorScopes(`${vault}/providers/Microsoft.Insights/diagnosticSettings/d1`).slice(-2),
    ).toEqual([
      vault.toLowerCase(),
      `${vault}/providers/Microsoft.Insights/diagnosticSettings/d1`.toLowerCase(),
    ]);
    expect(ancestorScopes(`${SUB}/providers/Microsoft.Security/pricings/VMs`)).toEqual([
      '/',
      sub,
      `${sub}/providers/microsoft.security/pricings/vms`,
    ]);
    expect(parseScope('/providers/Microsoft.Management/managementGroups/mg1')).toMatchObject({
      kind: 'managementGroup',
      ancestors: ['/', '/providers/microsoft.management/managementgroups/mg1'],
    });
  });

  it('accepts keywords in any case and one trailing slash', () => {
    const a = parseScope(`${SUB.toUpperCase()}/RESOURCEGROUPS/rg/`);
    expect(a.kind).toBe('resourceGroup');
    expect(a.scope).toBe(`${SUB.toUpperCase()}/RESOURCEGROUPS/rg`);
    expect(a.ancestors).toEqual(parseScope(`${SUB}/resourcegroups/RG`).ancestors);
  });

  it.each([
    ['empty', ''],
    ['relative', 'subscriptions/x'],
    ['a root with a trailing slash', '//'],
    ['no subscription id', '/subscriptions'],
    ['no subscription id, trailing slash', '/subscriptions/'],
    ['an empty segment', '/subscriptions//resourceGroups/rg'],
    ['no group name', '/subscriptions/s/resourceGroups'],
    ['two trailing slashes', '/subscriptions/s/resourceGroups/rg//'],
    ['no type', '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute'],
    ['no name', '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines'],
    ['a child type without name', '/subscriptions/s/resourceGroups/rg/providers/ns/t/n/child'],
    ['an unknown keyword', '/subscriptions/s/widgets/w'],
    ['an unknown top level', '/tenants/t'],
    ['a control character', '/subscriptions/s\n/resourceGroups/rg'],
    ['a query string', '/subscriptions/s?x=1'],
    ['too long', `/subscriptions/${'a'.repeat(2100)}`],
  ])('refuses with a 400 InvalidParameter on scope: %s', (_label, scope) => {
    let error: unknown;
    try {
      parseScope(scope);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'InvalidParameter', status: 400, target: 'scope' });
  });
});
