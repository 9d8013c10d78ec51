import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { auditEvents } from './audit-events.js';
import { ARM_REGISTRY } from './index.js';

describe('the audit events declaration', () => {
  it('is a list at the tenant only, found in any case', () => {
    const target = parseTarget('/PROVIDERS/tessera.audit/Events')!;
    expect(ARM_REGISTRY.get(target.type)).toBe(auditEvents);
    expect(target).toMatchObject({ collection: true, scopeKind: 'tenant', scope: '/' });
    expect(auditEvents.placement).toEqual([]);
    expect(auditEvents.listAt).toEqual(['tenant']);
  });

  it('needs Tessera.Audit/events/read at /', () => {
    expect(resolveOperation(auditEvents, 'GET', true)).toMatchObject({
      action: 'Tessera.Audit/events/read',
      authorizeAt: 'container',
    });
    expect(resolveOperation(auditEvents, 'POST', true)).toBeUndefined();
  });

  it('has its own api-version, refused otherwise as ARM refuses one for its own types', () => {
    expect(auditEvents.apiVersions).toEqual({ authority: 'arm', versions: ['2026-11-01'] });
  });
});
