import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ARM_REGISTRY } from './index.js';

describe('the providers declaration', () => {
  const declaration = ARM_REGISTRY.get('Microsoft.Resources/providers')!;

  it('is found at the tenant and at a subscription, as a list and by namespace', () => {
    expect(parseTarget('/providers')).toMatchObject({ type: declaration.type, collection: true });
    expect(
      parseTarget('/subscriptions/00000000-0000-0000-0000-000000000001/Providers/x.y'),
    ).toMatchObject({
      type: declaration.type,
      names: ['x.y'],
      scopeKind: 'subscription',
    });
    expect(declaration.placement).toEqual(['tenant', 'subscription']);
  });

  it('lets any caller read provider metadata', () => {
    expect(resolveOperation(declaration, 'GET', false)?.authorizeAt).toBe('none');
    expect(resolveOperation(declaration, 'GET', true)?.authorizeAt).toBe('none');
    expect(resolveOperation(declaration, 'PUT', false)).toBeUndefined();
  });

  it('accepts what az provider show and the SDK auto-registration send (2016-02-01)', () => {
    expect(declaration.apiVersions.versions).toEqual(
      expect.arrayContaining(['2016-02-01', '2021-04-01']),
    );
  });
});
