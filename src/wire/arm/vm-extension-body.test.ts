import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';
import {
  checkExtensionProperties,
  extensionPropertiesAfter,
  MAX_EXTENSION_NAME_LENGTH,
  parseExtensionRequest,
  validateExtensionName,
} from './vm-extension-body.js';

const EXTENSION = { publisher: 'Contoso', type: 'Agent', typeHandlerVersion: '1.0' };

describe('validateExtensionName', () => {
  it('takes 1 to 256 characters without path or URL delimiters', () => {
    expect(() => {
      validateExtensionName('CustomScript.v2');
    }).not.toThrow();
    for (const name of ['', 'a'.repeat(MAX_EXTENSION_NAME_LENGTH + 1), 'a/b', 'a?b', 'a\u0001']) {
      expect(
        armFailure(() => {
          validateExtensionName(name);
        }).code,
      ).toBe('InvalidResourceName');
    }
  });
});

describe('parseExtensionRequest and extensionPropertiesAfter', () => {
  it('normalises a PUT’s location, ignores a PATCH’s, and refuses one that is no string', () => {
    expect(parseExtensionRequest({ location: 'West Europe' }, false).location).toBe('westeurope');
    expect(parseExtensionRequest({ location: ' ' }, false).location).toBeUndefined();
    expect(parseExtensionRequest({ location: 7 }, true).location).toBeUndefined();
    expect(armFailure(() => parseExtensionRequest({ location: 7 }, false)).code).toBe(
      'InvalidRequestContent',
    );
  });

  it('drops secrets and read-only members; a PATCH replaces members whole and ignores null ones', () => {
    const stored = { ...EXTENSION, settings: { a: 1, b: 2 } };
    const put = parseExtensionRequest(
      { properties: { ...EXTENSION, ProtectedSettings: { k: 's' }, provisioningState: 'x' } },
      false,
    );
    expect(extensionPropertiesAfter(put, stored)).toEqual(EXTENSION);
    const patch = parseExtensionRequest(
      { properties: { settings: { a: 3 }, typeHandlerVersion: null } },
      true,
    );
    expect(extensionPropertiesAfter(patch, stored)).toMatchObject({
      ...EXTENSION,
      settings: { a: 3 },
    });
  });
});

describe('checkExtensionProperties', () => {
  it('needs publisher, type and typeHandlerVersion as non-blank strings, in Compute’s words', () => {
    expect(armFailure(() => checkExtensionProperties({ ...EXTENSION, type: null }))).toMatchObject({
      code: 'InvalidParameter',
      target: 'type',
      message: "Required parameter 'type' is missing (null).",
    });
    expect(
      armFailure(() => checkExtensionProperties({ ...EXTENSION, publisher: ' ' })),
    ).toMatchObject({
      code: 'InvalidParameter',
      target: 'publisher',
      message: 'The value of parameter publisher is invalid.',
    });
    expect(checkExtensionProperties(EXTENSION)).toMatchObject({ legacyPort: undefined });
  });

  it('gives the deprecated identity extension’s port, and refuses a bad one', () => {
    const legacy = {
      publisher: 'Microsoft.ManagedIdentity',
      type: 'ManagedIdentityExtensionForWindows',
      typeHandlerVersion: '1.0',
    };
    expect(checkExtensionProperties({ ...legacy, settings: { port: '50343' } })).toMatchObject({
      legacyPort: 50343,
    });
    expect(
      armFailure(() => checkExtensionProperties({ ...legacy, settings: { port: 70000 } })).target,
    ).toBe('properties.settings.port');
  });
});
