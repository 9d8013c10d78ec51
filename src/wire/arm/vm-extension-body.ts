// VM extension request bodies read and extension resources rendered, secrets left out of both.
import { isRecord } from '../../core/guards.js';
import type { Resource } from '../../core/model.js';
import {
  isLegacyIdentityExtension,
  LEGACY_PORT_RULE,
  legacyExtensionPort,
} from '../../core/resources/legacy-extension.js';
import { VM_EXTENSION_RESOURCE_TYPE } from '../../core/resources/legacy-shim.js';
import { armError, invalidRequestContent, invalidResourceName } from './arm-errors.js';
import { armResource } from './envelope.js';
import { envelopeHead, normaliseLocation, tagsOf } from './tracked-body.js';

/** The longest extension name accepted (Tessera's bound: Azure documents no rule). */
export const MAX_EXTENSION_NAME_LENGTH = 256;

/** The `properties` members a create must carry, as strings. */
export const REQUIRED_EXTENSION_PROPERTIES = ['publisher', 'type', 'typeHandlerVersion'] as const;

// Never stored nor echoed (compared in lower case, as Json.NET reads members): Tessera runs no
// extension, so it keeps no secret meant for one. The read-only members are Tessera's to compute.
const DROPPED_PROPERTIES = new Set([
  'protectedsettings',
  'protectedsettingsfromkeyvault',
  'provisioningstate',
  'instanceview',
]);

// Path separators and URL delimiters cannot be part of a name that is a path segment of the id.
// eslint-disable-next-line no-control-regex
const NAME_FORBIDDEN = /[\\/?#\u0000-\u001f\u007f]/;

/**
 * Checks an extension name: 1 to {@link MAX_EXTENSION_NAME_LENGTH} characters without `\`, `/`,
 * `?`, `#` or control characters (Tessera's rule). Throws `InvalidResourceName` (400).
 */
export function validateExtensionName(name: string): void {
  if (name.length < 1 || name.length > MAX_EXTENSION_NAME_LENGTH || NAME_FORBIDDEN.test(name)) {
    throw invalidResourceName(
      name,
      `The name can be up to ${MAX_EXTENSION_NAME_LENGTH} characters long and can't contain \\, /, ?, # or control characters.`,
    );
  }
}

/**
 * Reads a request's `properties` (absent or `null` is `{}`): members are kept as sent except
 * `protectedSettings` and `protectedSettingsFromKeyVault` (secrets, never kept) and the read-only
 * `provisioningState` and `instanceView`, all matched in any case. Anything but an object is
 * `InvalidRequestContent` (400).
 */
export function parseExtensionProperties(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) {
    throw invalidRequestContent("The value of 'properties' must be a JSON object.");
  }
  return Object.fromEntries(
    Object.entries(value).filter(([name]) => !DROPPED_PROPERTIES.has(name.toLowerCase())),
  );
}

/** What an extension PUT or PATCH body asks for, read before the stored extension is. */
export interface ExtensionRequest {
  readonly isPatch: boolean;
  /** The location a PUT sends, normalised; undefined when absent or blank. */
  readonly location: string | undefined;
  readonly tags: Record<string, string> | undefined;
  /** `properties` as sent, applied to the stored ones by {@link extensionPropertiesAfter}. */
  readonly properties: unknown;
}

/**
 * Reads an extension PUT or PATCH body: VirtualMachineExtensionUpdate has no location, so a
 * PATCH ignores it, as the VM routes do; a PUT's is optional, and anything but a string is
 * `InvalidRequestContent` (400). `tags` are checked (`validateTags`).
 */
export function parseExtensionRequest(
  body: Readonly<Record<string, unknown>>,
  isPatch: boolean,
): ExtensionRequest {
  let location: string | undefined;
  if (!isPatch && body.location !== undefined && body.location !== null) {
    if (typeof body.location !== 'string') {
      throw invalidRequestContent("The value of 'location' must be a string.");
    }
    if (body.location.trim() !== '') location = normaliseLocation(body.location);
  }
  return { isPatch, location, tags: tagsOf(body), properties: body.properties };
}

/**
 * The properties an extension has once `request` is applied: a PATCH's merged into `stored`
 * ({@link patchExtensionProperties}), a PUT's as sent ({@link parseExtensionProperties}).
 */
export function extensionPropertiesAfter(
  request: ExtensionRequest,
  stored: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> {
  return request.isPatch && stored !== undefined
    ? patchExtensionProperties(stored, request.properties)
    : parseExtensionProperties(request.properties);
}

/**
 * A PATCH's `properties` (VirtualMachineExtensionUpdateProperties) applied to the stored ones:
 * each member sent replaces the stored one whole (`settings` included), `null` members are
 * ignored (SDKs leave unset members out), secrets and read-only members are dropped as in
 * {@link parseExtensionProperties}.
 */
export function patchExtensionProperties(
  stored: Readonly<Record<string, unknown>>,
  patch: unknown,
): Record<string, unknown> {
  const sent = parseExtensionProperties(patch);
  const merged: Record<string, unknown> = { ...stored };
  for (const [name, value] of Object.entries(sent)) {
    if (value !== null) merged[name] = value;
  }
  return merged;
}

/**
 * Checks what an extension needs once the request is applied: `publisher`, `type` and
 * `typeHandlerVersion` present as non-blank strings, and, for the deprecated managed-identity
 * extension, a valid `settings.port`. Returns that extension's port, or undefined for any other
 * extension. Errors, all `InvalidParameter` (400):
 * - a member absent or `null`: "Required parameter 'publisher' is missing (null)." with the
 *   member as `target`, Compute's wording for a missing member
 *   (https://github.com/Azure/azure-powershell/issues/4001, `osDisk`);
 * - a member not a string or blank: "The value of parameter publisher is invalid.", Compute's
 *   wording for a bad value (https://github.com/Azure/azure-powershell/issues/7986,
 *   `typeHandlerVersion`);
 * - a bad legacy port: Tessera's text, `target` `properties.settings.port`.
 */
export function checkExtensionProperties(properties: Readonly<Record<string, unknown>>): {
  readonly legacyPort: number | undefined;
} {
  for (const name of REQUIRED_EXTENSION_PROPERTIES) {
    const value = properties[name];
    if (value === undefined || value === null) {
      throw armError('InvalidParameter', `Required parameter '${name}' is missing (null).`, {
        target: name,
      });
    }
    if (typeof value !== 'string' || value.trim() === '') {
      throw armError('InvalidParameter', `The value of parameter ${name} is invalid.`, {
        target: name,
      });
    }
  }
  if (!isLegacyIdentityExtension(properties.publisher, properties.type)) {
    return { legacyPort: undefined };
  }
  const port = legacyExtensionPort(properties.settings);
  if (port === undefined) {
    throw armError(
      'InvalidParameter',
      `The value of 'properties.settings.port' is invalid: it must be ${LEGACY_PORT_RULE}.`,
      { target: 'properties.settings.port' },
    );
  }
  return { legacyPort: port };
}

/**
 * An extension resource body (VirtualMachineExtension): `id`, `name`, `type`, `location`, `tags`
 * when there are any, and `properties` as recorded plus `provisioningState` `Succeeded` (Tessera
 * records extensions, it does not run them). Secrets are never part of it: they are not stored.
 */
export function renderExtension(extension: Resource): ReturnType<typeof armResource> {
  return armResource({
    ...envelopeHead(extension, VM_EXTENSION_RESOURCE_TYPE),
    properties: { ...extension.properties, provisioningState: 'Succeeded' },
  });
}
