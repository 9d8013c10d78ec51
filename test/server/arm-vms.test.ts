// Virtual machines on the ARM surface end to end: identities, host binding, errors, authorization.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { type ArmHarness, errorCode, startArm } from './arm-harness.js';
import {
  assignRole,
  createStoredUai,
  type StoredUai,
  storeSnapshot,
} from './arm-store-fixtures.js';

const V = 'api-version=2024-07-01';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UAI_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';

describe('ARM surface: virtual machines', () => {
  let h: ArmHarness;
  let admin: string;
  let sub: string;
  let tenantId: string;
  let groupPath: string;
  let uai1: StoredUai;
  let uai2: StoredUai;
  const arm: ArmHarness['arm'] = (method, path, options) => h.arm(method, path, options);
  const vmPath = (name: string, group = 'vms'): string =>
    `/subscriptions/${sub}/resourceGroups/${group}/providers/Microsoft.Compute/virtualMachines/${name}`;

  const createUai = (name: string): Promise<StoredUai> => createStoredUai(h, 'vms', name);
  const assign = (principalId: string, role: string, scope: string): Promise<string> =>
    assignRole(h, principalId, role, scope);
  const snapshot = (): Promise<unknown> => storeSnapshot(h);

  beforeAll(async () => {
    h = await startArm();
    ({ admin, sub } = h);
    tenantId = h.server.tenant.id;
    groupPath = `/subscriptions/${sub}/resourceGroups/vms`;
    const group = await arm('PUT', `${groupPath}?api-version=2021-04-01`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    expect(group.status).toBe(201);
    uai1 = await createUai('uai-one');
    uai2 = await createUai('uai-two');
    await h.hosts('host-a');
  });
  afterAll(async () => {
    await h.close();
  });

  it('creates a VM with system and user-assigned identities and reads them back', async () => {
    const path = vmPath('web-1');
    const created = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: {
        location: 'West Europe',
        tags: { env: 'test' },
        identity: {
          type: 'SystemAssigned, UserAssigned',
          userAssignedIdentities: { [uai1.id]: {}, [uai2.id]: {} },
        },
        properties: {
          hardwareProfile: { vmSize: 'Standard_B1s' },
          tessera: { hostId: 'host-a', privateIpAddresses: ['10.0.0.4', 'fd00::4'] },
        },
      },
    });
    expect(created.status).toBe(201);
    const identity = created.body?.identity as Record<string, unknown>;
    expect(identity).toEqual({
      type: 'SystemAssigned, UserAssigned',
      principalId: expect.stringMatching(GUID) as unknown,
      tenantId,
      userAssignedIdentities: {
        [uai1.id]: { principalId: uai1.principal.objectId, clientId: uai1.principal.appId },
        [uai2.id]: { principalId: uai2.principal.objectId, clientId: uai2.principal.appId },
      },
    });
    const properties = created.body?.properties as Record<string, unknown>;
    expect(properties).toEqual({
      vmId: expect.stringMatching(GUID) as unknown,
      hardwareProfile: { vmSize: 'Standard_B1s' },
      tessera: { hostId: 'host-a', privateIpAddresses: ['10.0.0.4', 'fd00::4'] },
      provisioningState: 'Succeeded',
    });
    expect(created.body).toMatchObject({
      id: path,
      name: 'web-1',
      type: 'Microsoft.Compute/virtualMachines',
      location: 'westeurope',
      tags: { env: 'test' },
    });

    const system = await h.store.principals.get(identity.principalId as string);
    expect(system).toMatchObject({
      type: 'ManagedIdentity',
      displayName: 'web-1',
      alternativeNames: [path],
      tenantId,
    });
    expect((await h.store.attachments.listForResource(path)).length).toBe(3);

    const read = await arm('GET', `${path}?${V}`, { token: admin });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);

    // A second PUT (no identity member) updates and keeps vmId and identities.
    const again = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: { location: 'westeurope', properties: { hardwareProfile: { vmSize: 'B2s' } } },
    });
    expect(again.status).toBe(200);
    expect((again.body?.properties as { vmId: string }).vmId).toBe(properties.vmId);
    expect(again.body?.identity).toEqual(identity);
    expect(again.body?.tags).toBeUndefined();
  });

  it('PATCH removes one user-assigned identity with null and merges tags and tessera', async () => {
    const path = vmPath('web-2');
    await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: {
        location: 'westeurope',
        identity: {
          type: 'UserAssigned',
          userAssignedIdentities: { [uai1.id]: {}, [uai2.id]: {} },
        },
        properties: { tessera: { hostId: 'host-a', privateIpAddresses: ['10.0.0.5'] } },
      },
    });
    const patched = await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: {
        tags: { owner: 'me' },
        identity: { type: 'UserAssigned', userAssignedIdentities: { [uai2.id]: null } },
        properties: { tessera: { privateIpAddresses: ['10.0.0.6'] } },
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.body?.identity).toEqual({
      type: 'UserAssigned',
      userAssignedIdentities: {
        [uai1.id]: { principalId: uai1.principal.objectId, clientId: uai1.principal.appId },
      },
    });
    expect(patched.body?.tags).toEqual({ owner: 'me' });
    expect((patched.body?.properties as { tessera: unknown }).tessera).toEqual({
      hostId: 'host-a',
      privateIpAddresses: ['10.0.0.6'],
    });
    const attached = await h.store.attachments.listForResource(path);
    expect(attached.map((a) => a.principalId)).toEqual([uai1.principal.objectId]);
  });

  it('PATCH to None deletes the system principal and its role assignments', async () => {
    const path = vmPath('web-3');
    const created = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: {
        location: 'westeurope',
        identity: {
          type: 'SystemAssigned, UserAssigned',
          userAssignedIdentities: { [uai1.id]: {} },
        },
      },
    });
    const principalId = (created.body?.identity as { principalId: string }).principalId;
    const assignment = await assign(principalId, BUILT_IN_ROLE_IDS.reader, groupPath);

    const defaultPath = `${path}/providers/Microsoft.ManagedIdentity/identities/default?api-version=2024-11-30`;
    const sa = await arm('GET', defaultPath, { token: admin });
    expect(sa.status).toBe(200);
    const principal = await h.store.principals.get(principalId);
    expect(sa.body).toEqual({
      id: `${path}/providers/Microsoft.ManagedIdentity/identities/default`,
      name: 'default',
      type: 'Microsoft.ManagedIdentity/Identities',
      location: 'westeurope',
      tags: {},
      properties: { tenantId, principalId, clientId: principal?.appId },
    });

    const none = await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: { identity: { type: 'None' } },
    });
    expect(none.status).toBe(200);
    expect(none.body?.identity).toBeUndefined();
    expect(await h.store.principals.get(principalId)).toBeUndefined();
    expect(await h.store.roles.getAssignment(assignment)).toBeUndefined();
    expect(await h.store.attachments.listForResource(path)).toEqual([]);
    expect(await h.store.principals.get(uai1.principal.objectId)).toBeDefined();
    const gone = await arm('GET', defaultPath, { token: admin });
    expect([gone.status, errorCode(gone.body)]).toEqual([404, 'ResourceNotFound']);
  });

  it('DELETE removes the system principal and attachments but keeps user-assigned ones', async () => {
    const path = vmPath('web-4');
    const created = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: {
        location: 'westeurope',
        identity: {
          type: 'SystemAssigned, UserAssigned',
          userAssignedIdentities: { [uai1.id]: {}, [uai2.id]: {} },
        },
      },
    });
    const principalId = (created.body?.identity as { principalId: string }).principalId;
    const assignment = await assign(principalId, BUILT_IN_ROLE_IDS.reader, groupPath);
    expect((await arm('DELETE', `${path}?${V}`, { token: admin })).status).toBe(200);

    expect(await h.store.principals.get(principalId)).toBeUndefined();
    expect(await h.store.roles.getAssignment(assignment)).toBeUndefined();
    expect(await h.store.attachments.listForResource(path)).toEqual([]);
    expect(await h.store.attachments.listForPrincipal(uai1.principal.objectId)).not.toContainEqual(
      expect.objectContaining({ resourceId: path }),
    );
    expect(await h.store.resources.get(uai1.id)).toBeDefined();
    expect(await h.store.principals.get(uai2.principal.objectId)).toBeDefined();

    const gone = await arm('GET', `${path}?${V}`, { token: admin });
    expect(gone.status).toBe(404);
    expect(gone.body?.error).toEqual({
      code: 'ResourceNotFound',
      message:
        "The Resource 'Microsoft.Compute/virtualMachines/web-4' under resource group 'vms' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    });
    expect((await arm('DELETE', `${path}?${V}`, { token: admin })).status).toBe(204);
  });

  it('speaks the 2017-12-01 identityIds form', async () => {
    const path = vmPath('legacy-1');
    const created = await arm('PUT', `${path}?api-version=2017-12-01`, {
      token: admin,
      body: {
        location: 'westeurope',
        identity: { type: 'SystemAssigned,UserAssigned', identityIds: [uai1.id] },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body?.identity).toEqual({
      type: 'SystemAssigned, UserAssigned',
      principalId: expect.stringMatching(GUID) as unknown,
      tenantId,
      identityIds: [uai1.id],
    });
    // identityIds replaces the set.
    const replaced = await arm('PATCH', `${path}?api-version=2017-12-01`, {
      token: admin,
      body: { identity: { type: 'SystemAssigned, UserAssigned', identityIds: [uai2.id] } },
    });
    expect((replaced.body?.identity as { identityIds: string[] }).identityIds).toEqual([uai2.id]);
    const modern = await arm('GET', `${path}?${V}`, { token: admin });
    expect(
      Object.keys(
        (modern.body?.identity as { userAssignedIdentities: object }).userAssignedIdentities,
      ),
    ).toEqual([uai2.id]);
  });

  it('refuses bad input with ARM codes and changes nothing', async () => {
    const existing = vmPath('steady');
    await arm('PUT', `${existing}?${V}`, {
      token: admin,
      body: {
        location: 'westeurope',
        identity: { type: 'UserAssigned', userAssignedIdentities: { [uai1.id]: {} } },
      },
    });
    const unknownId = `/subscriptions/${sub}/resourceGroups/vms/providers/${UAI_TYPE}/nobody`;
    const many = Object.fromEntries(
      Array.from({ length: 151 }, (_, i) => [
        `/subscriptions/${sub}/resourceGroups/vms/providers/${UAI_TYPE}/many-${i}`,
        {},
      ]),
    );
    const fresh = `${vmPath('fresh')}?${V}`;
    const cases: [string, string, string, unknown, number, string][] = [
      [
        'identity type',
        'PUT',
        fresh,
        { location: 'x', identity: { type: 'Both' } },
        400,
        'InvalidParameter',
      ],
      [
        'unknown identity',
        'PUT',
        fresh,
        {
          location: 'x',
          identity: { type: 'UserAssigned', userAssignedIdentities: { [unknownId]: {} } },
        },
        400,
        'FailedIdentityOperation',
      ],
      [
        'unknown identity on PATCH adding system',
        'PATCH',
        `${existing}?${V}`,
        {
          identity: {
            type: 'SystemAssigned, UserAssigned',
            userAssignedIdentities: { [unknownId]: {} },
          },
        },
        400,
        'FailedIdentityOperation',
      ],
      [
        'malformed id',
        'PUT',
        fresh,
        {
          location: 'x',
          identity: { type: 'UserAssigned', userAssignedIdentities: { 'not-an-id': {} } },
        },
        400,
        'LinkedInvalidPropertyId',
      ],
      [
        'over 150',
        'PUT',
        fresh,
        { location: 'x', identity: { type: 'UserAssigned', userAssignedIdentities: many } },
        400,
        'FailedIdentityOperation',
      ],
      [
        'no api-version',
        'PUT',
        vmPath('fresh'),
        { location: 'x' },
        400,
        'MissingApiVersionParameter',
      ],
      ['bad JSON', 'PUT', fresh, '{"location": ', 400, 'InvalidRequestContent'],
      [
        'no group',
        'PUT',
        `${vmPath('fresh', 'nogroup')}?${V}`,
        { location: 'x' },
        404,
        'ResourceGroupNotFound',
      ],
      ['no location', 'PUT', fresh, { properties: {} }, 400, 'LocationRequired'],
      ['bad name', 'PUT', `${vmPath('_bad')}?${V}`, { location: 'x' }, 400, 'InvalidResourceName'],
      [
        'bad address',
        'PUT',
        fresh,
        { location: 'x', properties: { tessera: { privateIpAddresses: ['10.0.0.300'] } } },
        400,
        'InvalidParameter',
      ],
      [
        'other location',
        'PUT',
        `${existing}?${V}`,
        { location: 'eastus' },
        409,
        'InvalidResourceLocation',
      ],
    ];
    const before = await snapshot();
    for (const [name, method, path, body, status, code] of cases) {
      const result = await arm(method, path, { token: admin, body });
      expect([name, result.status, errorCode(result.body)]).toEqual([name, status, code]);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('needs assign permission on each user-assigned identity (LinkedAuthorizationFailed)', async () => {
    const { principal: caller, token } = await h.newClient('vm-operator');
    await assign(caller.objectId, BUILT_IN_ROLE_IDS.virtualMachineContributor, groupPath);
    const path = vmPath('operated');
    const body = {
      location: 'westeurope',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [uai1.id]: {} } },
    };
    const before = await snapshot();
    const denied = await arm('PUT', `${path}?${V}`, { token, body });
    expect(denied.status).toBe(403);
    expect(denied.body?.error).toEqual({
      code: 'LinkedAuthorizationFailed',
      message: `The client '${caller.appId}' with object id '${caller.objectId}' has permission to perform action 'Microsoft.Compute/virtualMachines/write' on scope '${path}'; however, it does not have permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '${uai1.id}' or the linked scope(s) are invalid.`,
    });
    expect(await snapshot()).toEqual(before);

    const plain = await arm('PUT', `${path}?${V}`, { token, body: { location: 'westeurope' } });
    expect(plain.status).toBe(201);
    await assign(caller.objectId, BUILT_IN_ROLE_IDS.managedIdentityOperator, uai1.id);
    const allowed = await arm('PUT', `${path}?${V}`, { token, body });
    expect(allowed.status).toBe(200);
    expect(Object.keys(allowed.body?.identity as object)).toContain('userAssignedIdentities');
  });

  it('lists by group and subscription, paged, showing only what the caller may read', async () => {
    const otherGroup = `/subscriptions/${sub}/resourceGroups/other`;
    await arm('PUT', `${otherGroup}?api-version=2021-04-01`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    await arm('PUT', `${vmPath('elsewhere', 'other')}?${V}`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    const base = `/subscriptions/${sub}/providers/Microsoft.Compute/virtualMachines`;
    const all = await arm('GET', `${base}?${V}`, { token: admin });
    const names = (all.body?.value as { name: string }[]).map((vm) => vm.name);
    expect(names).toContain('elsewhere');
    expect(names).toContain('web-1');

    const first = await arm('GET', `${base}?${V}&$top=2`, { token: admin });
    expect((first.body?.value as unknown[]).length).toBe(2);
    const next = first.body?.nextLink as string;
    const second = await arm('GET', next.slice(h.server.url.length), { token: admin });
    const paged = [
      ...(first.body?.value as { name: string }[]),
      ...(second.body?.value as { name: string }[]),
    ];
    expect(new Set(paged.map((vm) => vm.name)).size).toBe(4);

    const inGroup = await arm(
      'GET',
      `${otherGroup}/providers/Microsoft.Compute/virtualMachines?${V}`,
      {
        token: admin,
      },
    );
    expect((inGroup.body?.value as { name: string }[]).map((vm) => vm.name)).toEqual(['elsewhere']);

    const { principal, token } = await h.newClient('other-reader');
    await assign(principal.objectId, BUILT_IN_ROLE_IDS.reader, otherGroup);
    const visible = await arm('GET', `${base}?${V}`, { token });
    expect((visible.body?.value as { name: string }[]).map((vm) => vm.name)).toEqual(['elsewhere']);
    const missing = await arm(
      'GET',
      `/subscriptions/${sub}/resourceGroups/nogroup/providers/Microsoft.Compute/virtualMachines?${V}`,
      { token: admin },
    );
    expect([missing.status, errorCode(missing.body)]).toEqual([404, 'ResourceGroupNotFound']);
  });
});
