import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ARM_REGISTRY } from './index.js';
import { resourceGroups } from './resource-groups.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000001';

describe('the resourceGroups declaration', () => {
  it('is found from a group id in any case, and its list from the subscription', () => {
    const item = parseTarget(`${SUB}/RESOURCEGROUPS/My-Rg`)!;
    expect(ARM_REGISTRY.get(item.type)).toBe(resourceGroups);
    expect(item).toMatchObject({ names: ['My-Rg'], scopeKind: 'subscription', collection: false });
    expect(parseTarget(`${SUB}/resourcegroups`)).toMatchObject({ type: resourceGroups.type });
  });

  it('names its actions as ARM does, under subscriptions/resourceGroups', () => {
    const action = (method: string, collection = false): string | undefined =>
      resolveOperation(resourceGroups, method, collection)?.action;
    expect(action('GET')).toBe('Microsoft.Resources/subscriptions/resourceGroups/read');
    expect(action('HEAD')).toBe('Microsoft.Resources/subscriptions/resourceGroups/read');
    expect(action('GET', true)).toBe('Microsoft.Resources/subscriptions/resourceGroups/read');
    expect(action('PUT')).toBe('Microsoft.Resources/subscriptions/resourceGroups/write');
    expect(action('DELETE')).toBe('Microsoft.Resources/subscriptions/resourceGroups/delete');
    expect(action('PATCH')).toBeUndefined();
  });

  it('accepts the versions az and the SDKs send, answered by ARM itself', () => {
    expect(resourceGroups.apiVersions.authority).toBe('arm');
    expect(resourceGroups.apiVersions.versions).toEqual(
      expect.arrayContaining(['2021-04-01', '2024-11-01', '2025-03-01']),
    );
    expect(() => resourceGroups.validateName?.('bad/name')).toThrow();
  });
});
