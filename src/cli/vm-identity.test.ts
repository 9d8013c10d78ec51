// The identity flags and bodies of `tessera vm|vmss`: az's rules for assign and remove.
import { describe, expect, it } from 'vitest';
import { ClientError } from '../client/errors.js';
import {
  assignPatch,
  identityBody,
  identityInfo,
  parseIdentities,
  removePatch,
} from './vm-identity.js';

const SUB = '11111111-1111-1111-1111-111111111111';
const uai = (name: string, group = 'rg'): string =>
  `/subscriptions/${SUB}/resourceGroups/${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

describe('parseIdentities', () => {
  it('reads no value as the system-assigned identity, and names as identities in the group', () => {
    expect(parseIdentities(true, SUB, 'rg')).toEqual({ system: true, userAssigned: [] });
    expect(parseIdentities(undefined, SUB, 'rg')).toEqual({ system: true, userAssigned: [] });
    expect(parseIdentities(['app', uai('x', 'other')], SUB, 'rg')).toEqual({
      system: false,
      userAssigned: [uai('app'), uai('x', 'other')],
    });
    expect(parseIdentities(['[system]', 'app'], SUB, 'rg')).toEqual({
      system: true,
      userAssigned: [uai('app')],
    });
  });
});

describe('identity bodies', () => {
  it('builds a PUT identity with the type ARM expects', () => {
    expect(identityBody({ system: true, userAssigned: [] })).toEqual({ type: 'SystemAssigned' });
    expect(identityBody({ system: true, userAssigned: [uai('a')] })).toEqual({
      type: 'SystemAssigned, UserAssigned',
      userAssignedIdentities: { [uai('a')]: {} },
    });
  });

  it('assigns on top of what is there, as az vm identity assign', () => {
    const systemOnly = { type: 'SystemAssigned', principalId: 'p' };
    expect(assignPatch(systemOnly, { system: false, userAssigned: [uai('a')] })).toEqual({
      identity: {
        type: 'SystemAssigned, UserAssigned',
        userAssignedIdentities: { [uai('a')]: {} },
      },
    });
    const userOnly = { type: 'UserAssigned', userAssignedIdentities: { [uai('a')]: {} } };
    expect(assignPatch(userOnly, { system: true, userAssigned: [] })).toEqual({
      identity: { type: 'SystemAssigned, UserAssigned' },
    });
    expect(assignPatch(undefined, { system: true, userAssigned: [] })).toEqual({
      identity: { type: 'SystemAssigned' },
    });
  });

  it('removes only what is named, and refuses identities the resource lacks', () => {
    const both = {
      type: 'SystemAssigned, UserAssigned',
      userAssignedIdentities: { [uai('a')]: {}, [uai('b')]: {} },
    };
    expect(removePatch(both, { system: false, userAssigned: [uai('a')] }, 'vm')).toEqual({
      identity: {
        type: 'SystemAssigned, UserAssigned',
        userAssignedIdentities: { [uai('a').toLowerCase()]: null },
      },
    });
    expect(removePatch(both, { system: true, userAssigned: [] }, 'vm')).toEqual({
      identity: { type: 'UserAssigned' },
    });
    expect(removePatch(both, { system: false, userAssigned: [uai('a'), uai('b')] }, 'vm')).toEqual({
      identity: { type: 'SystemAssigned' },
    });
    expect(removePatch(undefined, { system: true, userAssigned: [] }, 'vm')).toBeUndefined();
    expect(() => removePatch(both, { system: false, userAssigned: [uai('c')] }, 'vm')).toThrow(
      new ClientError(
        'InvalidArgument',
        `'${uai('c').toLowerCase()}' are not associated with 'vm'`,
      ),
    );
  });

  it("summarises identities in az's shape", () => {
    expect(identityInfo(undefined)).toEqual({
      systemAssignedIdentity: '',
      userAssignedIdentities: {},
    });
    expect(identityInfo({ type: 'SystemAssigned', principalId: 'p', tenantId: 't' })).toEqual({
      systemAssignedIdentity: 'p',
      userAssignedIdentities: {},
    });
  });
});
