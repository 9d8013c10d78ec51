import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ARM_REGISTRY } from './index.js';
import { SUBSCRIPTION_READ, subscriptions, tenants } from './subscriptions.js';

describe('the subscriptions and tenants declarations', () => {
  it('are found from /subscriptions, /subscriptions/{id} and /tenants', () => {
    expect(ARM_REGISTRY.get(parseTarget('/Subscriptions')!.type)).toBe(subscriptions);
    const one = parseTarget('/subscriptions/00000000-0000-0000-0000-000000000001')!;
    expect(ARM_REGISTRY.get(one.type)).toBe(subscriptions);
    expect(one.collection).toBe(false);
    expect(ARM_REGISTRY.get(parseTarget('/TENANTS')!.type)).toBe(tenants);
  });

  it('read with subscriptions/read, list without an up-front check, and write nothing', () => {
    expect(SUBSCRIPTION_READ).toBe('Microsoft.Resources/subscriptions/read');
    expect(resolveOperation(subscriptions, 'GET', false)?.authorizeAt).toBe('item');
    expect(resolveOperation(subscriptions, 'GET', true)?.authorizeAt).toBe('none');
    expect(resolveOperation(subscriptions, 'PUT', false)).toBeUndefined();
    expect(resolveOperation(tenants, 'GET', true)?.action).toBe('Microsoft.Resources/tenants/read');
    expect(resolveOperation(tenants, 'DELETE', false)).toBeUndefined();
  });

  it('accept what az login sends (2019-11-01, 2022-12-01)', () => {
    for (const declaration of [subscriptions, tenants]) {
      expect(declaration.apiVersions.versions).toEqual(
        expect.arrayContaining(['2019-11-01', '2022-12-01']),
      );
      expect(declaration.placement).toEqual(['tenant']);
    }
  });
});
