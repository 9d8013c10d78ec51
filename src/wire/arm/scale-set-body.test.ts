import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';
import { encodeSkipToken } from './envelope.js';
import {
  instancesAfter,
  MAX_CAPACITY,
  parseScaleSetProperties,
  parseSku,
} from './scale-set-body.js';

const LEGACY = { publisher: 'Microsoft.ManagedIdentity', type: 'ManagedIdentityExtensionForLinux' };
const withExtensions = (extensions: unknown): unknown => ({
  virtualMachineProfile: { extensionProfile: { extensions } },
});

describe('parseSku', () => {
  it('reads name, tier and capacity, members in any case (Json.NET binds them so)', () => {
    expect(parseSku({ Name: 'Standard_B1s', tier: 'Standard', CAPACITY: 3 })).toMatchObject({
      name: 'Standard_B1s',
      tier: 'Standard',
      capacity: 3,
    });
    expect(parseSku({ capacity: null })).toMatchObject({});
    expect(parseSku(undefined)).toBeUndefined();
  });

  it(`refuses a capacity that is no integer from 0 to ${MAX_CAPACITY}, naming it`, () => {
    for (const capacity of [-1, 1.5, MAX_CAPACITY + 1, '2']) {
      expect(armFailure(() => parseSku({ capacity }))).toMatchObject({
        code: 'InvalidParameter',
        target: 'sku.capacity',
      });
    }
    expect(armFailure(() => parseSku({ tier: 1 }))).toMatchObject({
      code: 'InvalidParameter',
      target: 'sku.tier',
    });
    expect(armFailure(() => parseSku('Standard'))).toMatchObject({ code: 'InvalidRequestContent' });
  });
});

describe('parseScaleSetProperties', () => {
  it('drops the read-only members and keeps the rest as sent', () => {
    const { properties, legacy } = parseScaleSetProperties({
      uniqueId: 'u',
      ProvisioningState: 'x',
      timeCreated: 't',
      upgradePolicy: { mode: 'Manual' },
    });
    expect(properties).toEqual({ upgradePolicy: { mode: 'Manual' } });
    expect(legacy).toEqual([]);
  });

  it('refuses properties.tessera: instances are placed one by one', () => {
    expect(armFailure(() => parseScaleSetProperties({ tessera: { hostId: 'h' } }))).toMatchObject({
      code: 'InvalidParameter',
      target: 'properties.tessera',
    });
  });

  it('never keeps an extension’s protected settings', () => {
    const { properties } = parseScaleSetProperties(
      withExtensions([
        { name: 'e', properties: { publisher: 'p', protectedSettings: { k: 's' }, settings: {} } },
      ]),
    );
    expect(properties).toEqual(
      withExtensions([{ name: 'e', properties: { publisher: 'p', settings: {} } }]),
    );
  });

  it('reports each deprecated identity extension with its port, and refuses a bad port', () => {
    const ok = withExtensions([
      { name: 'msi', properties: { ...LEGACY, settings: { port: 50343 } } },
    ]);
    expect(parseScaleSetProperties(ok).legacy).toEqual([{ ...LEGACY, port: 50343 }]);
    const bad = withExtensions([{ name: 'msi', properties: { ...LEGACY, settings: { port: 0 } } }]);
    expect(armFailure(() => parseScaleSetProperties(bad))).toMatchObject({
      code: 'InvalidParameter',
      target:
        'properties.virtualMachineProfile.extensionProfile.extensions[0].properties.settings.port',
    });
  });

  it('refuses a profile member of the wrong JSON type', () => {
    expect(armFailure(() => parseScaleSetProperties(withExtensions({})))).toMatchObject({
      code: 'InvalidRequestContent',
    });
  });
});

describe('instancesAfter', () => {
  it('starts the first page at -1 and the next after the instance id its token carries', () => {
    expect(instancesAfter(undefined)).toBe(-1);
    expect(instancesAfter(encodeSkipToken('7'))).toBe(7);
  });

  it('refuses a token that carries no instance id, showing it as sent', () => {
    const token = encodeSkipToken('vm-7');
    expect(armFailure(() => instancesAfter(token))).toMatchObject({
      status: 400,
      code: 'InvalidParameter',
      target: '$skipToken',
      message: `The value '${token}' of query parameter '$skipToken' is invalid.`,
    });
  });
});
