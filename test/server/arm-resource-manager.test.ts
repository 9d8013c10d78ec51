// ARM's own endpoints from the registry: /subscriptions for a scoped caller, /tenants, /resources
// per caller, /providers at the tenant and the subscription.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { type ArmHarness, errorCode, startArm } from './arm-harness.js';
import { assignRole } from './arm-store-fixtures.js';

const V = 'api-version=2021-04-01';
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';

describe('ARM surface: subscriptions, tenants, resources and providers', () => {
  let h: ArmHarness;
  const groupPath = (name: string): string => `/subscriptions/${h.sub}/resourceGroups/${name}`;

  beforeAll(async () => {
    h = await startArm();
    for (const group of ['Seen-RG', 'Hidden-RG']) {
      const made = await h.arm('PUT', `${groupPath(group)}?${V}`, {
        token: h.admin,
        body: { location: 'westeurope' },
      });
      expect(made.status).toBe(201);
      const identity = await h.arm(
        'PUT',
        `${groupPath(group)}/providers/${UAI}/in-${group}?api-version=2023-01-31`,
        { token: h.admin, body: { location: 'westeurope' } },
      );
      expect(identity.status).toBe(201);
    }
  });

  afterAll(async () => {
    await h.close();
  });

  it('lists a subscription to a caller whose only role is on one of its groups, and only then', async () => {
    const { principal, token } = await h.newClient('scoped');
    const before = await h.arm('GET', `/subscriptions?api-version=2022-12-01`, { token });
    expect(before.status).toBe(200);
    expect(before.body?.value).toEqual([]);
    await assignRole(h, principal.objectId, BUILT_IN_ROLE_IDS.reader, groupPath('Seen-RG'));
    const after = await h.arm('GET', `/subscriptions?api-version=2022-12-01`, { token });
    expect(
      (after.body?.value as { subscriptionId: string }[]).map((s) => s.subscriptionId),
    ).toEqual([h.sub]);
    // The generic list shows what the caller may read, nothing else.
    const resources = await h.arm('GET', `/subscriptions/${h.sub}/resources?${V}`, { token });
    expect((resources.body?.value as { name: string }[]).map((r) => r.name)).toEqual([
      'in-Seen-RG',
    ]);
  });

  it('lists the caller’s tenant', async () => {
    const tenants = await h.arm('GET', '/tenants?api-version=2019-11-01', { token: h.admin });
    expect(tenants.status).toBe(200);
    expect(tenants.body?.value).toEqual([
      expect.objectContaining({
        id: `/tenants/${h.server.tenant.id}`,
        tenantId: h.server.tenant.id,
      }),
    ]);
  });

  it('serves the generic list of one group, in any case, and refuses what it cannot read', async () => {
    const path = `/SUBSCRIPTIONS/${h.sub}/resourcegroups/seen-rg/RESOURCES?${V}`;
    const listed = await h.arm('GET', path, { token: h.admin });
    expect(listed.status).toBe(200);
    expect(listed.body?.value).toEqual([
      {
        id: `${groupPath('Seen-RG')}/providers/${UAI}/in-Seen-RG`,
        name: 'in-Seen-RG',
        type: UAI,
        location: 'westeurope',
        tags: {},
      },
    ]);
    const missing = await h.arm('GET', `${groupPath('No-RG')}/resources?${V}`, { token: h.admin });
    expect([missing.status, errorCode(missing.body)]).toEqual([404, 'ResourceGroupNotFound']);
    const badTop = await h.arm('GET', `/subscriptions/${h.sub}/resources?${V}&$top=0`, {
      token: h.admin,
    });
    expect(badTop.status).toBe(400);
    const badFilter = await h.arm(
      'GET',
      `/subscriptions/${h.sub}/resources?${V}&$filter=${encodeURIComponent("name eq 'x' or name eq 'y'")}`,
      { token: h.admin },
    );
    expect([badFilter.status, errorCode(badFilter.body)]).toEqual([
      400,
      'InvalidFilterInQueryString',
    ]);
  });

  it('lists providers at the tenant without a registration state, and at a subscription with one', async () => {
    const { token } = await h.newClient('no roles');
    const tenant = await h.arm('GET', `/providers/Microsoft.ManagedIdentity?${V}`, { token });
    expect(tenant.status).toBe(200);
    expect(tenant.body).toMatchObject({ id: '/providers/Microsoft.ManagedIdentity' });
    expect(tenant.body?.registrationState).toBeUndefined();
    const sub = await h.arm('GET', `/subscriptions/${h.sub}/providers?${V}`, { token });
    const namespaces = (sub.body?.value as { namespace: string; registrationState: string }[]).map(
      (p) => `${p.namespace}:${p.registrationState}`,
    );
    expect(namespaces).toContain('Microsoft.ManagedIdentity:Registered');
    const none = await h.arm('GET', `/providers/Microsoft.Nope?${V}`, { token });
    expect([none.status, errorCode(none.body)]).toEqual([404, 'InvalidResourceNamespace']);
  });
});
