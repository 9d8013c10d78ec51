// Tests of the VM identity property: every accepted form, Compute's errors, merging and rendering.
import { describe, expect, it } from 'vitest';

import { AppError } from '../../core/errors.js';
import { renderArmError } from '../errors/arm.js';
import {
  identityFormat,
  identityTypeOf,
  isUserAssignedIdentityId,
  MAX_USER_ASSIGNED_IDENTITIES,
  MAX_USER_ASSIGNED_PER_REQUEST,
  mergeIdentity,
  NO_IDENTITY,
  parseIdentity,
  renderIdentity,
  failedIdentityOperation,
  userAssignedIdentityNotFound,
  type IdentityRequest,
  type IdentityState,
} from './identity.js';

/** Runs `fn` and returns the rendered ARM error it throws. */
function armFailure(fn: () => unknown): {
  status: number;
  code: string;
  message: string;
  target?: string;
} {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const rendered = renderArmError(error);
    const body = JSON.parse(rendered.body) as {
      error: { code: string; message: string; target?: string };
    };
    return { status: rendered.status, ...body.error };
  }
  throw new Error('expected a failure');
}

const RG = '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg';
const uai = (name: string) =>
  `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
const ID1 = uai('ID1');
const ID2 = uai('id2');
const PUT = { isPatch: false } as const;
const PATCH = { isPatch: true } as const;

describe('parseIdentity: type', () => {
  it.each([
    ['SystemAssigned', 'SystemAssigned'],
    ['systemassigned', 'SystemAssigned'],
    ['None', 'None'],
    ['NONE', 'None'],
    ['SystemAssigned, UserAssigned', 'SystemAssigned, UserAssigned'],
    ['SystemAssigned,UserAssigned', 'SystemAssigned, UserAssigned'],
    ['userassigned , SYSTEMASSIGNED', 'SystemAssigned, UserAssigned'],
    ['UserAssigned', 'UserAssigned'],
  ])('reads %j as %s', (type, expected) => {
    const withIds = expected.includes('UserAssigned')
      ? { userAssignedIdentities: { [ID1]: {} } }
      : {};
    expect(parseIdentity({ type, ...withIds }, PUT)?.type).toBe(expected);
  });

  it.each(['Foo', '', 'SystemAssigned, None', 'SystemAssigned,SystemAssigned', 1, {}])(
    'refuses %j with InvalidParameter on identity.type',
    (type) => {
      expect(armFailure(() => parseIdentity({ type }, PUT))).toMatchObject({
        status: 400,
        code: 'InvalidParameter',
        target: 'identity.type',
      });
    },
  );

  it('requires a type on PUT but not on PATCH', () => {
    expect(armFailure(() => parseIdentity({}, PUT))).toEqual({
      status: 400,
      code: 'InvalidRequestContent',
      message:
        "The request content was invalid and could not be deserialized: 'Required property 'type' not found in JSON. Path 'identity'.'.",
    });
    expect(armFailure(() => parseIdentity({ type: null }, PUT)).message).toContain(
      "Required property 'type' expects a value but got null. Path 'identity'.",
    );
    expect(parseIdentity({ userAssignedIdentities: { [ID1]: null } }, PATCH)).toEqual({
      type: undefined,
      system: undefined,
      userAssigned: { set: [], remove: [ID1] },
      replaceAll: false,
    });
  });

  it('treats an absent or null identity as no change, and reads members in any case', () => {
    expect(parseIdentity(undefined, PUT)).toBeUndefined();
    expect(parseIdentity(null, PATCH)).toBeUndefined();
    expect(parseIdentity({ Type: 'SystemAssigned' }, PUT)?.system).toBe(true);
    expect(armFailure(() => parseIdentity('SystemAssigned', PUT)).code).toBe(
      'InvalidRequestContent',
    );
  });
});

describe('parseIdentity: userAssignedIdentities', () => {
  it('reads {} and ignores read-only members a GET returned', () => {
    const request = parseIdentity(
      {
        type: 'UserAssigned',
        userAssignedIdentities: { [ID1]: {}, [ID2]: { principalId: 'p', clientId: 'c' } },
      },
      PUT,
    );
    expect(request).toEqual({
      type: 'UserAssigned',
      system: false,
      userAssigned: { set: [ID1, ID2], remove: [] },
      replaceAll: true,
    });
  });

  it('reads null as removal on PATCH (PROTOCOL.md 4.3 example)', () => {
    const request = parseIdentity(
      { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [ID2]: null } },
      PATCH,
    );
    expect(request).toEqual({
      type: 'SystemAssigned, UserAssigned',
      system: true,
      userAssigned: { set: [], remove: [ID2] },
      replaceAll: false,
    });
  });

  it('folds ids that differ only in case, keeping the first spelling', () => {
    const request = parseIdentity(
      { type: 'UserAssigned', userAssignedIdentities: { [ID1]: {}, [ID1.toLowerCase()]: {} } },
      PUT,
    );
    expect(request?.userAssigned.set).toEqual([ID1]);
  });

  it('refuses one id both kept and removed', () => {
    expect(
      armFailure(() =>
        parseIdentity(
          {
            type: 'UserAssigned',
            userAssignedIdentities: { [ID1]: {}, [ID1.toUpperCase()]: null },
          },
          PATCH,
        ),
      ),
    ).toMatchObject({
      status: 400,
      code: 'InvalidParameter',
      target: 'identity.userAssignedIdentities',
    });
  });

  it.each([
    '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Micrososft.ManagedIdentity/userAssignedIdentities/x',
    `${RG}/providers/Microsoft.Compute/virtualMachines/vm`,
    '/subscriptions/00000000-1111-2222-3333-444444444444/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x',
    '/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x',
  ])('refuses %s with InvalidIdentityId', (id) => {
    expect(
      armFailure(() =>
        parseIdentity({ type: 'UserAssigned', userAssignedIdentities: { [id]: {} } }, PUT),
      ),
    ).toEqual({
      status: 400,
      code: 'InvalidIdentityId',
      message: `The identity ids '${id}' are invalid. It must be of the following format: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}'.`,
    });
  });

  it.each(['id1', '', `${RG}/`, 'subscriptions/x'])(
    'refuses the key %j, which is no resource id, as ARM does',
    (id) => {
      expect(
        armFailure(() =>
          parseIdentity({ type: 'UserAssigned', userAssignedIdentities: { [id]: {} } }, PUT),
        ),
      ).toEqual({
        status: 400,
        code: 'LinkedInvalidPropertyId',
        message: `Property id '${id}' at path '' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.`,
      });
    },
  );

  it.each(['x', 1, true, [], { principalId: 'p', other: 1 }])(
    'refuses the value %j for an identity with InvalidIdentityValues',
    (value) => {
      expect(
        armFailure(() =>
          parseIdentity(
            { type: 'UserAssigned', userAssignedIdentities: { [ID1]: value, [ID2]: 'y' } },
            PATCH,
          ),
        ),
      ).toEqual({
        status: 400,
        code: 'InvalidIdentityValues',
        message: `Invalid value for the identities '${ID1}, ${ID2}'. The 'UserAssignedIdentities' property keys should only be empty json objects, null or the resource existing property.`,
      });
    },
  );

  it('reads read-only members in any case', () => {
    expect(
      parseIdentity(
        { type: 'UserAssigned', userAssignedIdentities: { [ID1]: { PrincipalId: null } } },
        PUT,
      )?.userAssigned.set,
    ).toEqual([ID1]);
  });

  it.each(['SystemAssigned', 'None'])('refuses user-assigned identities with type %s', (type) => {
    expect(
      armFailure(() => parseIdentity({ type, userAssignedIdentities: { [ID1]: {} } }, PATCH)),
    ).toEqual({
      status: 400,
      code: 'InvalidParameter',
      message: `ResourceIdentity userAssignedIdentities should not be provided if the type is "${type}".`,
      target: 'resourceIdentity.userAssignedIdentities',
    });
  });

  it('lets SystemAssigned and None carry removals and empty dictionaries', () => {
    expect(
      parseIdentity({ type: 'SystemAssigned', userAssignedIdentities: { [ID1]: null } }, PATCH),
    ).toMatchObject({
      system: true,
      replaceAll: true,
    });
    expect(parseIdentity({ type: 'None', userAssignedIdentities: {} }, PUT)?.system).toBe(false);
  });

  it("refuses a user-assigned type without identities on PUT, in Compute's words", () => {
    expect(armFailure(() => parseIdentity({ type: 'UserAssigned' }, PUT))).toEqual({
      status: 400,
      code: 'InvalidParameter',
      message: "The identity ids must not be null or empty for 'UserAssigned' identity type.",
    });
    expect(parseIdentity({ type: 'UserAssigned' }, PATCH)?.replaceAll).toBe(false);
  });
});

describe('parseIdentity: 2017-12-01 identityIds', () => {
  const legacy = { isPatch: false, format: identityFormat('2017-12-01') } as const;

  it('reads the array as the whole new set', () => {
    expect(identityFormat('2017-12-01')).toBe('identityIds');
    expect(identityFormat('2024-07-01')).toBe('userAssignedIdentities');
    expect(
      parseIdentity(
        { type: 'SystemAssigned,UserAssigned', identityIds: [ID1, ID1.toLowerCase(), ID2] },
        legacy,
      ),
    ).toEqual({
      type: 'SystemAssigned, UserAssigned',
      system: true,
      userAssigned: { set: [ID1, ID2], remove: [] },
      replaceAll: true,
    });
    expect(
      parseIdentity(
        { type: 'UserAssigned', identityIds: [ID1] },
        { isPatch: true, format: 'identityIds' },
      )?.replaceAll,
    ).toBe(true);
  });

  it("answers identityIds with SystemAssigned in Compute's words", () => {
    expect(
      armFailure(() => parseIdentity({ type: 'SystemAssigned', identityIds: [ID1] }, legacy)),
    ).toEqual({
      status: 400,
      code: 'InvalidParameter',
      message:
        'ResourceIdentity identityIds should not be provided if the type is "SystemAssigned".',
      target: 'resourceIdentity.identityIds',
    });
  });

  it('refuses a malformed array or id', () => {
    expect(
      armFailure(() => parseIdentity({ type: 'UserAssigned', identityIds: ID1 }, legacy)).code,
    ).toBe('InvalidRequestContent');
    expect(
      armFailure(() => parseIdentity({ type: 'UserAssigned', identityIds: ['x'] }, legacy)).code,
    ).toBe('InvalidIdentityId');
  });
});

describe('mergeIdentity', () => {
  const both: IdentityState = { system: true, userAssigned: [ID1, ID2] };
  const merge = (current: IdentityState, body: unknown, isPatch: boolean): IdentityState => {
    const request = parseIdentity(body, { isPatch }) as IdentityRequest;
    return mergeIdentity(current, request, isPatch);
  };

  it('removes one identity on PATCH null and keeps the rest', () => {
    expect(
      merge(
        both,
        { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [ID2]: null } },
        true,
      ),
    ).toEqual({
      system: true,
      userAssigned: [ID1],
    });
  });

  it('adds on PATCH and replaces on PUT', () => {
    const id3 = uai('id3');
    expect(
      merge(
        both,
        { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [id3]: {} } },
        true,
      ).userAssigned,
    ).toEqual([ID1, ID2, id3]);
    expect(
      merge(both, { type: 'UserAssigned', userAssignedIdentities: { [id3]: {} } }, false),
    ).toEqual({
      system: false,
      userAssigned: [id3],
    });
  });

  it('drops every user-assigned identity for SystemAssigned and everything for None', () => {
    expect(merge(both, { type: 'SystemAssigned' }, true)).toEqual({
      system: true,
      userAssigned: [],
    });
    expect(merge(both, { type: 'None' }, true)).toEqual(NO_IDENTITY);
  });

  it('keeps the system identity when a PATCH does not name a type', () => {
    expect(merge(both, { userAssignedIdentities: { [ID1]: null } }, true)).toEqual({
      system: true,
      userAssigned: [ID2],
    });
  });

  it('keeps the spelling an identity was first assigned with', () => {
    expect(
      merge(
        both,
        { type: 'UserAssigned', userAssignedIdentities: { [ID1.toLowerCase()]: {} } },
        false,
      ).userAssigned,
    ).toEqual([ID1]);
  });

  it('refuses to leave a user-assigned type without identities', () => {
    expect(
      armFailure(() =>
        merge(
          both,
          { type: 'UserAssigned', userAssignedIdentities: { [ID1]: null, [ID2]: null } },
          true,
        ),
      ).message,
    ).toBe("The identity ids must not be null or empty for 'UserAssigned' identity type.");
  });

  const many = (count: number, prefix: string) =>
    Array.from({ length: count }, (_, i) => uai(`${prefix}${i}`));
  const patchAdding = (ids: readonly string[]) => ({
    type: 'UserAssigned',
    userAssignedIdentities: Object.fromEntries(ids.map((id) => [id, {}])),
  });

  it(`assigns ${MAX_USER_ASSIGNED_PER_REQUEST} identities in one request but not one more`, () => {
    expect(merge(NO_IDENTITY, patchAdding(many(150, 'a')), false).userAssigned).toHaveLength(150);
    expect(armFailure(() => merge(NO_IDENTITY, patchAdding(many(151, 'a')), false))).toEqual({
      status: 400,
      code: 'BadRequest',
      message: "User Assigned Identities Number '151' Assign exceed limit '150' in one request.",
    });
  });

  it('counts removals against the same per-request limit', () => {
    const current = { system: true, userAssigned: many(151, 'r') };
    expect(armFailure(() => merge(current, { type: 'SystemAssigned' }, true)).code).toBe(
      'BadRequest',
    );
  });

  it(`holds ${MAX_USER_ASSIGNED_IDENTITIES} identities on a resource but not ${MAX_USER_ASSIGNED_IDENTITIES + 1}`, () => {
    const current = { system: false, userAssigned: many(900, 'c') };
    const full = merge(current, patchAdding(many(100, 'n')), true);
    expect(full.userAssigned).toHaveLength(1000);
    expect(armFailure(() => merge(full, patchAdding([uai('one-more')]), true))).toEqual({
      status: 400,
      code: 'BadRequest',
      message: "User Assigned Identities Number '1001' exceed limit '1000' on one resource.",
    });
  });
});

describe('renderIdentity', () => {
  const principals = {
    system: { principalId: 'sp', tenantId: 'tid' },
    userAssigned: (id: string) =>
      id.toLowerCase() === ID1.toLowerCase() ? { principalId: 'p1', clientId: 'c1' } : undefined,
  };

  it('writes type, principalId, tenantId, then the dictionary keyed as assigned', () => {
    const identity = renderIdentity({ system: true, userAssigned: [ID1, ID2] }, principals);
    expect(JSON.stringify(identity)).toBe(
      JSON.stringify({
        type: 'SystemAssigned, UserAssigned',
        principalId: 'sp',
        tenantId: 'tid',
        userAssignedIdentities: { [ID1]: { principalId: 'p1', clientId: 'c1' }, [ID2]: {} },
      }),
    );
  });

  it('writes the 2017-12-01 array form', () => {
    expect(
      renderIdentity({ system: false, userAssigned: [ID1] }, principals, { format: 'identityIds' }),
    ).toEqual({
      type: 'UserAssigned',
      identityIds: [ID1],
    });
  });

  it('leaves identity out when there is none', () => {
    expect(renderIdentity(NO_IDENTITY, principals)).toBeUndefined();
    expect(identityTypeOf(NO_IDENTITY)).toBe('None');
  });

  it('round-trips: a GET body sent back with PUT changes nothing', () => {
    const state: IdentityState = { system: true, userAssigned: [ID1, ID2] };
    const body = renderIdentity(state, principals);
    expect(merge(state, body, false)).toEqual(state);
    function merge(current: IdentityState, value: unknown, isPatch: boolean): IdentityState {
      return mergeIdentity(current, parseIdentity(value, { isPatch }) as IdentityRequest, isPatch);
    }
  });
});

describe('helpers', () => {
  it('recognises user-assigned identity ids in any case', () => {
    expect(isUserAssignedIdentityId(ID1.toLowerCase())).toBe(true);
    expect(isUserAssignedIdentityId(`${ID1}/federatedIdentityCredentials/f`)).toBe(false);
  });

  it('words a missing identity as the identity provider does, wrapped by ARM', () => {
    const vm = '/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1';
    expect(
      armFailure(() => {
        throw failedIdentityOperation(vm, userAssignedIdentityNotFound(ID1));
      }),
    ).toEqual({
      status: 400,
      code: 'FailedIdentityOperation',
      message: `Identity operation for resource '${vm}' failed with error 'Failed to perform resource identity operation. Status: 'BadRequest'. Response: '{"error":{"code":"BadRequest","message":"Resource '${ID1}' was not found."}}'.'.`,
    });
  });
});
