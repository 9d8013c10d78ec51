// VM writes and agents: the change feed, If-Match, no lost update under concurrent PATCHes, the host binding kept.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { type ArmHarness, errorCode, startArm } from './arm-harness.js';
import { createStoredUai, type StoredUai } from './arm-store-fixtures.js';

const V = 'api-version=2024-07-01';

describe('ARM surface: VM changes reach agents, concurrent writes lose nothing', () => {
  let h: ArmHarness;
  let admin: string;
  let uai: StoredUai;
  let vmPath: (name: string) => string;
  const arm: ArmHarness['arm'] = (method, path, options) => h.arm(method, path, options);
  const feed = async (host: string): Promise<string[]> =>
    (await h.store.changes.since(host, 0, 1000)).map((c) => c.resourceId.split('/').at(-1) ?? '');

  beforeAll(async () => {
    h = await startArm();
    admin = h.admin;
    const groupPath = `/subscriptions/${h.sub}/resourceGroups/changes`;
    vmPath = (name) => `${groupPath}/providers/Microsoft.Compute/virtualMachines/${name}`;
    expect(
      (
        await arm('PUT', `${groupPath}?api-version=2021-04-01`, {
          token: admin,
          body: { location: 'westeurope' },
        })
      ).status,
    ).toBe(201);
    uai = await createStoredUai(h, 'changes', 'feed-uai');
    await h.hosts('host-1', 'host-2', 'host-9');
  });
  afterAll(async () => {
    await h.close();
  });

  const place = (host: string, ip: string) => ({
    tessera: { hostId: host, privateIpAddresses: [ip] },
  });

  it('records placement, moves (for both hosts), identity and role changes, and deletion', async () => {
    const path = vmPath('fed');
    const created = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: { location: 'westeurope', properties: place('host-1', '10.0.0.4') },
    });
    expect(created.status).toBe(201);
    expect(await feed('host-1')).toEqual(['fed']);

    // A move is seen by the host it left and the host it reached.
    await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: { properties: place('host-2', '10.0.0.5') },
    });
    expect(await feed('host-1')).toEqual(['fed', 'fed']);
    expect(await feed('host-2')).toEqual(['fed']);

    // Attaching an identity, then granting that identity a role, tell the VM's host.
    await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: { identity: { type: 'UserAssigned', userAssignedIdentities: { [uai.id]: {} } } },
    });
    expect(await feed('host-2')).toHaveLength(2);
    const assignment = `/subscriptions/${h.sub}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`;
    const granted = await arm('PUT', assignment, {
      token: admin,
      body: {
        properties: {
          roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLE_IDS.reader}`,
          principalId: uai.principal.objectId,
          principalType: 'ServicePrincipal',
        },
      },
    });
    expect(granted.status).toBe(201);
    expect(await feed('host-2')).toHaveLength(3);
    expect((await arm('DELETE', assignment, { token: admin })).status).toBe(200);
    expect(await feed('host-2')).toHaveLength(4);

    // Deleting the user-assigned identity detaches it: the host hears of it.
    const deleted = await arm('DELETE', `${uai.id}?api-version=2023-01-31`, { token: admin });
    expect(deleted.status).toBe(200);
    expect(await feed('host-2')).toHaveLength(5);

    expect((await arm('DELETE', `${path}?${V}`, { token: admin })).status).toBe(200);
    expect(await feed('host-2')).toHaveLength(6);
    expect(await feed('host-1')).toHaveLength(2);
  });

  it('shows an etag, honours If-Match and If-None-Match, and changes nothing on 412', async () => {
    const path = vmPath('tagged');
    const created = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: { location: 'westeurope', tags: { v: '1' } },
      headers: { 'if-none-match': '*' },
    });
    expect(created.status).toBe(201);
    const etag = created.body?.etag as string;
    expect(etag).toMatch(/^".+"$/);

    const again = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: { location: 'westeurope' },
      headers: { 'if-none-match': '*' },
    });
    expect(again.status).toBe(412);
    expect(errorCode(again.body)).toBe('PreconditionFailed');

    const updated = await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: { tags: { v: '2' } },
      headers: { 'if-match': etag },
    });
    expect(updated.status).toBe(200);
    expect(updated.body?.etag).not.toBe(etag);

    const stale = await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: { tags: { v: 'stale' } },
      headers: { 'if-match': etag },
    });
    expect(stale.status).toBe(412);
    const staleDelete = await arm('DELETE', `${path}?${V}`, {
      token: admin,
      headers: { 'if-match': etag },
    });
    expect(staleDelete.status).toBe(412);
    const got = await arm('GET', `${path}?${V}`, { token: admin });
    expect(got.body?.tags).toEqual({ v: '2' });
    expect(got.body?.etag).toBe(updated.body?.etag);
  });

  it('loses no update when PATCHes race', async () => {
    const path = vmPath('raced');
    await arm('PUT', `${path}?${V}`, { token: admin, body: { location: 'westeurope' } });
    const names = Array.from({ length: 12 }, (_, i) => `k${String(i)}`);
    const results = await Promise.all(
      names.map((name) =>
        arm('PATCH', `${path}?${V}`, { token: admin, body: { properties: { [name]: true } } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(names.map(() => 200));
    const got = await arm('GET', `${path}?${V}`, { token: admin });
    const properties = got.body?.properties as Record<string, unknown>;
    for (const name of names) expect(properties[name]).toBe(true);
  });

  it('keeps the host binding on a PUT that does not mention it, and drops it on PATCH null', async () => {
    const path = vmPath('bound');
    await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: { location: 'westeurope', properties: place('host-9', '10.0.9.4') },
    });
    // What an SDK's createOrUpdate sends: no `tessera`, as the SDK does not know it.
    const replaced = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: { location: 'westeurope', properties: { hardwareProfile: { vmSize: 'Standard_B1s' } } },
    });
    expect(replaced.status).toBe(200);
    expect((replaced.body?.properties as Record<string, unknown>).tessera).toEqual(
      place('host-9', '10.0.9.4').tessera,
    );
    const unbound = await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: { properties: { tessera: null } },
    });
    expect((unbound.body?.properties as Record<string, unknown>).tessera).toBeUndefined();
  });
});
