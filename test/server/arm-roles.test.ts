// Role assignments and definitions through ARM, end to end: granting, listing, revoking access.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { type ArmHarness, errorCode, startArm } from './arm-harness.js';
import { createStoredUai, storeSnapshot } from './arm-store-fixtures.js';

const V = 'api-version=2022-04-01';
const GROUP_V = 'api-version=2021-04-01';
const AUTH = 'providers/Microsoft.Authorization';

interface Assignment {
  id: string;
  name: string;
  type: string;
  properties: { roleDefinitionId: string; principalId: string; scope: string } & Record<
    string,
    unknown
  >;
}

describe('ARM surface: role assignments and definitions', () => {
  let h: ArmHarness;
  let admin: string;
  let sub: string;
  let group: string;
  let client: Awaited<ReturnType<ArmHarness['newClient']>>;
  const arm: ArmHarness['arm'] = (method, path, options) => h.arm(method, path, options);
  const readerAt = (): string =>
    `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLE_IDS.reader}`;
  const assign = (scope: string, name: string, body: unknown, token = admin) =>
    arm('PUT', `${scope}/${AUTH}/roleAssignments/${name}?${V}`, { token, body });
  const names = (body: Record<string, unknown> | undefined): string[] =>
    (body?.value as Assignment[]).map((a) => a.name);

  beforeAll(async () => {
    h = await startArm();
    ({ admin, sub } = h);
    group = `/subscriptions/${sub}/resourceGroups/roles-rg`;
    const created = await arm('PUT', `${group}?${GROUP_V}`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    expect(created.status).toBe(201);
    client = await h.newClient('roles-client');
  });
  afterAll(async () => {
    await h.close();
  });

  const name = randomUUID();

  it('grants a new client read access to a group through a PUT at group scope', async () => {
    const before = await arm('GET', `${group}?${GROUP_V}`, { token: client.token });
    expect([before.status, errorCode(before.body)]).toEqual([403, 'AuthorizationFailed']);

    const body = {
      properties: { roleDefinitionId: readerAt(), principalId: client.principal.objectId },
    };
    const created = await assign(group, name, body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: `${group}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      type: 'Microsoft.Authorization/roleAssignments',
      name,
      properties: {
        roleDefinitionId: readerAt(),
        principalId: client.principal.objectId,
        principalType: 'ServicePrincipal',
        scope: group,
        condition: null,
        createdBy: expect.any(String) as unknown,
      },
    });

    const after = await arm('GET', `${group}?${GROUP_V}`, { token: client.token });
    expect(after.status).toBe(200);
    const read = await arm('GET', `${group}/${AUTH}/roleAssignments/${name}?${V}`, {
      token: admin,
    });
    expect([read.status, read.body?.name]).toEqual([200, name]);

    // The same PUT again is a no-op; the same grant under another name, or a change, is refused.
    expect((await assign(group, name, body)).status).toBe(200);
    const twin = await assign(group, randomUUID(), body);
    expect([twin.status, errorCode(twin.body)]).toEqual([409, 'RoleAssignmentExists']);
    const changed = await assign(group, name, {
      properties: { ...body.properties, roleDefinitionId: BUILT_IN_ROLE_IDS.contributor },
    });
    expect([changed.status, errorCode(changed.body)]).toEqual([
      400,
      'RoleAssignmentUpdateNotPermitted',
    ]);
  });

  it('lists at and above with atScope(), everything around without, one principal by filter', async () => {
    const uai = await createStoredUai(h, 'roles-rg', 'roles-uai');
    const below = randomUUID();
    const put = await assign(uai.id, below, {
      properties: {
        roleDefinitionId: BUILT_IN_ROLE_IDS.reader,
        principalId: client.principal.objectId,
      },
    });
    expect(put.status).toBe(201);

    const atScope = await arm('GET', `${group}/${AUTH}/roleAssignments?${V}&$filter=atScope()`, {
      token: admin,
    });
    expect(atScope.status).toBe(200);
    expect(names(atScope.body)).toContain(name);
    expect(names(atScope.body)).not.toContain(below);
    // The administrator's Owner at the root applies here, so it is listed.
    expect((atScope.body?.value as Assignment[]).some((a) => a.properties.scope === '/')).toBe(
      true,
    );

    const all = await arm('GET', `${group}/${AUTH}/roleAssignments?${V}`, { token: admin });
    expect(names(all.body)).toEqual(expect.arrayContaining([name, below]));

    const filter = encodeURIComponent(`principalId eq '${client.principal.objectId}'`);
    const mine = await arm(
      'GET',
      `/subscriptions/${sub}/${AUTH}/roleAssignments?${V}&$filter=${filter}`,
      {
        token: admin,
      },
    );
    expect(names(mine.body).sort()).toEqual([name, below].sort());
    const assignedTo = encodeURIComponent(
      `atScope() and assignedTo('${client.principal.objectId}')`,
    );
    const scoped = await arm('GET', `${group}/${AUTH}/roleAssignments?${V}&$filter=${assignedTo}`, {
      token: admin,
    });
    expect(names(scoped.body)).toEqual([name]);

    const bad = await arm(
      'GET',
      `${group}/${AUTH}/roleAssignments?${V}&$filter=roleName%20eq%20'x'`,
      {
        token: admin,
      },
    );
    expect([bad.status, errorCode(bad.body)]).toEqual([400, 'UnsupportedQuery']);
  });

  it('refuses bad requests with ARM codes and changes nothing', async () => {
    const before = await storeSnapshot(h);
    const principalId = client.principal.objectId;
    const cases: [
      Promise<{ status: number; body: Record<string, unknown> | undefined }>,
      number,
      string,
    ][] = [
      [
        assign(group, 'not-a-guid', { properties: { roleDefinitionId: readerAt(), principalId } }),
        400,
        'InvalidRoleAssignmentId',
      ],
      [
        assign(group, randomUUID(), {
          properties: { roleDefinitionId: randomUUID(), principalId },
        }),
        400,
        'RoleDefinitionDoesNotExist',
      ],
      [
        assign(group, randomUUID(), {
          properties: { roleDefinitionId: readerAt(), principalId: randomUUID() },
        }),
        400,
        'PrincipalNotFound',
      ],
      [
        assign(`/subscriptions/${sub}/resourceGroups/no-such-rg`, randomUUID(), {
          properties: { roleDefinitionId: readerAt(), principalId },
        }),
        404,
        'ResourceGroupNotFound',
      ],
      [
        arm('PUT', `${group}/${AUTH}/roleAssignments/${randomUUID()}`, {
          token: admin,
          body: { properties: { roleDefinitionId: readerAt(), principalId } },
        }),
        400,
        'MissingApiVersionParameter',
      ],
    ];
    for (const [call, status, code] of cases) {
      const result = await call;
      expect([result.status, errorCode(result.body)]).toEqual([status, code]);
    }
    expect(await storeSnapshot(h)).toEqual(before);
  });

  it('forbids a Reader to create assignments', async () => {
    const other = await h.newClient('roles-other');
    const before = await storeSnapshot(h);
    const denied = await assign(
      group,
      randomUUID(),
      { properties: { roleDefinitionId: readerAt(), principalId: other.principal.objectId } },
      client.token,
    );
    expect([denied.status, errorCode(denied.body)]).toEqual([403, 'AuthorizationFailed']);
    expect(await storeSnapshot(h)).toEqual(before);
  });

  it('revokes access on DELETE, then answers 204 and 404', async () => {
    const path = `${group}/${AUTH}/roleAssignments/${name}?${V}`;
    const deleted = await arm('DELETE', path, { token: admin });
    expect([deleted.status, deleted.body?.name]).toEqual([200, name]);
    const denied = await arm('GET', `${group}?${GROUP_V}`, { token: client.token });
    expect([denied.status, errorCode(denied.body)]).toEqual([403, 'AuthorizationFailed']);
    expect((await arm('DELETE', path, { token: admin })).status).toBe(204);
    const gone = await arm('GET', path, { token: admin });
    expect([gone.status, errorCode(gone.body)]).toEqual([404, 'RoleAssignmentNotFound']);
  });

  it('reads a role definition at subscription scope and lists by roleName', async () => {
    const one = await arm('GET', `${readerAt()}?${V}`, { token: admin });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: readerAt(),
      type: 'Microsoft.Authorization/roleDefinitions',
      name: BUILT_IN_ROLE_IDS.reader,
      properties: {
        roleName: 'Reader',
        type: 'BuiltInRole',
        assignableScopes: ['/'],
        permissions: [{ actions: ['*/read'], notActions: [], dataActions: [], notDataActions: [] }],
      },
    });
    const list = await arm(
      'GET',
      `/subscriptions/${sub}/${AUTH}/roleDefinitions?${V}&$filter=${encodeURIComponent("roleName eq 'Reader'")}`,
      { token: admin },
    );
    expect((list.body?.value as { name: string }[]).map((d) => d.name)).toEqual([
      BUILT_IN_ROLE_IDS.reader,
    ]);
    const missing = await arm(
      'GET',
      `/subscriptions/${sub}/${AUTH}/roleDefinitions/${randomUUID()}?${V}`,
      {
        token: admin,
      },
    );
    expect([missing.status, errorCode(missing.body)]).toEqual([404, 'RoleDefinitionDoesNotExist']);
  });

  it('assigns at the tenant root scope /, which reaches every subscription', async () => {
    const rooted = await h.newClient('root-reader');
    const assignment = randomUUID();
    const created = await arm('PUT', `/${AUTH}/roleAssignments/${assignment}?${V}`, {
      token: admin,
      body: {
        properties: {
          roleDefinitionId: `/${AUTH}/roleDefinitions/${BUILT_IN_ROLE_IDS.reader}`,
          principalId: rooted.principal.objectId,
        },
      },
    });
    expect(created.status).toBe(201);
    expect((created.body as unknown as Assignment).properties.scope).toBe('/');
    expect((await arm('GET', `${group}?${GROUP_V}`, { token: rooted.token })).status).toBe(200);
    const gone = await arm('DELETE', `/${AUTH}/roleAssignments/${assignment}?${V}`, {
      token: admin,
    });
    expect(gone.status).toBe(200);
  });
});
