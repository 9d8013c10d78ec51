import { describe, expect, it } from 'vitest';
import { matchesFilter, parseResourceExpand, parseResourceFilter } from './resource-filter.js';

const subject = {
  name: 'web-two',
  type: 'Microsoft.Compute/virtualMachines',
  resourceGroup: 'Prod-RG',
  location: 'westeurope',
  tags: { Env: 'Prod', owner: 'ops' },
};

describe('the resource list $filter', () => {
  it('reads the forms az sends, joined with and', () => {
    expect(
      parseResourceFilter(
        "resourceGroup eq 'prod-rg' and resourceType eq 'Microsoft.Compute/virtualMachines' and location eq 'West Europe'",
      ),
    ).toEqual({
      resourceGroup: 'prod-rg',
      resourceType: 'Microsoft.Compute/virtualMachines',
      location: 'West Europe',
    });
    expect(parseResourceFilter("tagname eq 'env' and tagvalue eq 'it''s'")).toEqual({
      tagName: 'env',
      tagValue: "it's",
    });
    expect(parseResourceFilter("startswith(tagName, 'ow')")).toEqual({ tagPrefix: 'ow' });
    expect(
      parseResourceFilter("substringof('two', name) and substringof('prod', resourceGroup)"),
    ).toEqual({
      nameContains: ['two'],
      groupContains: ['prod'],
    });
    expect(parseResourceFilter(undefined)).toEqual({});
  });

  it('refuses anything else with InvalidFilterInQueryString', () => {
    for (const filter of [
      "kind eq 'x'",
      "name eq 'a' or name eq 'b'",
      "name eq 'a' and name eq 'b'",
      "tagValue eq 'x'",
      "name ne 'a'",
      'name eq a',
      `${"name eq 'a' and ".repeat(20)}name eq 'b'`,
    ]) {
      expect(() => parseResourceFilter(filter), filter).toThrow(
        expect.objectContaining({ status: 400, wire: { arm: 'InvalidFilterInQueryString' } }),
      );
    }
  });

  it('matches case-insensitively, locations without spaces', () => {
    const matches = (filter: string): boolean =>
      matchesFilter(parseResourceFilter(filter), subject);
    expect(matches("resourceGroup eq 'PROD-rg' and location eq 'West Europe'")).toBe(true);
    expect(matches("tagName eq 'env' and tagValue eq 'prod'")).toBe(true);
    expect(matches("tagName eq 'env' and tagValue eq 'dev'")).toBe(false);
    expect(matches("startswith(tagname, 'OW')")).toBe(true);
    expect(matches("substringof('TWO', name)")).toBe(true);
    expect(matches("substringof('three', name)")).toBe(false);
    expect(matches("resourceType eq 'Microsoft.Compute/virtualMachineScaleSets'")).toBe(false);
  });

  it('reads $expand', () => {
    expect(parseResourceExpand('createdTime, ChangedTime')).toEqual({
      createdTime: true,
      changedTime: true,
      provisioningState: false,
    });
  });
});
