import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';
import { addressTaken, identityToAttachNotFound, unknownHost } from '../../core/compute/index.js';
import type { Resource } from '../../core/model.js';
import {
  computeProblemInArmWords,
  holderReadAction,
  linkedAuthorizationFailed,
} from './compute-errors.js';

const GROUP = '/subscriptions/s/resourceGroups/g';
const VM = `${GROUP}/providers/Microsoft.Compute/virtualMachines/vm1`;
const UAI = `${GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`;
const holder = (type: string, id: string): Resource => ({
  id,
  type,
  name: 'x',
  subscriptionId: 's',
  resourceGroup: 'g',
  location: 'westeurope',
  tags: {},
  properties: {},
  createdAt: 0,
  updatedAt: 0,
});
const answered = (error: Error) =>
  armFailure(() => {
    throw error;
  });

describe('computeProblemInArmWords', () => {
  it('wraps a missing identity in FailedIdentityOperation, as ARM passes the MSI answer on', () => {
    const { problem } = identityToAttachNotFound(VM, UAI);
    expect(answered(computeProblemInArmWords(problem, false))).toMatchObject({
      status: 400,
      code: 'FailedIdentityOperation',
    });
  });

  it('names the unknown host on properties.tessera.hostId', () => {
    expect(answered(computeProblemInArmWords(unknownHost('h9').problem, false))).toMatchObject({
      status: 400,
      code: 'InvalidParameter',
      target: 'properties.tessera.hostId',
    });
  });

  it('names the holder of a taken address only to a caller who may read it', () => {
    const other = holder(
      'Microsoft.Compute/virtualMachines',
      `${GROUP}/providers/Microsoft.Compute/virtualMachines/vm2`,
    );
    const { problem } = addressTaken(VM, '10.0.0.4', other);
    expect(answered(computeProblemInArmWords(problem, true)).message).toContain(
      `resource ${other.id}`,
    );
    expect(answered(computeProblemInArmWords(problem, false)).message).toContain(
      'another resource',
    );
    expect(holderReadAction(other)).toBe('Microsoft.Compute/virtualMachines/read');
    const instance = holder('microsoft.compute/virtualmachinescalesets/virtualmachines', 'i');
    expect(holderReadAction(instance)).toBe(
      'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read',
    );
  });
});

describe('linkedAuthorizationFailed', () => {
  it('names the caller by app id and every identity it may not assign, joined with commas', () => {
    const error = linkedAuthorizationFailed({ appId: 'app', objectId: 'oid' }, 'w/write', VM, [
      UAI,
      `${UAI}2`,
    ]);
    expect(answered(error)).toMatchObject({
      status: 403,
      code: 'LinkedAuthorizationFailed',
      message: `The client 'app' with object id 'oid' has permission to perform action 'w/write' on scope '${VM}'; however, it does not have permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '${UAI},${UAI}2' or the linked scope(s) are invalid.`,
    });
  });
});
