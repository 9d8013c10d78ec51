import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';
import {
  MAX_HOST_ID_LENGTH,
  MAX_PRIVATE_IPS,
  mergePatch,
  parseTessera,
  parseVmProperties,
  patchVmProperties,
} from './vm-body.js';

describe('parseVmProperties', () => {
  it('keeps members as sent but drops the read-only vmId and provisioningState in any case', () => {
    const kept = parseVmProperties({
      hardwareProfile: { vmSize: 'Standard_B1s' },
      VMID: 'x',
      provisioningstate: 'Failed',
    });
    expect(kept).toEqual({ hardwareProfile: { vmSize: 'Standard_B1s' } });
  });

  it('reads absent and null as {}, and refuses anything but an object', () => {
    expect(parseVmProperties(undefined)).toMatchObject({});
    expect(parseVmProperties(null)).toMatchObject({});
    expect(armFailure(() => parseVmProperties([]))).toMatchObject({
      code: 'InvalidRequestContent',
    });
  });

  it('drops a null tessera member', () => {
    expect(parseVmProperties({ tessera: null })).toMatchObject({});
  });
});

describe('parseTessera', () => {
  it('takes a host id and addresses of both families', () => {
    expect(
      parseTessera({ hostId: 'h1', privateIpAddresses: ['10.0.0.4', 'fd00::4'] }),
    ).toMatchObject({
      hostId: 'h1',
      privateIpAddresses: ['10.0.0.4', 'fd00::4'],
    });
  });

  it('refuses an unknown member, so a misspelt one cannot leave a VM unrecognised', () => {
    expect(armFailure(() => parseTessera({ hostID: 'h1' }))).toMatchObject({
      code: 'InvalidParameter',
      target: 'properties.tessera',
    });
  });

  it('refuses a blank or too long host id on its own member', () => {
    for (const hostId of [' ', 'h'.repeat(MAX_HOST_ID_LENGTH + 1), 7]) {
      expect(armFailure(() => parseTessera({ hostId }))).toMatchObject({
        code: 'InvalidParameter',
        target: 'properties.tessera.hostId',
      });
    }
  });

  it('refuses a non-address, too many addresses, and one address listed twice in any spelling', () => {
    const target = 'properties.tessera.privateIpAddresses';
    const many = Array.from({ length: MAX_PRIVATE_IPS + 1 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    for (const privateIpAddresses of [['10.0.0.256'], many, ['FD00::4', 'fd00:0::4'], 'x']) {
      expect(armFailure(() => parseTessera({ privateIpAddresses }))).toMatchObject({
        code: 'InvalidParameter',
        target,
      });
    }
  });
});

describe('mergePatch and patchVmProperties', () => {
  it('merges objects member by member, removes on null and replaces arrays whole (RFC 7396)', () => {
    const stored = { a: { b: 1, c: 2 }, list: [1, 2], gone: true };
    expect(mergePatch(stored, { a: { c: null, d: 3 }, list: [3], gone: null })).toMatchObject({
      a: { b: 1, d: 3 },
      list: [3],
    });
    expect(stored).toEqual({ a: { b: 1, c: 2 }, list: [1, 2], gone: true });
  });

  it('checks tessera again after the merge, and removes it with null', () => {
    const stored = { tessera: { hostId: 'h1' } };
    expect(patchVmProperties(stored, { tessera: null })).toMatchObject({});
    expect(armFailure(() => patchVmProperties(stored, { tessera: { hostId: '' } }))).toMatchObject({
      target: 'properties.tessera.hostId',
    });
    expect(patchVmProperties(stored, undefined)).toEqual(stored);
  });
});
