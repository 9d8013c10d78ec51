import { describe, expect, it } from 'vitest';
import {
  isLegacyIdentityExtension,
  LEGACY_EXTENSION_DEFAULT_PORT,
  legacyExtensionPort,
  legacyExtensionWarningHeader,
} from './legacy-extension.js';

describe('legacy managed-identity extension', () => {
  it('recognises both types in any case, and nothing else', () => {
    expect(
      isLegacyIdentityExtension('Microsoft.ManagedIdentity', 'ManagedIdentityExtensionForLinux'),
    ).toBe(true);
    expect(
      isLegacyIdentityExtension('microsoft.managedidentity', 'managedidentityextensionforwindows'),
    ).toBe(true);
    expect(isLegacyIdentityExtension('Microsoft.Azure.Extensions', 'CustomScript')).toBe(false);
    expect(isLegacyIdentityExtension('Microsoft.ManagedIdentity', 'Other')).toBe(false);
    expect(isLegacyIdentityExtension(undefined, 'ManagedIdentityExtensionForLinux')).toBe(false);
  });

  it('reads the port from settings, defaulting to 50342', () => {
    expect(legacyExtensionPort(undefined)).toBe(LEGACY_EXTENSION_DEFAULT_PORT);
    expect(legacyExtensionPort({})).toBe(50342);
    expect(legacyExtensionPort({ port: 50343 })).toBe(50343);
    expect(legacyExtensionPort({ port: '8081' })).toBe(8081);
    for (const bad of [0, 65536, 1.5, '80a', '', true, -1, '123456']) {
      expect(legacyExtensionPort({ port: bad })).toBeUndefined();
    }
  });

  it('warns in the RFC 9111 Warning form', () => {
    expect(legacyExtensionWarningHeader()).toMatch(/^299 tessera ".+"$/);
  });
});
