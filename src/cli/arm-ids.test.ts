// Unit tests of the ARM id helpers and `az` result shapes the group, identity and role commands share.
import { describe, expect, it } from 'vitest';
import {
  flattenProperties,
  identityPath,
  parseArmId,
  parseTags,
  roleDefinitionGuid,
  scopePath,
  withApiVersion,
} from './arm-ids.js';
import { addResourceGroup, withTableView } from './az-result.js';

const SUB = '0b1f6471-1bf0-4dda-aec3-cb9272f09590';
const GUID = '4633458b-17de-408a-b874-0445c86b69e6';

describe('ARM paths', () => {
  it('percent-encodes names and appends the api-version', () => {
    expect(withApiVersion(identityPath(SUB, 'rg (1)', 'a b'), '2024-11-30')).toBe(
      `/subscriptions/${SUB}/resourceGroups/rg%20(1)/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a%20b?api-version=2024-11-30`,
    );
    expect(withApiVersion('/x?$filter=atScope()', '1')).toBe('/x?$filter=atScope()&api-version=1');
  });

  it('turns a scope into a path without its trailing slash', () => {
    expect(scopePath(`/subscriptions/${SUB}/resourceGroups/my rg/`)).toBe(
      `/subscriptions/${SUB}/resourceGroups/my%20rg`,
    );
    expect(scopePath('/')).toBe('');
  });
});

describe('parseArmId', () => {
  it('reads subscription, group and top-level resource ids, keywords in any case', () => {
    expect(parseArmId(`/subscriptions/${SUB}`)).toEqual({ subscriptionId: SUB });
    expect(parseArmId(`/SUBSCRIPTIONS/${SUB}/resourcegroups/RG`)).toEqual({
      subscriptionId: SUB,
      resourceGroup: 'RG',
    });
    expect(
      parseArmId(
        `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`,
      ),
    ).toEqual({
      subscriptionId: SUB,
      resourceGroup: 'rg',
      type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
      name: 'id1',
    });
  });

  it('refuses child resources, empty segments and other shapes', () => {
    for (const id of [
      '',
      'subscriptions/x',
      `/subscriptions/${SUB}/`,
      `/subscriptions/${SUB}//resourceGroups/rg`,
      `/subscriptions/${SUB}/locations/westeurope`,
      `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/extensions/e`,
      '/providers/Microsoft.Authorization/roleDefinitions/x',
    ]) {
      expect(parseArmId(id)).toBeUndefined();
    }
  });
});

describe('roleDefinitionGuid', () => {
  it('takes the GUID of a definition id at any scope, lower-cased', () => {
    expect(
      roleDefinitionGuid(
        `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${GUID.toUpperCase()}`,
      ),
    ).toBe(GUID);
    expect(roleDefinitionGuid(`/providers/microsoft.authorization/roledefinitions/${GUID}`)).toBe(
      GUID,
    );
    expect(roleDefinitionGuid(GUID)).toBeUndefined();
    expect(roleDefinitionGuid('/providers/Microsoft.Authorization/roleDefinitions/Reader')).toBe(
      undefined,
    );
  });
});

describe('az result shapes', () => {
  it('flattens properties, renaming where asked', () => {
    expect(
      flattenProperties(
        { id: 'x', type: 'Microsoft.Authorization/roleDefinitions', properties: { type: 'B' } },
        { type: 'roleType' },
      ),
    ).toEqual({ id: 'x', type: 'Microsoft.Authorization/roleDefinitions', roleType: 'B' });
    expect(flattenProperties({ id: 'x', properties: null })).toEqual({ id: 'x' });
  });

  it("adds resourceGroup as az's transform does: resources below a group, at any depth", () => {
    const inGroup = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/${GUID}`;
    const result = addResourceGroup([
      { id: inGroup, nested: { id: inGroup.replace('/rg/', '/other/') } },
      { id: `/subscriptions/${SUB}/resourceGroups/rg` },
      { id: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments/${GUID}` },
      { id: inGroup, resourceGroup: 'kept' },
      { id: inGroup.replace('resourceGroups', 'resourcegroups') },
    ]);
    expect(result.map((item) => (item as { resourceGroup?: string }).resourceGroup)).toEqual([
      'rg',
      undefined,
      undefined,
      'kept',
      undefined,
    ]);
    expect(result[0]?.nested).toMatchObject({ resourceGroup: 'other' });
  });

  it('uses the table view only for a table without --query', () => {
    const view = '[].{Name:name}';
    expect(withTableView({ output: 'table' }, view)).toEqual({ output: 'table', query: view });
    expect(withTableView({ output: 'table', query: 'x' }, view)).toEqual({
      output: 'table',
      query: 'x',
    });
    expect(withTableView({ output: 'json' }, view)).toEqual({ output: 'json' });
  });
});

describe('parseTags', () => {
  it("reads az's key[=value] list, splitting at the first =", () => {
    expect(parseTags(['team=pay', 'env', 'url=a=b'])).toEqual({ team: 'pay', env: '', url: 'a=b' });
    expect(parseTags([''])).toEqual({});
    expect(parseTags(undefined)).toBeUndefined();
  });
});
