// The ARM surface end to end: user-assigned identities, their principals and what goes with them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { type ArmHarness, errorCode, startArm } from './arm-harness.js';
import { assignRole } from './arm-store-fixtures.js';

const V = 'api-version=2024-11-30';
const GROUP_V = 'api-version=2021-04-01';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface IdentityBody {
  id: string;
  properties: { principalId: string; clientId: string; tenantId: string };
}

describe('ARM surface: user-assigned identities', () => {
  let h: ArmHarness;
  let admin: string;
  let sub: string;
  const arm: ArmHarness['arm'] = (method, path, options) => h.arm(method, path, options);
  const groupPath = (group: string): string => `/subscriptions/${sub}/resourceGroups/${group}`;
  const uaiPath = (group: string, name: string): string =>
    `${groupPath(group)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

  async function createGroup(group: string): Promise<void> {
    const result = await arm('PUT', `${groupPath(group)}?${GROUP_V}`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    expect(result.status).toBe(201);
  }

  async function createIdentity(group: string, name: string): Promise<IdentityBody> {
    const result = await arm('PUT', `${uaiPath(group, name)}?${V}`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    expect(result.status).toBe(201);
    return result.body as unknown as IdentityBody;
  }

  const assignReader = (principalId: string, scope: string): Promise<string> =>
    assignRole(h, principalId, BUILT_IN_ROLE_IDS.reader, scope);

  const assignmentsOf = async (principalId: string): Promise<number> =>
    (await h.store.roles.listAssignments({ principalId }, { limit: 100 })).items.length;

  beforeAll(async () => {
    h = await startArm();
    ({ admin, sub } = h);
    await createGroup('Ids-RG');
  });
  afterAll(async () => {
    await h.close();
  });

  it('creates an identity with its service principal, then reads, replaces and patches it', async () => {
    const path = uaiPath('Ids-RG', 'App-Id_1');
    const created = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: { location: 'West Europe', tags: { env: 'test' } },
    });
    expect(created.status).toBe(201);
    const { principalId, clientId } = (created.body as unknown as IdentityBody).properties;
    expect(created.body).toEqual({
      id: path,
      name: 'App-Id_1',
      type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
      location: 'westeurope',
      tags: { env: 'test' },
      properties: {
        tenantId: h.server.tenant.id,
        principalId: expect.stringMatching(GUID) as unknown,
        clientId: expect.stringMatching(GUID) as unknown,
        isolationScope: 'None',
      },
    });
    const principal = await h.store.principals.get(principalId);
    expect(principal).toMatchObject({
      appId: clientId,
      tenantId: h.server.tenant.id,
      type: 'ManagedIdentity',
      displayName: 'App-Id_1',
      alternativeNames: [path],
      enabled: true,
    });

    // The older api-version has no isolationScope; ids compare case-insensitively.
    const old = await arm('GET', `${path.toLowerCase()}?api-version=2023-01-31`, { token: admin });
    expect(old.status).toBe(200);
    expect(old.body?.id).toBe(path);
    expect(old.body?.properties).toEqual({ tenantId: h.server.tenant.id, principalId, clientId });

    const replaced = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: { location: 'westeurope', tags: { env: 'prod' } },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body?.tags).toEqual({ env: 'prod' });
    expect(replaced.body?.properties).toMatchObject({ principalId, clientId });

    const patched = await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: { tags: { team: 'a' }, properties: { isolationScope: 'Regional' } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body?.tags).toEqual({ team: 'a' });
    expect(patched.body?.properties).toMatchObject({ principalId, isolationScope: 'Regional' });
    const got = await arm('GET', `${path}?${V}`, { token: admin });
    expect(got.body).toEqual(patched.body);

    const moved = await arm('PUT', `${path}?${V}`, { token: admin, body: { location: 'eastus' } });
    expect([moved.status, errorCode(moved.body)]).toEqual([409, 'InvalidResourceLocation']);
  });

  it('answers a missing identity with ARM texts: 404 on GET and PATCH, 204 on DELETE', async () => {
    const path = uaiPath('Ids-RG', 'nobody');
    const missing = await arm('GET', `${path}?${V}`, { token: admin });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: {
        code: 'ResourceNotFound',
        message:
          "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/nobody' under resource group 'Ids-RG' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
      },
    });
    const patch = await arm('PATCH', `${path}?${V}`, { token: admin, body: { tags: {} } });
    expect([patch.status, errorCode(patch.body)]).toEqual([404, 'ResourceNotFound']);
    const gone = await arm('DELETE', `${path}?${V}`, { token: admin });
    expect([gone.status, gone.body]).toEqual([204, undefined]);
  });

  it('lists by group and by subscription, paged', async () => {
    await createGroup('List-RG');
    for (const name of ['aaa', 'bbb', 'ccc']) await createIdentity('List-RG', name);
    const byGroup = `${groupPath('List-RG')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`;
    const first = await arm('GET', `${byGroup}?${V}&$top=2`, { token: admin });
    expect(first.status).toBe(200);
    expect((first.body?.value as { name: string }[]).map((i) => i.name)).toEqual(['aaa', 'bbb']);
    const next = first.body?.nextLink as string;
    expect(next).toContain('$skipToken=');
    const second = await arm('GET', next.slice(h.server.url.length), { token: admin });
    expect((second.body?.value as { name: string }[]).map((i) => i.name)).toEqual(['ccc']);
    expect(second.body?.nextLink).toBeUndefined();

    const bySub = `/subscriptions/${sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`;
    const all = await arm('GET', `${bySub}?${V}`, { token: admin });
    const names = (all.body?.value as { name: string }[]).map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['aaa', 'bbb', 'ccc', 'App-Id_1']));

    const noGroup = await arm(
      'GET',
      `${groupPath('no-such-rg')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?${V}`,
      { token: admin },
    );
    expect([noGroup.status, errorCode(noGroup.body)]).toEqual([404, 'ResourceGroupNotFound']);
  });

  it('deletes the principal, its role assignments and its attachments with the identity', async () => {
    const path = uaiPath('Ids-RG', 'doomed');
    const { principalId } = (await createIdentity('Ids-RG', 'doomed')).properties;
    await assignReader(principalId, groupPath('Ids-RG'));
    await assignReader(principalId, `/subscriptions/${sub}`);
    const vm = `${groupPath('Ids-RG')}/providers/Microsoft.Compute/virtualMachines/vm1`;
    await h.store.resources.put({
      id: vm,
      type: 'Microsoft.Compute/virtualMachines',
      name: 'vm1',
      subscriptionId: sub,
      resourceGroup: 'Ids-RG',
      location: 'westeurope',
      tags: {},
      properties: {},
      createdAt: Date.now(),
      updatedAt: Date.now(),
    });
    await h.store.attachments.attach({
      resourceId: vm,
      principalId,
      kind: 'UserAssigned',
      identityResourceId: path,
      createdAt: Date.now(),
    });

    const deleted = await arm('DELETE', `${path}?${V}`, { token: admin });
    expect([deleted.status, deleted.body]).toEqual([200, undefined]);
    expect(await h.store.principals.get(principalId)).toBeUndefined();
    expect(await assignmentsOf(principalId)).toBe(0);
    expect(await h.store.attachments.listForResource(vm)).toEqual([]);
    expect(await h.store.resources.get(vm)).toBeDefined();
    expect((await arm('GET', `${path}?${V}`, { token: admin })).status).toBe(404);

    // Created again, it is a new identity with a new principal.
    const again = await createIdentity('Ids-RG', 'doomed');
    expect(again.properties.principalId).not.toBe(principalId);
  });

  it("deletes the identities' principals and role assignments with their group", async () => {
    await createGroup('Gone-RG');
    const { principalId } = (await createIdentity('Gone-RG', 'id1')).properties;
    await assignReader(principalId, `/subscriptions/${sub}`);
    expect(
      (await arm('DELETE', `${groupPath('Gone-RG')}?${GROUP_V}`, { token: admin })).status,
    ).toBe(200);
    expect(await h.store.principals.get(principalId)).toBeUndefined();
    expect(await assignmentsOf(principalId)).toBe(0);
    expect(await h.store.resources.get(uaiPath('Gone-RG', 'id1'))).toBeUndefined();
  });

  it('refuses bad input with ARM codes and changes nothing', async () => {
    const cases: [string, string, string, unknown, number, string][] = [
      [
        'bad name',
        'PUT',
        `${uaiPath('Ids-RG', 'a')}?${V}`,
        { location: 'westeurope' },
        400,
        'InvalidResourceName',
      ],
      [
        'bad character',
        'PUT',
        `${uaiPath('Ids-RG', 'bad.name')}?${V}`,
        { location: 'westeurope' },
        400,
        'InvalidResourceName',
      ],
      [
        'no location',
        'PUT',
        `${uaiPath('Ids-RG', 'nolocation')}?${V}`,
        { tags: {} },
        400,
        'LocationRequired',
      ],
      [
        'unknown group',
        'PUT',
        `${uaiPath('No-RG', 'orphan')}?${V}`,
        { location: 'westeurope' },
        404,
        'ResourceGroupNotFound',
      ],
      [
        'bad JSON',
        'PUT',
        `${uaiPath('Ids-RG', 'badjson')}?${V}`,
        '{"location": ',
        400,
        'InvalidRequestContent',
      ],
      [
        'bad tags',
        'PUT',
        `${uaiPath('Ids-RG', 'badtags')}?${V}`,
        { location: 'x', tags: { a: 1 } },
        400,
        'InvalidTag',
      ],
      [
        'bad isolationScope',
        'PUT',
        `${uaiPath('Ids-RG', 'badscope')}?${V}`,
        { location: 'x', properties: { isolationScope: 'Global' } },
        400,
        'InvalidParameter',
      ],
      [
        'no api-version',
        'PUT',
        uaiPath('Ids-RG', 'noversion'),
        { location: 'westeurope' },
        400,
        'MissingApiVersionParameter',
      ],
      [
        'bad api-version',
        'PUT',
        `${uaiPath('Ids-RG', 'badversion')}?api-version=2020-01-01`,
        { location: 'westeurope' },
        400,
        'NoRegisteredProviderFound',
      ],
      [
        'bad subscription',
        'PUT',
        `/subscriptions/not-a-guid/resourceGroups/Ids-RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x1x?${V}`,
        { location: 'westeurope' },
        400,
        'InvalidSubscriptionId',
      ],
    ];
    const principalsBefore = (await h.store.principals.list(h.server.tenant.id, { limit: 1000 }))
      .items.length;
    for (const [label, method, path, body, status, code] of cases) {
      const result = await arm(method, path, { token: admin, body });
      expect([label, result.status, errorCode(result.body)]).toEqual([label, status, code]);
    }
    const list = await arm(
      'GET',
      `/subscriptions/${sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?${V}`,
      { token: admin },
    );
    const names = (list.body?.value as { name: string }[]).map((i) => i.name);
    for (const name of [
      'a',
      'bad.name',
      'nolocation',
      'orphan',
      'badjson',
      'badtags',
      'badscope',
      'noversion',
      'badversion',
    ]) {
      expect(names).not.toContain(name);
    }
    const principalsAfter = (await h.store.principals.list(h.server.tenant.id, { limit: 1000 }))
      .items.length;
    expect(principalsAfter).toBe(principalsBefore);
  });

  it('authorizes by role: Reader at the group can read and list, not write or delete', async () => {
    const path = uaiPath('Ids-RG', 'guarded');
    await createIdentity('Ids-RG', 'guarded');
    const { principal, token } = await h.newClient('uai-reader');

    const denied = await arm('GET', `${path}?${V}`, { token });
    expect([denied.status, errorCode(denied.body)]).toEqual([403, 'AuthorizationFailed']);
    expect((denied.body?.error as { message: string }).message).toBe(
      `The client '${principal.appId}' with object id '${principal.objectId}' does not have authorization to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/read' over scope '${path}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
    const byGroup = `${groupPath('Ids-RG')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?${V}`;
    expect((await arm('GET', byGroup, { token })).body?.value).toEqual([]);

    await assignReader(principal.objectId, groupPath('Ids-RG'));
    expect((await arm('GET', `${path}?${V}`, { token })).status).toBe(200);
    expect(
      ((await arm('GET', byGroup, { token })).body?.value as unknown[]).length,
    ).toBeGreaterThan(0);
    const write = await arm('PUT', `${path}?${V}`, {
      token,
      body: { location: 'westeurope', tags: { x: 'y' } },
    });
    expect([write.status, errorCode(write.body)]).toEqual([403, 'AuthorizationFailed']);
    const remove = await arm('DELETE', `${path}?${V}`, { token });
    expect([remove.status, errorCode(remove.body)]).toEqual([403, 'AuthorizationFailed']);
    expect((await arm('GET', `${path}?${V}`, { token: admin })).body?.tags).toEqual({});
  });
});
