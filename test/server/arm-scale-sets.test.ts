// Scale sets and their instances on the ARM surface end to end: identities, capacity, placement, change feed.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { LEGACY_EXTENSION_AUDIT_KIND } from '../../src/core/resources/legacy-extension.js';
import type { VerifiedAccessToken } from '../../src/core/tokens/index.js';
import type { ArmResponse, ArmServices } from '../../src/server/arm/context.js';
import { runPipeline } from '../../src/server/arm/pipeline.js';
import { DIRECT_PIPELINE } from '../fixtures/arm-pipeline.js';
import { ARM_REGISTRY } from '../../src/server/arm/providers/index.js';
import { type ArmHarness, type ArmResult, errorCode, startArm } from './arm-harness.js';
import {
  assignRole,
  createStoredUai,
  type StoredUai,
  storeSnapshot,
} from './arm-store-fixtures.js';

const V = 'api-version=2024-07-01';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SS_TYPE = 'Microsoft.Compute/virtualMachineScaleSets';
const INSTANCE_TYPE = 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines';

interface Listed {
  readonly id: string;
  readonly name: string;
  readonly instanceId: string;
  readonly [member: string]: unknown;
}

describe('ARM surface: virtual machine scale sets', () => {
  let h: ArmHarness;
  let admin: string;
  let sub: string;
  let tenantId: string;
  let groupPath: string;
  let uai1: StoredUai;
  let uai2: StoredUai;
  const arm: ArmHarness['arm'] = (method, path, options) => h.arm(method, path, options);
  const ssPath = (name: string, group = 'fleet'): string =>
    `/subscriptions/${sub}/resourceGroups/${group}/providers/${SS_TYPE}/${name}`;
  const put = (name: string, body: unknown): Promise<ArmResult> =>
    arm('PUT', `${ssPath(name)}?${V}`, { token: admin, body });
  const patch = (
    name: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<ArmResult> =>
    arm('PATCH', `${ssPath(name)}?${V}`, { token: admin, body, ...(headers ? { headers } : {}) });
  const instances = async (name: string): Promise<Listed[]> => {
    const listed = await arm('GET', `${ssPath(name)}/virtualMachines?${V}`, { token: admin });
    expect(listed.status).toBe(200);
    return listed.body?.value as Listed[];
  };
  const instanceIds = async (name: string): Promise<string[]> =>
    (await instances(name)).map((instance) => instance.instanceId);
  const changes = async (hostId: string): Promise<string[]> =>
    (await h.store.changes.since(hostId, 0, 1000)).map((change) => change.resourceId);
  const audits = async (): Promise<{ kind: string; resource: string | null }[]> =>
    (await h.store.audit.list({}, { limit: 1000 })).items.map((e) => ({ ...e }));
  // Everything a request may change, change feed and audit log included.
  const snapshot = async (): Promise<unknown> => ({
    state: await storeSnapshot(h),
    feed: await h.store.changes.bounds(),
    audit: (await audits()).length,
  });

  beforeAll(async () => {
    h = await startArm();
    ({ admin, sub } = h);
    tenantId = h.server.tenant.id;
    groupPath = `/subscriptions/${sub}/resourceGroups/fleet`;
    const group = await arm('PUT', `${groupPath}?api-version=2021-04-01`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    expect(group.status).toBe(201);
    uai1 = await createStoredUai(h, 'fleet', 'fleet-one');
    uai2 = await createStoredUai(h, 'fleet', 'fleet-two');
    await h.hosts('host-a', 'host-b', 'host-c', 'host-d', 'host-z', 'race-a');
  });
  afterAll(async () => {
    await h.close();
  });

  it('creates a scale set with both identity kinds and three instances that share them', async () => {
    const path = ssPath('web');
    const created = await put('web', {
      location: 'West Europe',
      tags: { env: 'test' },
      sku: { name: 'Standard_B1s', tier: 'Standard', capacity: 3 },
      identity: {
        type: 'SystemAssigned, UserAssigned',
        userAssignedIdentities: { [uai1.id]: {}, [uai2.id]: {} },
      },
      properties: {
        upgradePolicy: { mode: 'Manual' },
        provisioningState: 'Creating',
        uniqueId: 'mine',
        _tessera: { nextInstanceId: 99 },
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
    expect(created.body).toMatchObject({
      id: path,
      name: 'web',
      type: SS_TYPE,
      location: 'westeurope',
      tags: { env: 'test' },
      sku: { name: 'Standard_B1s', tier: 'Standard', capacity: 3 },
      etag: expect.any(String) as unknown,
    });
    const properties = created.body?.properties as Record<string, unknown>;
    expect(properties).toEqual({
      uniqueId: expect.stringMatching(GUID) as unknown,
      upgradePolicy: { mode: 'Manual' },
      provisioningState: 'Succeeded',
    });
    const system = await h.store.principals.get(identity.principalId as string);
    expect(system).toMatchObject({
      type: 'ManagedIdentity',
      displayName: 'web',
      alternativeNames: [path],
    });
    expect((await h.store.attachments.listForResource(path)).length).toBe(3);
    const read = await arm('GET', `${path}?${V}`, { token: admin });
    expect(read.body).toEqual(created.body);

    const listed = await instances('web');
    expect(listed.map((i) => [i.id, i.name, i.instanceId])).toEqual([
      [`${path}/virtualMachines/0`, 'web_0', '0'],
      [`${path}/virtualMachines/1`, 'web_1', '1'],
      [`${path}/virtualMachines/2`, 'web_2', '2'],
    ]);
    for (const instance of listed) {
      expect(instance).toMatchObject({
        type: INSTANCE_TYPE,
        location: 'westeurope',
        sku: { name: 'Standard_B1s', tier: 'Standard' },
        etag: expect.any(String) as unknown,
        identity,
        properties: {
          vmId: expect.stringMatching(GUID) as unknown,
          provisioningState: 'Succeeded',
        },
      });
    }
    const one = await arm('GET', `${path}/virtualMachines/1?${V}`, { token: admin });
    expect(one.body).toEqual(listed[1]);

    // A PUT without sku keeps the capacity; uniqueId and identities stay.
    const again = await put('web', { location: 'westeurope', properties: {} });
    expect(again.status).toBe(200);
    expect(again.body?.sku).toEqual({ name: 'Standard_B1s', tier: 'Standard', capacity: 3 });
    expect((again.body?.properties as { uniqueId: string }).uniqueId).toBe(properties.uniqueId);
    expect(again.body?.identity).toEqual(identity);
    expect(again.body?.etag).not.toBe(created.body?.etag);
    expect(await instanceIds('web')).toEqual(['0', '1', '2']);
  });

  it('scales out with new ids and in from the highest id, never reusing one', async () => {
    await put('scaler', { location: 'westeurope', sku: { capacity: 2 } });
    expect(await instanceIds('scaler')).toEqual(['0', '1']);
    const out = await patch('scaler', { sku: { capacity: 4 } });
    expect([out.status, out.body?.sku]).toEqual([200, { capacity: 4 }]);
    expect(await instanceIds('scaler')).toEqual(['0', '1', '2', '3']);
    await patch('scaler', { sku: { capacity: 1 } });
    expect(await instanceIds('scaler')).toEqual(['0']);
    await patch('scaler', { sku: { capacity: 3 } });
    expect(await instanceIds('scaler')).toEqual(['0', '4', '5']);

    // Deleting an instance lowers the capacity by one.
    const gone = await arm('DELETE', `${ssPath('scaler')}/virtualMachines/4?${V}`, {
      token: admin,
    });
    expect(gone.status).toBe(200);
    const after = await arm('GET', `${ssPath('scaler')}?${V}`, { token: admin });
    expect(after.body?.sku).toEqual({ capacity: 2 });
    expect(await instanceIds('scaler')).toEqual(['0', '5']);
    const again = await arm('DELETE', `${ssPath('scaler')}/virtualMachines/4?${V}`, {
      token: admin,
    });
    expect(again.status).toBe(204);
    await patch('scaler', { sku: { capacity: 3 } });
    expect(await instanceIds('scaler')).toEqual(['0', '5', '6']);

    // Lists page in instance-id order.
    await patch('scaler', { sku: { capacity: 12 } });
    const first = await arm('GET', `${ssPath('scaler')}/virtualMachines?${V}&$top=5`, {
      token: admin,
    });
    const next = first.body?.nextLink as string;
    const second = await arm('GET', next.slice(h.server.url.length), { token: admin });
    const paged = [...(first.body?.value as Listed[]), ...(second.body?.value as Listed[])].map(
      (i) => Number(i.instanceId),
    );
    expect(paged.slice(0, 7)).toEqual([0, 5, 6, 7, 8, 9, 10]);
    expect(paged.length).toBe(10);
  });

  it('places and moves an instance, and tells each host through the change feed', async () => {
    const body = {
      location: 'westeurope',
      sku: { capacity: 2 },
      identity: { type: 'UserAssigned', userAssignedIdentities: { [uai1.id]: {} } },
    };
    await put('placed', body);
    const instancePath = `${ssPath('placed')}/virtualMachines/1`;
    const placed = await arm('PUT', `${instancePath}?${V}`, {
      token: admin,
      body: {
        properties: { tessera: { hostId: 'host-a', privateIpAddresses: ['10.1.0.4'] } },
      },
    });
    expect(placed.status).toBe(200);
    expect(placed.body?.properties).toMatchObject({
      tessera: { hostId: 'host-a', privateIpAddresses: ['10.1.0.4'] },
    });
    const read = await arm('GET', `${instancePath}?${V}`, { token: admin });
    expect(read.body).toEqual(placed.body);
    expect(read.body?.identity).toMatchObject({ type: 'UserAssigned' });
    expect(await changes('host-a')).toEqual([instancePath]);

    await arm('PUT', `${instancePath}?${V}`, {
      token: admin,
      body: { properties: { tessera: { hostId: 'host-b', privateIpAddresses: ['10.2.0.4'] } } },
    });
    expect(await changes('host-a')).toEqual([instancePath, instancePath]);
    expect(await changes('host-b')).toEqual([instancePath]);

    // A scale-set identity change reaches the host of every placed instance.
    const changed = await patch('placed', {
      identity: { type: 'UserAssigned', userAssignedIdentities: { [uai2.id]: {} } },
    });
    expect(changed.status).toBe(200);
    expect(await changes('host-b')).toEqual([instancePath, instancePath]);
    expect(await changes('host-a')).toHaveLength(2);

    const missing = await arm('PUT', `${ssPath('placed')}/virtualMachines/7?${V}`, {
      token: admin,
      body: { properties: {} },
    });
    expect([missing.status, errorCode(missing.body)]).toEqual([404, 'ResourceNotFound']);
    const badHost = await arm('PUT', `${instancePath}?${V}`, {
      token: admin,
      body: { properties: { tessera: { hostId: 'host-c', privateIpAddresses: ['10.0.0.300'] } } },
    });
    expect([badHost.status, errorCode(badHost.body)]).toEqual([400, 'InvalidParameter']);
  });

  it('PATCH removes one user-assigned identity with null; None deletes the system principal', async () => {
    const created = await put('ids', {
      location: 'westeurope',
      sku: { capacity: 1 },
      identity: {
        type: 'SystemAssigned, UserAssigned',
        userAssignedIdentities: { [uai1.id]: {}, [uai2.id]: {} },
      },
    });
    const principalId = (created.body?.identity as { principalId: string }).principalId;
    const assignment = await assignRole(h, principalId, BUILT_IN_ROLE_IDS.reader, groupPath);

    const removed = await patch('ids', {
      identity: {
        type: 'SystemAssigned, UserAssigned',
        userAssignedIdentities: { [uai2.id]: null },
      },
    });
    expect(removed.body?.identity).toEqual({
      type: 'SystemAssigned, UserAssigned',
      principalId,
      tenantId,
      userAssignedIdentities: {
        [uai1.id]: { principalId: uai1.principal.objectId, clientId: uai1.principal.appId },
      },
    });
    const [instance] = await instances('ids');
    expect(instance?.identity).toEqual(removed.body?.identity);

    const none = await patch('ids', { identity: { type: 'None' } });
    expect(none.status).toBe(200);
    expect(none.body?.identity).toBeUndefined();
    expect(await h.store.principals.get(principalId)).toBeUndefined();
    expect(await h.store.roles.getAssignment(assignment)).toBeUndefined();
    expect(await h.store.attachments.listForResource(ssPath('ids'))).toEqual([]);
    expect((await instances('ids'))[0]?.identity).toBeUndefined();
    expect(await h.store.principals.get(uai1.principal.objectId)).toBeDefined();
  });

  it('DELETE removes the principal, instances and attachments but not the user-assigned identities', async () => {
    const path = ssPath('doomed');
    const created = await put('doomed', {
      location: 'westeurope',
      sku: { capacity: 2 },
      identity: {
        type: 'SystemAssigned, UserAssigned',
        userAssignedIdentities: { [uai1.id]: {}, [uai2.id]: {} },
      },
    });
    const principalId = (created.body?.identity as { principalId: string }).principalId;
    const assignment = await assignRole(h, principalId, BUILT_IN_ROLE_IDS.reader, groupPath);
    await arm('PUT', `${path}/virtualMachines/0?${V}`, {
      token: admin,
      body: { properties: { tessera: { hostId: 'host-d', privateIpAddresses: ['10.4.0.4'] } } },
    });
    expect(await changes('host-d')).toEqual([`${path}/virtualMachines/0`]);

    expect((await arm('DELETE', `${path}?${V}`, { token: admin })).status).toBe(200);
    expect(await h.store.principals.get(principalId)).toBeUndefined();
    expect(await h.store.roles.getAssignment(assignment)).toBeUndefined();
    expect(await h.store.attachments.listForResource(path)).toEqual([]);
    expect((await h.store.resources.listUnder(path, { limit: 10 })).items).toEqual([]);
    expect(await h.store.resources.get(uai1.id)).toBeDefined();
    expect(await h.store.principals.get(uai2.principal.objectId)).toBeDefined();
    expect(await changes('host-d')).toEqual([
      `${path}/virtualMachines/0`,
      `${path}/virtualMachines/0`,
    ]);

    const gone = await arm('GET', `${path}?${V}`, { token: admin });
    expect(gone.body?.error).toEqual({
      code: 'ResourceNotFound',
      message: `The Resource '${SS_TYPE}/doomed' under resource group 'fleet' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    });
    expect((await arm('DELETE', `${path}?${V}`, { token: admin })).status).toBe(204);
  });

  it('records the legacy extension: Warning header, audit row, no protected settings anywhere', async () => {
    const extensions = [
      {
        name: 'msi',
        properties: {
          publisher: 'Microsoft.ManagedIdentity',
          type: 'ManagedIdentityExtensionForLinux',
          typeHandlerVersion: '1.0',
          settings: { port: 50343 },
          protectedSettings: { secret: 'hunter2' },
        },
      },
      {
        name: 'script',
        properties: {
          publisher: 'Microsoft.Azure.Extensions',
          type: 'CustomScript',
          settings: { commandToExecute: 'true' },
          protectedSettingsFromKeyVault: { secretUrl: 'https://vault/secret' },
        },
      },
    ];
    const before = (await audits()).length;
    const created = await put('legacy', {
      location: 'westeurope',
      properties: { virtualMachineProfile: { extensionProfile: { extensions } } },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('warning')).toMatch(/^299 tessera ".+"$/);
    const text = JSON.stringify(created.body);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('protectedSettings');
    const stored = await h.store.resources.get(ssPath('legacy'));
    expect(JSON.stringify(stored)).not.toContain('hunter2');
    expect(JSON.stringify(stored)).not.toContain('protectedSettings');
    const profile = (created.body?.properties as { virtualMachineProfile: unknown })
      .virtualMachineProfile;
    expect(profile).toEqual({
      extensionProfile: {
        extensions: [
          {
            name: 'msi',
            properties: {
              publisher: 'Microsoft.ManagedIdentity',
              type: 'ManagedIdentityExtensionForLinux',
              typeHandlerVersion: '1.0',
              settings: { port: 50343 },
            },
          },
          {
            name: 'script',
            properties: {
              publisher: 'Microsoft.Azure.Extensions',
              type: 'CustomScript',
              settings: { commandToExecute: 'true' },
            },
          },
        ],
      },
    });
    const events = (await h.store.audit.list({}, { limit: 1000 })).items;
    expect(events.length).toBe(before + 1);
    expect(events[0]).toMatchObject({
      kind: LEGACY_EXTENSION_AUDIT_KIND,
      outcome: 'recorded',
      resource: ssPath('legacy'),
      details: {
        publisher: 'Microsoft.ManagedIdentity',
        type: 'ManagedIdentityExtensionForLinux',
        port: 50343,
      },
      vmId: null,
      hostId: null,
    });

    // A write without it warns of nothing.
    const tagged = await patch('legacy', { tags: { a: 'b' } });
    expect(tagged.headers.get('warning')).toBeNull();
    expect((await audits()).length).toBe(before + 1);

    const snap = await snapshot();
    const bad = await patch('legacy', {
      properties: {
        virtualMachineProfile: {
          extensionProfile: {
            extensions: [
              {
                name: 'msi',
                properties: { ...extensions[0]?.properties, settings: { port: 70000 } },
              },
            ],
          },
        },
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body?.error).toMatchObject({
      code: 'InvalidParameter',
      target:
        'properties.virtualMachineProfile.extensionProfile.extensions[0].properties.settings.port',
    });
    expect(await snapshot()).toEqual(snap);
  });

  it('honours If-Match: a mismatch is 412 and changes nothing', async () => {
    const created = await put('guarded', { location: 'westeurope', sku: { capacity: 1 } });
    const etag = created.body?.etag as string;
    const before = await snapshot();
    const stale = await patch('guarded', { sku: { capacity: 3 } }, { 'if-match': '"stale"' });
    expect([stale.status, errorCode(stale.body)]).toEqual([412, 'PreconditionFailed']);
    const instanceStale = await arm('PUT', `${ssPath('guarded')}/virtualMachines/0?${V}`, {
      token: admin,
      body: { properties: { tessera: { hostId: 'host-z' } } },
      headers: { 'if-match': '"stale"' },
    });
    expect(instanceStale.status).toBe(412);
    const deleteStale = await arm('DELETE', `${ssPath('guarded')}?${V}`, {
      token: admin,
      headers: { 'if-match': '"stale"' },
    });
    expect(deleteStale.status).toBe(412);
    expect(await snapshot()).toEqual(before);

    const fresh = await patch('guarded', { sku: { capacity: 2 } }, { 'if-match': etag });
    expect(fresh.status).toBe(200);
    expect(await instanceIds('guarded')).toEqual(['0', '1']);
    const created2 = await arm('PUT', `${ssPath('guarded')}?${V}`, {
      token: admin,
      body: { location: 'westeurope' },
      headers: { 'if-none-match': '*' },
    });
    expect(created2.status).toBe(412);
  });

  it('loses no write when instances are placed while the scale set changes', async () => {
    await put('busy', { location: 'westeurope', sku: { capacity: 5 } });
    await h.hosts(...[0, 1, 2, 3, 4].map((n) => `busy-${n}`));
    const results = await Promise.all([
      ...[0, 1, 2, 3, 4].map((n) =>
        arm('PUT', `${ssPath('busy')}/virtualMachines/${n}?${V}`, {
          token: admin,
          body: { properties: { tessera: { hostId: `busy-${n}` } } },
        }),
      ),
      patch('busy', { tags: { wave: '1' } }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const placed = await instances('busy');
    expect(
      placed.map((i) => (i.properties as { tessera?: { hostId: string } }).tessera?.hostId),
    ).toEqual(['busy-0', 'busy-1', 'busy-2', 'busy-3', 'busy-4']);
    const read = await arm('GET', `${ssPath('busy')}?${V}`, { token: admin });
    expect(read.body?.tags).toEqual({ wave: '1' });
    for (const n of [0, 1, 2, 3, 4]) {
      // Placement, and the tag change too when it landed after the placement.
      const seen = await changes(`busy-${n}`);
      expect(new Set(seen)).toEqual(new Set([`${ssPath('busy')}/virtualMachines/${n}`]));
    }
  });

  it('starts over when another writer lands between the read and the write', async () => {
    await put('racy', { location: 'westeurope', sku: { capacity: 2 } });
    const id = ssPath('racy');
    // Before each of the first two transactions, someone else changes the scale set's tags.
    let interruptions = 0;
    const store: Store = {
      ...h.store,
      transaction: async (work) => {
        if (interruptions < 2) {
          interruptions += 1;
          const current = await h.store.resources.get(id);
          if (current === undefined) throw new Error('no scale set');
          await h.store.resources.put({ ...current, tags: { other: String(interruptions) } });
        }
        return h.store.transaction(work);
      },
    };
    const services: ArmServices = {
      store,
      clock: { now: () => Date.now() },
      rbac: { check: () => Promise.resolve({ allowed: true }) },
      newId: () => randomUUID(),
    };
    const call = (method: string, path: string, body: unknown): Promise<ArmResponse> =>
      runPipeline(
        { services, registry: ARM_REGISTRY, ...DIRECT_PIPELINE },
        {
          caller: { objectId: randomUUID(), tenantId } as VerifiedAccessToken,
          method,
          path,
          query: { 'api-version': '2024-07-01' },
          headers: {},
          body: JSON.stringify(body),
          url: `${h.server.url}${path}`,
        },
      );

    const placed = await call('PUT', `${id}/virtualMachines/1`, {
      properties: { tessera: { hostId: 'race-a' } },
    });
    expect([placed.status, interruptions]).toEqual([200, 2]);
    expect((await changes('race-a')).length).toBe(1);

    interruptions = 0;
    const scaled = await call('PATCH', id, { sku: { capacity: 3 } });
    expect([scaled.status, interruptions]).toEqual([200, 2]);
    // Neither write was lost: the other writer's tags and the new capacity are both there.
    const read = await arm('GET', `${id}?${V}`, { token: admin });
    expect([read.body?.tags, read.body?.sku]).toEqual([{ other: '2' }, { capacity: 3 }]);
    expect(await instanceIds('racy')).toEqual(['0', '1', '2']);
    const [, one] = await instances('racy');
    expect(one?.properties).toMatchObject({ tessera: { hostId: 'race-a' } });
  });

  it('refuses bad input with ARM codes and leaves no partial state', async () => {
    await put('steady', { location: 'westeurope', sku: { capacity: 1 } });
    const unknownUai = `/subscriptions/${sub}/resourceGroups/fleet/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nobody`;
    const fresh = `${ssPath('fresh')}?${V}`;
    const steady = `${ssPath('steady')}?${V}`;
    const cases: [string, string, string, unknown, number, string, string?][] = [
      [
        'negative capacity',
        'PUT',
        fresh,
        { location: 'x', sku: { capacity: -1 } },
        400,
        'InvalidParameter',
        'sku.capacity',
      ],
      [
        'huge capacity',
        'PATCH',
        steady,
        { sku: { capacity: 1001 } },
        400,
        'InvalidParameter',
        'sku.capacity',
      ],
      [
        'fractional capacity',
        'PATCH',
        steady,
        { sku: { capacity: 1.5 } },
        400,
        'InvalidParameter',
        'sku.capacity',
      ],
      [
        'string capacity',
        'PUT',
        fresh,
        { location: 'x', sku: { capacity: '3' } },
        400,
        'InvalidParameter',
        'sku.capacity',
      ],
      ['sku not an object', 'PUT', fresh, { location: 'x', sku: 3 }, 400, 'InvalidRequestContent'],
      [
        'unknown identity with capacity',
        'PUT',
        fresh,
        {
          location: 'x',
          sku: { capacity: 2 },
          identity: { type: 'UserAssigned', userAssignedIdentities: { [unknownUai]: {} } },
        },
        400,
        'FailedIdentityOperation',
      ],
      ['identity type', 'PATCH', steady, { identity: { type: 'Both' } }, 400, 'InvalidParameter'],
      [
        'tessera on a scale set',
        'PUT',
        fresh,
        { location: 'x', properties: { tessera: {} } },
        400,
        'InvalidParameter',
        'properties.tessera',
      ],
      ['bad JSON', 'PUT', fresh, '{"location": ', 400, 'InvalidRequestContent'],
      [
        'no api-version',
        'PUT',
        ssPath('fresh'),
        { location: 'x' },
        400,
        'MissingApiVersionParameter',
      ],
      ['no location', 'PUT', fresh, { sku: { capacity: 1 } }, 400, 'LocationRequired'],
      ['other location', 'PUT', steady, { location: 'eastus' }, 409, 'InvalidResourceLocation'],
      ['bad name', 'PUT', `${ssPath('_bad')}?${V}`, { location: 'x' }, 400, 'InvalidResourceName'],
      [
        'no group',
        'PUT',
        `${ssPath('fresh', 'nogroup')}?${V}`,
        { location: 'x' },
        404,
        'ResourceGroupNotFound',
      ],
      ['patch of nothing', 'PATCH', fresh, { tags: {} }, 404, 'ResourceNotFound'],
      [
        'unknown instance',
        'GET',
        `${ssPath('steady')}/virtualMachines/9?${V}`,
        undefined,
        404,
        'ResourceNotFound',
      ],
      [
        'odd instance id',
        'GET',
        `${ssPath('steady')}/virtualMachines/x1?${V}`,
        undefined,
        404,
        'ResourceNotFound',
      ],
      [
        'put unknown instance',
        'PUT',
        `${ssPath('steady')}/virtualMachines/9?${V}`,
        { properties: {} },
        404,
        'ResourceNotFound',
      ],
      [
        'instances of nothing',
        'GET',
        `${ssPath('fresh')}/virtualMachines?${V}`,
        undefined,
        404,
        'ResourceNotFound',
      ],
      [
        'instance bad JSON',
        'PUT',
        `${ssPath('steady')}/virtualMachines/0?${V}`,
        '{',
        400,
        'InvalidRequestContent',
      ],
      [
        'instance no api-version',
        'GET',
        `${ssPath('steady')}/virtualMachines/0`,
        undefined,
        400,
        'MissingApiVersionParameter',
      ],
      [
        'bad skipToken',
        'GET',
        `${ssPath('steady')}/virtualMachines?${V}&$skipToken=eA`,
        undefined,
        400,
        'InvalidParameter',
      ],
      ['POST', 'POST', steady, {}, 405, 'MethodNotAllowed'],
    ];
    const before = await snapshot();
    for (const [name, method, path, body, status, code, target] of cases) {
      const result = await arm(method, path, {
        token: admin,
        ...(body === undefined ? {} : { body }),
      });
      expect([name, result.status, errorCode(result.body)]).toEqual([name, status, code]);
      if (target !== undefined) {
        expect([name, (result.body?.error as { target?: string }).target]).toEqual([name, target]);
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it('needs assign permission on each user-assigned identity, worded for scale sets', async () => {
    const { principal: caller, token } = await h.newClient('fleet-operator');
    await assignRole(h, caller.objectId, BUILT_IN_ROLE_IDS.virtualMachineContributor, groupPath);
    const path = ssPath('operated');
    const body = {
      location: 'westeurope',
      sku: { capacity: 1 },
      identity: { type: 'UserAssigned', userAssignedIdentities: { [uai1.id]: {} } },
    };
    const before = await snapshot();
    const denied = await arm('PUT', `${path}?${V}`, { token, body });
    expect(denied.status).toBe(403);
    expect(denied.body?.error).toEqual({
      code: 'LinkedAuthorizationFailed',
      message: `The client '${caller.appId}' with object id '${caller.objectId}' has permission to perform action '${SS_TYPE}/write' on scope '${path}'; however, it does not have permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '${uai1.id}' or the linked scope(s) are invalid.`,
    });
    expect(await snapshot()).toEqual(before);

    await assignRole(h, caller.objectId, BUILT_IN_ROLE_IDS.managedIdentityOperator, uai1.id);
    expect((await arm('PUT', `${path}?${V}`, { token, body })).status).toBe(201);

    const { token: stranger } = await h.newClient('stranger');
    const refused = await arm('GET', `${path}/virtualMachines/0?${V}`, { token: stranger });
    expect([refused.status, errorCode(refused.body)]).toEqual([403, 'AuthorizationFailed']);
  });

  it('lists by group and by subscription', async () => {
    const byGroup = await arm('GET', `${groupPath}/providers/${SS_TYPE}?${V}`, { token: admin });
    const names = (byGroup.body?.value as { name: string }[]).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['web', 'scaler', 'placed', 'legacy']));
    expect(names).not.toContain('doomed');
    const bySub = await arm('GET', `/subscriptions/${sub}/providers/${SS_TYPE}?${V}`, {
      token: admin,
    });
    expect((bySub.body?.value as unknown[]).length).toBe(names.length);
    const web = (bySub.body?.value as { name: string; sku: unknown }[]).find(
      (s) => s.name === 'web',
    );
    expect(web?.sku).toEqual({ name: 'Standard_B1s', tier: 'Standard', capacity: 3 });
  });
});
