// The portal's pure logic: RBAC matching, time buckets, PATCH bodies, sessions, host labels, GUIDs, ARM operations.
import { describe, expect, it } from 'vitest';
import { decodeClaims, SESSION_MAX_MS, sessionOf } from '../../portal/src/api/claims.js';
import type { EventData } from '../../portal/src/api/activity-log.js';
import { errorOf } from '../../portal/src/api/http.js';
import { attachPatch, carries, detachPatch } from '../../portal/src/api/identity-patch.js';
import { actionMatches, isAllowed } from '../../portal/src/api/permissions.js';
import { bucketize, mergeEvents } from '../../portal/src/lib/buckets.js';
import { operationRows, resourceOf } from '../../portal/src/lib/control-plane.js';
import { guidHalves } from '../../portal/src/lib/format.js';
import { hostLabel, hostLabels, type Inventory } from '../../portal/src/lib/inventory.js';

const UAI_WRITE = 'Microsoft.ManagedIdentity/userAssignedIdentities/write';

describe('permission matching', () => {
  it('matches wildcards anywhere and ignores case', () => {
    expect(actionMatches('*', UAI_WRITE)).toBe(true);
    expect(actionMatches('*/read', 'Microsoft.Compute/virtualMachines/read')).toBe(true);
    expect(actionMatches('*/read', UAI_WRITE)).toBe(false);
    expect(actionMatches('microsoft.managedidentity/*', UAI_WRITE)).toBe(true);
    expect(
      actionMatches(
        'Microsoft.Authorization/*/Write',
        'Microsoft.Authorization/roleAssignments/write',
      ),
    ).toBe(true);
    expect(
      actionMatches('Microsoft.ManagedIdentity/userAssignedIdentities/*/read', UAI_WRITE),
    ).toBe(false);
  });

  it('treats a pattern as literal text apart from its stars', () => {
    expect(
      actionMatches(
        'Microsoft.Compute/virtualMachines/read',
        'MicrosoftXCompute/virtualMachines/read',
      ),
    ).toBe(false);
  });

  it('allows when one block has the action and that block does not exclude it', () => {
    const contributor = { actions: ['*'], notActions: ['Microsoft.Authorization/*/Write'] };
    const reader = { actions: ['*/read'], notActions: [] };
    expect(isAllowed([contributor], UAI_WRITE)).toBe(true);
    expect(isAllowed([contributor], 'Microsoft.Authorization/roleAssignments/write')).toBe(false);
    expect(isAllowed([reader], UAI_WRITE)).toBe(false);
    // Another block's notActions do not take away what a block grants.
    const rbacAdmin = {
      actions: ['Microsoft.Authorization/roleAssignments/write'],
      notActions: [],
    };
    expect(
      isAllowed([contributor, rbacAdmin], 'Microsoft.Authorization/roleAssignments/write'),
    ).toBe(true);
    expect(isAllowed([], 'anything')).toBe(false);
  });
});

describe('time bucketing', () => {
  const at = (iso: string): number => Date.parse(iso);

  it('counts issued and refused per aligned bucket up to now, and drops the rest', () => {
    const now = at('2026-11-24T10:00:25Z');
    const buckets = bucketize(
      [
        { at: at('2026-11-24T10:00:21Z'), outcome: 'issued' },
        { at: at('2026-11-24T10:00:20Z'), outcome: 'issued' },
        { at: at('2026-11-24T10:00:19Z'), outcome: 'refused' },
        { at: at('2026-11-24T09:59:30Z'), outcome: 'issued' },
        { at: at('2026-11-24T09:58:00Z'), outcome: 'issued' },
        { at: at('2026-11-24T10:00:22Z'), outcome: 'recorded' },
      ],
      now,
      60_000,
      10_000,
    );
    expect(buckets.starts.map((s) => new Date(s * 1000).toISOString().slice(11, 19))).toEqual([
      '09:59:30',
      '09:59:40',
      '09:59:50',
      '10:00:00',
      '10:00:10',
      '10:00:20',
    ]);
    expect(buckets.issued).toEqual([1, 0, 0, 0, 0, 2]);
    expect(buckets.refused).toEqual([0, 0, 0, 0, 1, 0]);
  });

  it('merges polled events newest first without duplicates, up to a limit', () => {
    const e = (id: string, time: string): { id: string; time: string } => ({ id, time });
    const known = [e('b', '2026-01-01T00:00:02Z'), e('a', '2026-01-01T00:00:01Z')];
    const merged = mergeEvents(
      known,
      [e('c', '2026-01-01T00:00:03Z'), e('b', '2026-01-01T00:00:02Z')],
      2,
    );
    expect(merged.map((x) => x.id)).toEqual(['c', 'b']);
    expect(mergeEvents(known, [known[0]!], 10)).toBe(known);
  });
});

describe('identity PATCH bodies (as `tessera vm identity assign|remove` sends them)', () => {
  const id =
    '/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app';
  const other = id.replace('/app', '/other');

  it('attaches, keeping a system-assigned identity', () => {
    expect(attachPatch({ type: 'SystemAssigned' }, id)).toEqual({
      identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [id]: {} } },
    });
    expect(attachPatch(undefined, id)).toEqual({
      identity: { type: 'UserAssigned', userAssignedIdentities: { [id]: {} } },
    });
  });

  it('detaches one of several with null, the last by type alone, and nothing it does not carry', () => {
    const both = {
      type: 'SystemAssigned, UserAssigned',
      userAssignedIdentities: { [id]: {}, [other]: {} },
    };
    expect(detachPatch(both, id.toUpperCase())).toEqual({
      identity: {
        type: 'SystemAssigned, UserAssigned',
        userAssignedIdentities: { [id.toUpperCase()]: null },
      },
    });
    expect(detachPatch({ type: 'UserAssigned', userAssignedIdentities: { [id]: {} } }, id)).toEqual(
      {
        identity: { type: 'None' },
      },
    );
    expect(detachPatch({ type: 'SystemAssigned' }, id)).toBeUndefined();
    expect(carries(both, id.toLowerCase())).toBe(true);
  });
});

describe('sign-in helpers', () => {
  it('reads appid, oid and exp from a token without verifying it', () => {
    const payload = Buffer.from(
      JSON.stringify({ appid: 'app', oid: 'obj', exp: 2_000_000_000 }),
    ).toString('base64url');
    const token = `e30.${payload}.sig`;
    expect(decodeClaims(token)).toMatchObject({ appid: 'app', oid: 'obj' });
    // The token lives to 2033; the portal's session ends an hour after sign-in.
    const signedIn = 1_999_000_000_000;
    expect(sessionOf(token, 3600, signedIn)).toEqual({
      token,
      expiresAt: signedIn + SESSION_MAX_MS,
      appId: 'app',
      objectId: 'obj',
    });
    expect(SESSION_MAX_MS).toBe(3_600_000);
    // A token that expires within the hour ends the session with it.
    expect(sessionOf(token, 3600, 2_000_000_000_000 - 600_000).expiresAt).toBe(2_000_000_000_000);
    // No `exp`: `expires_in` seconds, still at most the hour.
    const bare = `e30.${Buffer.from('{}').toString('base64url')}.sig`;
    expect(sessionOf(bare, 300, 1000).expiresAt).toBe(301_000);
    expect(sessionOf(bare, 86_700, 1000).expiresAt).toBe(1000 + SESSION_MAX_MS);
    expect(decodeClaims('not a token')).toEqual({});
  });

  it('reads ARM and OAuth error bodies', () => {
    expect(errorOf(403, { error: { code: 'AuthorizationFailed', message: 'no' } })).toMatchObject({
      status: 403,
      code: 'AuthorizationFailed',
      message: 'no',
    });
    expect(
      errorOf(401, { error: 'invalid_client', error_description: 'bad secret' }),
    ).toMatchObject({
      code: 'invalid_client',
      message: 'bad secret',
    });
    expect(errorOf(502, 'html')).toMatchObject({ code: 'Http502' });
  });
});

describe('host labels', () => {
  const LOCAL = '3f1c2a4e-8d0b-4c55-9e4f-1a2b3c4d5e6f';
  const inventory = (hosts: Inventory['hosts'], hostsError?: unknown): Inventory => ({
    groups: [],
    identities: [],
    machines: [],
    roles: [],
    assignments: [],
    hosts,
    ...(hostsError === undefined ? {} : { hostsError }),
  });
  const host = (id: string, name: string): Inventory['hosts'][number] => ({
    id,
    name,
    createdAt: null,
    registeredAt: null,
    lastSeenAt: null,
    certificateNotAfter: null,
    vmCount: 1,
  });

  it('names a known host and flags an id no host has, even one that is a host name', () => {
    const inv = inventory([host(LOCAL, 'local')]);
    expect(hostLabel(inv, LOCAL)).toBe('local');
    // An id no host has that happens to be a host's name: not the host called local.
    expect(hostLabel(inv, 'local')).toBe('local (no such host)');
    const labels = hostLabels(inv, [LOCAL, 'local']);
    expect(new Set(labels.values()).size).toBe(2);
  });

  it('shows ids as they are when the hosts could not be read', () => {
    const inv = inventory([], new Error('AuthorizationFailed'));
    expect(hostLabel(inv, LOCAL)).toBe(LOCAL);
  });

  it('adds the id to a label two hosts would share', () => {
    const inv = inventory([host('a', 'twin'), host('b', 'twin')]);
    expect([...hostLabels(inv, ['a', 'b']).values()]).toEqual(['twin (id a)', 'twin (id b)']);
  });
});

describe('GUID halves', () => {
  it('splits after the middle hyphen, so a GUID takes at most two lines', () => {
    expect(guidHalves('5ae5e0f1-bb45-47ce-a8d4-b681c6dac602')).toEqual([
      '5ae5e0f1-bb45-47ce-',
      'a8d4-b681c6dac602',
    ]);
    // The hyphen nearest the middle; never one at either end.
    expect(guidHalves('no-hyphen-at-the-ends-')).toEqual(['no-hyphen-at-', 'the-ends-']);
    expect(guidHalves('-')).toEqual(['-', '']);
    expect(guidHalves('opaque')).toEqual(['opaque', '']);
  });
});

describe('control-plane rows from Activity Log events', () => {
  const SUB = '/subscriptions/9b1f6a2e-0c3d-4e5f-8a7b-6c5d4e3f2a1b';
  const UAI = `${SUB}/resourceGroups/demo-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/forced`;
  const CALLER = '0f2e4d6c-8b0a-4c1e-9f3d-5b7a9c1e3f5d';
  const CORRELATION = '6a4c2e0f-1b3d-4f5a-8c7e-9d1b3f5a7c9e';
  /** A denied PUT's two events, as ActivityLogs_List sends them (newest first). */
  const denied = (eventName: string, at: string): EventData => ({
    eventDataId: `${eventName}-id`,
    eventTimestamp: at,
    eventName: { value: eventName, localizedValue: eventName },
    caller: CALLER,
    operationName: {
      value: 'Microsoft.ManagedIdentity/userAssignedIdentities/write',
      localizedValue: 'Microsoft.ManagedIdentity/userAssignedIdentities/write',
    },
    resourceId: UAI,
    resourceGroupName: 'demo-rg',
    resourceType: { value: 'Microsoft.ManagedIdentity/userAssignedIdentities' },
    status:
      eventName === 'EndRequest'
        ? { value: 'Failed', localizedValue: 'Failed' }
        : { value: 'Started', localizedValue: 'Started' },
    subStatus:
      eventName === 'EndRequest'
        ? { value: 'Forbidden', localizedValue: 'Forbidden (HTTP Status Code: 403)' }
        : { value: '', localizedValue: '' },
    correlationId: CORRELATION,
    httpRequest: { method: 'PUT' },
    properties: eventName === 'EndRequest' ? { statusCode: 'Forbidden' } : {},
  });

  it('makes one row per operation from its End event, with the status and its HTTP reason', () => {
    const rows = operationRows([
      denied('EndRequest', '2026-11-24T10:00:01.2340000Z'),
      denied('BeginRequest', '2026-11-24T10:00:01.2300000Z'),
    ]);
    expect(rows).toEqual([
      {
        id: 'EndRequest-id',
        time: '2026-11-24T10:00:01.234Z',
        caller: CALLER,
        operation: 'Microsoft.ManagedIdentity/userAssignedIdentities/write',
        method: 'PUT',
        resourceId: UAI,
        resourceName: 'forced',
        resourceType: 'Microsoft.ManagedIdentity/userAssignedIdentities',
        status: 'Failed',
        failed: true,
        reason: 'Forbidden (HTTP Status Code: 403)',
        correlationId: CORRELATION,
      },
    ]);
  });

  it('falls back to the status code when an event has no reason text, and omits what is absent', () => {
    const [row] = operationRows([
      {
        eventDataId: 'e',
        eventTimestamp: '2026-11-24T10:00:00Z',
        eventName: { value: 'EndRequest' },
        status: { value: 'Succeeded' },
        properties: { statusCode: 'Created' },
      },
    ]);
    expect(row).toMatchObject({ reason: 'Created', failed: false, caller: '', resourceName: '' });
  });

  it('names a resource by its id: children with their parents, groups and subscriptions by name', () => {
    expect(
      resourceOf(
        `${SUB}/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm/extensions/ext`,
      ),
    ).toEqual({
      name: 'vm/ext',
      type: 'Microsoft.Compute/virtualMachines/extensions',
    });
    // An assignment at a VM: the last provider is the resource's.
    const assignment = `${SUB}/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.Authorization/roleAssignments/${CORRELATION}`;
    expect(resourceOf(assignment)).toEqual({
      name: CORRELATION,
      type: 'Microsoft.Authorization/roleAssignments',
    });
    expect(resourceOf(`${SUB}/resourcegroups/demo-rg`)).toEqual({
      name: 'demo-rg',
      type: 'Microsoft.Resources/resourceGroups',
    });
    expect(resourceOf(SUB).type).toBe('Microsoft.Resources/subscriptions');
    // The event's own type wins over the one read from the id.
    expect(resourceOf(UAI, 'Microsoft.ManagedIdentity/userAssignedIdentities').name).toBe('forced');
  });
});
