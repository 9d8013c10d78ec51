// The deprecated VM extension that served tokens inside the VM on localhost:50342: recognised, flagged, its port read.
import { isRecord } from '../guards.js';

/** The publisher of the managed-identity VM extension. */
export const LEGACY_EXTENSION_PUBLISHER = 'Microsoft.ManagedIdentity';

/** The extension's types (Linux and Windows); compared case-insensitively. */
export const LEGACY_EXTENSION_TYPES = [
  'ManagedIdentityExtensionForLinux',
  'ManagedIdentityExtensionForWindows',
] as const;

/** The port the extension listened on when `settings.port` is absent. */
export const LEGACY_EXTENSION_DEFAULT_PORT = 50342;

/** The audit `kind` recorded when the deprecated extension is installed or changed. */
export const LEGACY_EXTENSION_AUDIT_KIND = 'arm.extension.deprecated';

/**
 * The text of the warning sent with a response that installs the extension (an HTTP `Warning`
 * header, code 299, see {@link legacyExtensionWarningHeader}).
 */
export const LEGACY_EXTENSION_WARNING =
  'The Microsoft.ManagedIdentity VM extension is deprecated; Tessera runs a shim on the VM that forwards to IMDS. Move callers to http://169.254.169.254/metadata/identity/oauth2/token.';

/** The `Warning` header value (RFC 9111 section 5.5 form: code, agent, quoted text). */
export function legacyExtensionWarningHeader(): string {
  return `299 tessera "${LEGACY_EXTENSION_WARNING}"`;
}

/** Whether an extension's `publisher` and `type` name the deprecated managed-identity extension. */
export function isLegacyIdentityExtension(publisher: unknown, type: unknown): boolean {
  if (typeof publisher !== 'string' || typeof type !== 'string') return false;
  if (publisher.toLowerCase() !== LEGACY_EXTENSION_PUBLISHER.toLowerCase()) return false;
  const key = type.toLowerCase();
  return LEGACY_EXTENSION_TYPES.some((known) => known.toLowerCase() === key);
}

/** Why {@link legacyExtensionPort} refused a `settings.port`. */
export const LEGACY_PORT_RULE = 'an integer from 1 to 65535 (a number or a string of digits)';

/**
 * The port the shim listens on, from the extension's public `settings`: `settings.port` as a
 * number or a string of digits (the extension's docs show `"port": 50342`), default
 * {@link LEGACY_EXTENSION_DEFAULT_PORT}. Returns undefined when `settings.port` is present but
 * not a port, so the caller can refuse it in its own dialect (see {@link LEGACY_PORT_RULE}).
 */
export function legacyExtensionPort(settings: unknown): number | undefined {
  if (!isRecord(settings)) return LEGACY_EXTENSION_DEFAULT_PORT;
  const port: unknown = settings.port;
  if (port === undefined || port === null) return LEGACY_EXTENSION_DEFAULT_PORT;
  const value =
    typeof port === 'number'
      ? port
      : typeof port === 'string' && /^\d{1,5}$/.test(port)
        ? Number(port)
        : NaN;
  return Number.isInteger(value) && value >= 1 && value <= 65535 ? value : undefined;
}
