// Custom role definitions through ARM, end to end: written as az writes them, refused as Azure refuses, honoured by RBAC.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { type ArmHarness, type ArmResult, errorCode, startArm } from './arm-harness.js';
import { assignRole, createStoredUai } from './arm-store-fixtures.js';

const V = 'api-version=2022-04-01';
const GROUP_V = 'api-version=2021-04-01';
const UAI_V = 'api-version=2023-01-31';
const AUTH = 'providers/Microsoft.Authorization';
const DEFINITIONS = 'Microsoft.Authorization/roleDefinitions';
const UAI_READ = 'Microsoft.ManagedIdentity/userAssignedIdentities/read';

interface Definition {
  id: string;
  name: string;
  type: string;
  properties: Record<string, unknown> & { roleName: string; createdOn: string };
}

/** A custom role's body as `az role definition create` 2.45 sends it (no `name`, no `type`). */
const azBody = (roleName: string, assignableScopes: string[], actions = [UAI_READ]) => ({
  properties: {
    roleName,
    description: `${roleName} for tests`,
    permissions: [{ actions, dataActions: [], notDataActions: [] }],
    assignableScopes,
  },
});

const oidOf = (token: string): string =>
  (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { oid: string })
    .oid;

describe('ARM surface: custom role definitions', () => {
  let h: ArmHarness;
  let admin: string;
  let sub: string;
  let group: string;
  let sibling: string;
  const arm: ArmHarness['arm'] = (method, path, options) => h.arm(method, path, options);
  const at = (scope: string, id: string, version = V) =>
    `${scope}/${AUTH}/roleDefinitions/${id}?${version}`;
  const put = (scope: string, id: string, body: unknown, token = admin): Promise<ArmResult> =>
    arm('PUT', at(scope, id), { token, body });
  const listed = async (scope: string, filter: string): Promise<Definition[]> => {
    const query = `$filter=${encodeURIComponent(filter)}`;
    const result = await arm('GET', `${scope}/${AUTH}/roleDefinitions?${V}&${query}`, {
      token: admin,
    });
    expect(result.status).toBe(200);
    return result.body?.value as Definition[];
  };
  const expectRefused = (result: ArmResult, status: number, code: string): void => {
    expect([result.status, errorCode(result.body)]).toEqual([status, code]);
  };

  beforeAll(async () => {
    h = await startArm();
    ({ admin, sub } = h);
    sub = `/subscriptions/${sub}`;
    group = `${sub}/resourceGroups/defs-rg`;
    sibling = `${sub}/resourceGroups/defs-other`;
    for (const rg of [group, sibling]) {
      const made = await arm('PUT', `${rg}?${GROUP_V}`, {
        token: admin,
        body: { location: 'westeurope' },
      });
      expect(made.status).toBe(201);
    }
  });
  afterAll(async () => {
    await h.close();
  });

  const subRole = randomUUID();

  it("creates a custom role from az's request at its first assignable scope, as Azure answers", async () => {
    const created = await put(sub, subRole, azBody('Identity Reader', [sub]));
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      properties: {
        roleName: 'Identity Reader',
        type: 'CustomRole',
        description: 'Identity Reader for tests',
        assignableScopes: [sub],
        permissions: [{ actions: [UAI_READ], notActions: [], dataActions: [], notDataActions: [] }],
        createdOn: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/) as unknown,
        updatedOn: expect.any(String) as unknown,
        createdBy: null,
        updatedBy: oidOf(admin),
      },
      id: `${sub}/${AUTH}/roleDefinitions/${subRole}`,
      type: DEFINITIONS,
      name: subRole,
    });

    // Read at the subscription and below it (az's newer api-version too), listed by type and name.
    for (const [scope, version] of [
      [sub, 'api-version=2022-05-01-preview'],
      [group, V],
    ] as const) {
      const read = await arm('GET', at(scope, subRole, version), { token: admin });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({
        id: `${sub}/${AUTH}/roleDefinitions/${subRole}`,
        properties: { roleName: 'Identity Reader', type: 'CustomRole' },
      });
    }
    const customs = await listed(sub, "type eq 'CustomRole'");
    expect(customs.map((d) => d.name)).toEqual([subRole]);
    const byName = await listed(group, "roleName eq 'identity READER'");
    expect(byName.map((d) => d.name)).toEqual([subRole]);
  });

  it('updates in place with 201, keeping createdOn; the REST docs body (name, type) is accepted', async () => {
    const before = (await arm('GET', at(sub, subRole), { token: admin }))
      .body as unknown as Definition;
    const body = azBody('Identity Reader', [sub], [UAI_READ, 'Microsoft.Resources/*/read']);
    const updated = await put(sub, subRole, {
      name: subRole,
      properties: { ...body.properties, type: 'CustomRole' },
    });
    expect(updated.status).toBe(201);
    const after = (await arm('GET', at(sub, subRole), { token: admin }))
      .body as unknown as Definition;
    expect(after.properties).toMatchObject({
      createdOn: before.properties.createdOn,
      permissions: [{ actions: [UAI_READ, 'Microsoft.Resources/*/read'] }],
    });
  });

  it('writes at a resource group, seen there, above it and at the root, not in a sibling group', async () => {
    const id = randomUUID();
    expect((await put(group, id, azBody('Group Role', [group]))).status).toBe(201);
    // A subscription path for a group's role is what Terraform's `scope` sends: accepted.
    const fromSub = randomUUID();
    expect((await put(sub, fromSub, azBody('Group Role Two', [group]))).status).toBe(201);
    for (const scope of [group, sub, '']) {
      expect((await arm('GET', at(scope, id), { token: admin })).status).toBe(200);
    }
    const inSibling = await arm('GET', at(sibling, id), { token: admin });
    expectRefused(inSibling, 404, 'RoleDefinitionDoesNotExist');
    expect((await listed(sibling, "type eq 'CustomRole'")).map((d) => d.name)).toEqual([subRole]);
    const all = (await listed('', "type eq 'CustomRole'")).map((d) => d.name);
    expect(all.sort()).toEqual([subRole, id, fromSub].sort());
    for (const [scope, name] of [
      [group, id],
      [sub, fromSub],
    ] as const) {
      expect((await arm('DELETE', at(scope, name), { token: admin })).status).toBe(200);
    }
  });

  it("refuses each bad request with Azure's code and changes nothing", async () => {
    const uai = await createStoredUai(h, 'defs-rg', 'defs-uai');
    const snapshot = async () => ({
      definitions: await h.store.roles.listDefinitions(),
      assignments: (await h.store.roles.listAssignments({}, { limit: 1000 })).items,
    });
    const before = await snapshot();
    const id = randomUUID();
    const role = (properties: Record<string, unknown>) => ({
      properties: { ...azBody('Bad Role', [sub]).properties, ...properties },
    });
    const withActions = (actions: unknown) => role({ permissions: [{ actions, notActions: [] }] });
    const cases: [Promise<ArmResult>, number, string][] = [
      [put(sub, 'not-a-guid', role({})), 400, 'InvalidRoleDefinitionId'],
      [put(sub, id, role({ type: 'BuiltInRole' })), 400, 'InvalidRoleDefinitionType'],
      [put(sub, id, role({ roleName: '' })), 400, 'RoleDefinitionNameNullOrEmpty'],
      [put(sub, id, {}), 400, 'RoleDefinitionNameNullOrEmpty'],
      [put(sub, id, role({ roleName: 'n'.repeat(513) })), 400, 'InvalidRoleDefinition'],
      [put(sub, id, role({ description: 'd'.repeat(2049) })), 400, 'InvalidRoleDefinition'],
      [
        put(sub, id, withActions(['Microsoft.CostManagement/*/query/*'])),
        400,
        'InvalidActionOrNotAction',
      ],
      [put(sub, id, withActions(['not an action'])), 400, 'InvalidActionOrNotAction'],
      [put(sub, id, withActions('Microsoft.Resources/*/read')), 400, 'InvalidRequestContent'],
      [put(sub, id, withActions(Array(1001).fill(UAI_READ))), 400, 'InvalidRoleDefinition'],
      [put(sub, id, role({ permissions: [{}, {}] })), 400, 'InvalidRoleDefinition'],
      [put(sub, id, role({ assignableScopes: [] })), 400, 'MissingAssignableScopes'],
      [put(sub, id, role({ assignableScopes: ['Invalid_Scope'] })), 400, 'LinkedInvalidPropertyId'],
      [put(sub, id, role({ assignableScopes: ['/'] })), 400, 'LinkedInvalidPropertyId'],
      [
        put(sub, id, role({ assignableScopes: [`${sub}/resourceGroups/*`] })),
        400,
        'InvalidAssignableScope',
      ],
      [put(sub, id, role({ assignableScopes: [uai.id] })), 400, 'InvalidAssignableScope'],
      [
        put(sub, id, role({ assignableScopes: [`${sub}/resourceGroups/nope`] })),
        403,
        'LinkedAuthorizationFailed',
      ],
      [
        put(sub, id, role({ assignableScopes: [sub, `/subscriptions/${randomUUID()}`] })),
        403,
        'LinkedAuthorizationFailed',
      ],
      [put('', id, role({})), 400, 'InvalidRoleDefinitionScope'],
      [put(uai.id, id, role({ assignableScopes: [group] })), 400, 'InvalidRoleDefinitionScope'],
      [put(group, id, role({ assignableScopes: [sibling] })), 400, 'InvalidRoleDefinitionScope'],
      [
        put(sub, id, role({ roleName: 'IDENTITY reader' })),
        409,
        'RoleDefinitionWithSameNameExists',
      ],
      [put(sub, id, role({ roleName: 'reader' })), 409, 'RoleDefinitionWithSameNameExists'],
      [put(sub, BUILT_IN_ROLE_IDS.reader, role({})), 409, 'RoleDefinitionExists'],
      [
        arm('DELETE', at(sub, BUILT_IN_ROLE_IDS.reader), { token: admin }),
        400,
        'CannotDeleteBuiltInRole',
      ],
      [arm('DELETE', at(sub, 'not-a-guid'), { token: admin }), 400, 'InvalidRoleDefinitionId'],
      [
        arm('PUT', `${sub}/${AUTH}/roleDefinitions/${id}`, { token: admin, body: role({}) }),
        400,
        'MissingApiVersionParameter',
      ],
    ];
    for (const [call, status, code] of cases) expectRefused(await call, status, code);
    const wildcards = await put(sub, id, withActions(['Microsoft.CostManagement/*/query/*']));
    expect((wildcards.body?.error as { message: string }).message).toBe(
      "'Microsoft.CostManagement/*/query/*' contains multiple wildcards. Only one is allowed.",
    );
    expect(await snapshot()).toEqual(before);
  });

  it('needs roleDefinitions/write at the scope and on every assignable scope', async () => {
    const nobody = await h.newClient('defs-nobody');
    const denied = await put(sub, randomUUID(), azBody('Nobody Role', [sub]), nobody.token);
    expectRefused(denied, 403, 'AuthorizationFailed');

    // Contributor excludes Microsoft.Authorization/*/Write.
    const contributor = await h.newClient('defs-contributor');
    await assignRole(h, contributor.principal.objectId, BUILT_IN_ROLE_IDS.contributor, sub);
    const refused = await put(
      group,
      randomUUID(),
      azBody('Contrib Role', [group]),
      contributor.token,
    );
    expectRefused(refused, 403, 'AuthorizationFailed');

    // User Access Administrator of one group may write roles for that group only.
    const admin2 = await h.newClient('defs-uaa');
    await assignRole(
      h,
      admin2.principal.objectId,
      BUILT_IN_ROLE_IDS.userAccessAdministrator,
      group,
    );
    const id = randomUUID();
    const linked = await put(group, id, azBody('UAA Role', [group, sibling]), admin2.token);
    expectRefused(linked, 403, 'LinkedAuthorizationFailed');
    expect((linked.body?.error as { message: string }).message).toContain(
      `does not have permission to perform action '${DEFINITIONS}/write' on the linked scope(s) '${sibling}'`,
    );
    expect((await put(group, id, azBody('UAA Role', [group]), admin2.token)).status).toBe(201);
    const nobodyDelete = await arm('DELETE', at(group, id), { token: nobody.token });
    expectRefused(nobodyDelete, 403, 'AuthorizationFailed');
    expect((await arm('DELETE', at(group, id), { token: admin2.token })).status).toBe(200);
  });

  it('grants what it holds where it is assignable, follows its updates at once, and is deleted only once unassigned', async () => {
    const id = randomUUID();
    expect((await put(group, id, azBody('Group Identity Reader', [group]))).status).toBe(201);
    const identity = `${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/defs-id`;
    const made = await arm('PUT', `${identity}?${UAI_V}`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    expect(made.status).toBe(201);
    const reader = await h.newClient('defs-reader');
    expectRefused(
      await arm('GET', `${identity}?${UAI_V}`, { token: reader.token }),
      403,
      'AuthorizationFailed',
    );

    const assign = (scope: string, name: string) =>
      arm('PUT', `${scope}/${AUTH}/roleAssignments/${name}?${V}`, {
        token: admin,
        body: {
          properties: {
            roleDefinitionId: `${sub}/${AUTH}/roleDefinitions/${id}`,
            principalId: reader.principal.objectId,
          },
        },
      });
    for (const scope of [sub, sibling]) {
      expectRefused(await assign(scope, randomUUID()), 400, 'RoleDefinitionDoesNotExist');
    }
    const assignment = randomUUID();
    expect((await assign(group, assignment)).status).toBe(201);
    expect((await arm('GET', `${identity}?${UAI_V}`, { token: reader.token })).status).toBe(200);
    const write = await arm('PUT', `${identity}?${UAI_V}`, {
      token: reader.token,
      body: { location: 'westeurope' },
    });
    expectRefused(write, 403, 'AuthorizationFailed');

    // Narrowed: the next check already denies.
    const narrowed = azBody('Group Identity Reader', [group], ['Microsoft.Resources/*/read']);
    expect((await put(group, id, narrowed)).status).toBe(201);
    expectRefused(
      await arm('GET', `${identity}?${UAI_V}`, { token: reader.token }),
      403,
      'AuthorizationFailed',
    );

    expectRefused(
      await arm('DELETE', at(group, id), { token: admin }),
      409,
      'RoleDefinitionHasAssignments',
    );
    const unassigned = await arm('DELETE', `${group}/${AUTH}/roleAssignments/${assignment}?${V}`, {
      token: admin,
    });
    expect(unassigned.status).toBe(200);
    const deleted = await arm('DELETE', at(group, id), { token: admin });
    expect([deleted.status, deleted.body?.name]).toEqual([200, id]);
    expect((await arm('DELETE', at(group, id), { token: admin })).status).toBe(204);
    expectRefused(
      await arm('GET', at(group, id), { token: admin }),
      404,
      'RoleDefinitionDoesNotExist',
    );
  });

  it('records writes and deletes in the Activity Log', async () => {
    const filter = encodeURIComponent(
      `eventTimestamp ge '${new Date(Date.now() - 600_000).toISOString()}'`,
    );
    const log = await arm(
      'GET',
      `${sub}/providers/microsoft.insights/eventtypes/management/values?api-version=2015-04-01&$filter=${filter}`,
      { token: admin },
    );
    expect(log.status).toBe(200);
    const operations = (log.body?.value as { operationName: { value: string } }[]).map(
      (e) => e.operationName.value,
    );
    expect(operations).toEqual(
      expect.arrayContaining([`${DEFINITIONS}/write`, `${DEFINITIONS}/delete`]),
    );
  });
});
