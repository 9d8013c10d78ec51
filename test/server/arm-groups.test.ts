// The ARM surface end to end: authentication, authorization, api-versions, resource groups.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { type ArmHarness, errorCode, startArm } from './arm-harness.js';
import { assignRole } from './arm-store-fixtures.js';

const V = 'api-version=2021-04-01';

describe('ARM surface: subscriptions and resource groups', () => {
  let h: ArmHarness;
  let admin: string;
  let sub: string;
  const arm: ArmHarness['arm'] = (method, path, options) => h.arm(method, path, options);

  beforeAll(async () => {
    h = await startArm();
    ({ admin, sub } = h);
  });
  afterAll(async () => {
    await h.close();
  });

  it('refuses a missing, malformed or foreign-audience token with 401 and a challenge', async () => {
    const none = await arm('GET', `/subscriptions?${V}`);
    expect([none.status, errorCode(none.body)]).toEqual([401, 'AuthenticationFailed']);
    expect(none.headers.get('www-authenticate')).toBe(
      `Bearer authorization_uri="${h.server.url}/${h.server.tenant.id}"`,
    );
    const junk = await arm('GET', `/subscriptions?${V}`, { token: 'a.b.c' });
    expect([junk.status, errorCode(junk.body)]).toEqual([401, 'InvalidAuthenticationToken']);
    expect(junk.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const app = await h.server.services.directory.createPrincipal({
      tenantId: h.server.tenant.id,
      displayName: 'vault-only',
      type: 'Application',
    });
    const { secret } = await h.server.services.directory.addClientSecret(app.objectId);
    const vault = await h.token(app.appId, secret, 'https://vault.azure.net/.default');
    const wrong = await arm('GET', `/subscriptions?${V}`, { token: vault });
    expect([wrong.status, errorCode(wrong.body)]).toEqual([
      401,
      'InvalidAuthenticationTokenAudience',
    ]);
  });

  it('checks api-version after authentication, with ARM codes', async () => {
    const missing = await arm('GET', `/subscriptions/${sub}/resourcegroups`, { token: admin });
    expect([missing.status, errorCode(missing.body)]).toEqual([400, 'MissingApiVersionParameter']);
    const bad = await arm('GET', `/subscriptions/${sub}/resourcegroups?api-version=1999-01-01`, {
      token: admin,
    });
    expect([bad.status, errorCode(bad.body)]).toEqual([400, 'InvalidApiVersionParameter']);
  });

  it('lists and reads the first subscription, with trace headers', async () => {
    const list = await arm('GET', `/subscriptions?${V}`, {
      token: admin,
      headers: { 'x-ms-correlation-request-id': 'corr-123' },
    });
    expect(list.status).toBe(200);
    expect(list.headers.get('x-ms-correlation-request-id')).toBe('corr-123');
    expect(list.headers.get('x-ms-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(list.body?.value).toEqual([
      expect.objectContaining({
        subscriptionId: sub,
        tenantId: h.server.tenant.id,
        state: 'Enabled',
      }),
    ]);
    const missing = await arm('GET', `/subscriptions/${randomUUID()}?${V}`, { token: admin });
    expect([missing.status, errorCode(missing.body)]).toEqual([404, 'SubscriptionNotFound']);
    const malformed = await arm('GET', `/subscriptions/not-a-guid?${V}`, { token: admin });
    expect([malformed.status, errorCode(malformed.body)]).toEqual([400, 'InvalidSubscriptionId']);
  });

  it('creates, updates, reads, pages, and deletes resource groups', async () => {
    const path = `/subscriptions/${sub}/resourceGroups/Team-RG`;
    const created = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: { location: 'West Europe', tags: { env: 'test' } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: path,
      name: 'Team-RG',
      type: 'Microsoft.Resources/resourceGroups',
      location: 'westeurope',
      tags: { env: 'test' },
      properties: { provisioningState: 'Succeeded' },
    });
    const updated = await arm('PUT', `/subscriptions/${sub}/resourcegroups/team-rg?${V}`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    expect(updated.status).toBe(200);
    expect(updated.body?.id).toBe(path); // the original case is kept
    await arm('PUT', `/subscriptions/${sub}/resourceGroups/other?${V}`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    const first = await arm('GET', `/subscriptions/${sub}/resourcegroups?${V}&$top=1`, {
      token: admin,
    });
    expect((first.body?.value as unknown[]).length).toBe(1);
    const next = first.body?.nextLink as string;
    expect(next).toContain('$skipToken=');
    const second = await arm('GET', next.slice(h.server.url.length), { token: admin });
    expect((second.body?.value as unknown[]).length).toBe(1);

    expect((await arm('DELETE', `${path}?${V}`, { token: admin })).status).toBe(200);
    const gone = await arm('GET', `${path}?${V}`, { token: admin });
    expect([gone.status, errorCode(gone.body)]).toEqual([404, 'ResourceGroupNotFound']);
  });

  it('refuses bad input with ARM codes and changes nothing', async () => {
    const base = `/subscriptions/${sub}/resourceGroups`;
    const cases: [string, string, unknown, number, string][] = [
      [
        'bad name',
        `${base}/bad*name?${V}`,
        { location: 'westeurope' },
        400,
        'InvalidResourceGroup',
      ],
      ['no location', `${base}/nolocation?${V}`, { tags: {} }, 400, 'LocationRequired'],
      ['bad JSON', `${base}/badjson?${V}`, '{"location": ', 400, 'InvalidRequestContent'],
      ['bad tags', `${base}/badtags?${V}`, { location: 'x', tags: { a: 1 } }, 400, 'InvalidTag'],
    ];
    for (const [name, path, body, status, code] of cases) {
      const result = await arm('PUT', path, { token: admin, body });
      expect([name, result.status, errorCode(result.body)]).toEqual([name, status, code]);
    }
    const list = await arm('GET', `${base}?${V}`, { token: admin });
    const names = (list.body?.value as { name: string }[]).map((g) => g.name);
    expect(names).not.toContain('nolocation');
    expect(names).not.toContain('badjson');
  });

  it('authorizes by role: none, then Reader at the subscription', async () => {
    const app = await h.server.services.directory.createPrincipal({
      tenantId: h.server.tenant.id,
      displayName: 'reader',
      type: 'Application',
    });
    const { secret } = await h.server.services.directory.addClientSecret(app.objectId);
    const reader = await h.token(app.appId, secret);
    const group = `/subscriptions/${sub}/resourceGroups/readable`;
    await arm('PUT', `${group}?${V}`, { token: admin, body: { location: 'westeurope' } });

    const denied = await arm('GET', `${group}?${V}`, { token: reader });
    expect([denied.status, errorCode(denied.body)]).toEqual([403, 'AuthorizationFailed']);
    expect((denied.body?.error as { message: string }).message).toBe(
      `The client '${app.appId}' with object id '${app.objectId}' does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourceGroups/read' over scope '${group}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
    await assignRole(h, app.objectId, BUILT_IN_ROLE_IDS.reader, `/subscriptions/${sub}`);
    expect((await arm('GET', `${group}?${V}`, { token: reader })).status).toBe(200);
    const write = await arm('PUT', `${group}?${V}`, { token: reader, body: { location: 'x' } });
    expect([write.status, errorCode(write.body)]).toEqual([403, 'AuthorizationFailed']);
  });
});
