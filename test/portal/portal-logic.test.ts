// The portal's pure logic: RBAC action matching, time bucketing, identity PATCH bodies, token claims.
import { describe, expect, it } from 'vitest';
import { decodeClaims, sessionOf } from '../../portal/src/api/claims.js';
import { errorOf } from '../../portal/src/api/http.js';
import { attachPatch, carries, detachPatch } from '../../portal/src/api/identity-patch.js';
import { actionMatches, isAllowed } from '../../portal/src/api/permissions.js';
import { bucketize, mergeEvents } from '../../portal/src/lib/buckets.js';

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
    expect(sessionOf(token, 3600, 0)).toEqual({
      token,
      expiresAt: 2_000_000_000_000,
      appId: 'app',
      objectId: 'obj',
    });
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
