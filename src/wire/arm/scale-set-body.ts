// Scale-set and instance request bodies read and resources rendered: sku, profile, extensions, identities.
import {
  type CurrentIdentity,
  instanceIdOf,
  isInstanceId,
  type LegacyExtensionUse,
  publicProperties,
  SCALE_SET_STATE_MEMBER,
  type ScaleSetSku,
  scaleSetState,
} from '../../core/compute/index.js';
import { isRecord } from '../../core/guards.js';
import type { Resource } from '../../core/model.js';
import {
  SCALE_SET_INSTANCE_TYPE,
  SCALE_SET_RESOURCE_TYPE,
} from '../../core/resources/change-feed.js';
import {
  isLegacyIdentityExtension,
  LEGACY_PORT_RULE,
  legacyExtensionPort,
} from '../../core/resources/legacy-extension.js';
import { armError, invalidRequestContent } from './arm-errors.js';
import { renderComputeIdentity } from './compute-body.js';
import { decodeSkipToken, encodeSkipToken } from './envelope.js';
import { envelopeHead } from './tracked-body.js';
import type { IdentityFormat } from './identity.js';

/** The most instances one scale set may have (`sku.capacity`; Tessera's bound). */
export const MAX_CAPACITY = 1000;

// Read-only members of a scale set's `properties` (Compute computes them, Tessera keeps its
// state in the last): dropped when sent.
const READ_ONLY = new Set([
  'provisioningstate',
  'uniqueid',
  'timecreated',
  SCALE_SET_STATE_MEMBER.toLowerCase(),
]);

// Members of an extension's `properties` that hold secrets: never stored, never shown.
const SECRET_MEMBERS = new Set(['protectedsettings', 'protectedsettingsfromkeyvault']);

const EXTENSIONS_PATH = 'properties.virtualMachineProfile.extensionProfile.extensions';

/** Json.NET binds members case-insensitively; an exact match wins over a case-folded one. */
function member(object: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(object, name)) return object[name];
  const lower = name.toLowerCase();
  const key = Object.keys(object).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : object[key];
}

/** A request's `sku` as sent: every member optional. */
export interface SkuRequest {
  readonly name?: string;
  readonly tier?: string;
  readonly capacity?: number;
}

/**
 * Reads a request's `sku` (absent or `null` is undefined): optional string `name` and `tier`,
 * optional integer `capacity` from 0 to {@link MAX_CAPACITY}. Errors: `InvalidRequestContent`
 * when `sku` is not an object; `InvalidParameter` (400) naming the member as `target` otherwise.
 */
export function parseSku(value: unknown): SkuRequest | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw invalidRequestContent("The value of 'sku' must be a JSON object.");
  const text = (name: 'name' | 'tier'): string | undefined => {
    const given = member(value, name);
    if (given === undefined || given === null) return undefined;
    if (typeof given === 'string') return given;
    throw armError('InvalidParameter', `The value of 'sku.${name}' must be a string.`, {
      target: `sku.${name}`,
    });
  };
  const name = text('name');
  const tier = text('tier');
  const given = member(value, 'capacity');
  const capacity = given === undefined || given === null ? undefined : given;
  const valid =
    typeof capacity === 'number' &&
    Number.isInteger(capacity) &&
    capacity >= 0 &&
    capacity <= MAX_CAPACITY;
  if (capacity !== undefined && !valid) {
    throw armError(
      'InvalidParameter',
      `The value ${JSON.stringify(capacity)} of 'sku.capacity' is invalid: it must be an integer from 0 to ${MAX_CAPACITY}.`,
      { target: 'sku.capacity' },
    );
  }
  return {
    ...(name === undefined ? {} : { name }),
    ...(tier === undefined ? {} : { tier }),
    ...(typeof capacity === 'number' ? { capacity } : {}),
  };
}

/** What {@link parseScaleSetProperties} found. */
export interface ParsedScaleSetProperties {
  readonly properties: Record<string, unknown>;
  /** Deprecated managed-identity extensions in the extension profile, in order. */
  readonly legacy: readonly LegacyExtensionUse[];
}

/**
 * Reads a request's scale-set `properties` (absent or `null` is `{}`). Members are kept as given
 * except the read-only `provisioningState`, `uniqueId` and `timeCreated` (dropped) and Tessera's
 * `tessera`, refused here because instances are placed one by one. In
 * `virtualMachineProfile.extensionProfile.extensions[]`, `protectedSettings` and
 * `protectedSettingsFromKeyVault` are dropped (secrets: never stored nor returned), and each
 * deprecated managed-identity extension is reported with its port. Errors:
 * `InvalidRequestContent` (400) for a member of the wrong JSON type; `InvalidParameter` (400) for
 * `tessera` or a legacy extension's bad `settings.port`, with the member as `target`.
 */
export function parseScaleSetProperties(value: unknown): ParsedScaleSetProperties {
  if (value === undefined || value === null) return { properties: {}, legacy: [] };
  if (!isRecord(value)) {
    throw invalidRequestContent("The value of 'properties' must be a JSON object.");
  }
  const properties: Record<string, unknown> = {};
  const legacy: LegacyExtensionUse[] = [];
  for (const [name, given] of Object.entries(value)) {
    const key = name.toLowerCase();
    if (READ_ONLY.has(key)) continue;
    if (key === 'tessera' && given !== null && given !== undefined) {
      throw armError(
        'InvalidParameter',
        "A scale set has no 'properties.tessera': place each instance with a PUT of its 'properties.tessera' on …/virtualMachineScaleSets/{name}/virtualMachines/{instanceId}.",
        { target: 'properties.tessera' },
      );
    }
    properties[name] = key === 'virtualmachineprofile' ? readProfile(given, legacy) : given;
  }
  return { properties, legacy };
}

function readProfile(profile: unknown, legacy: LegacyExtensionUse[]): unknown {
  if (profile === undefined || profile === null) return profile;
  if (!isRecord(profile)) {
    throw invalidRequestContent(
      "The value of 'properties.virtualMachineProfile' must be a JSON object.",
    );
  }
  return replaceMember(profile, 'extensionProfile', (extensionProfile) => {
    if (!isRecord(extensionProfile)) {
      throw invalidRequestContent(
        "The value of 'properties.virtualMachineProfile.extensionProfile' must be a JSON object.",
      );
    }
    return replaceMember(extensionProfile, 'extensions', (extensions) => {
      if (!Array.isArray(extensions)) {
        throw invalidRequestContent(`The value of '${EXTENSIONS_PATH}' must be a JSON array.`);
      }
      return extensions.map((entry: unknown, index) => readExtension(entry, index, legacy));
    });
  });
}

/** `object` with the member `name` (any case; absent or `null` left alone) passed through `map`. */
function replaceMember(
  object: Record<string, unknown>,
  name: string,
  map: (value: unknown) => unknown,
): Record<string, unknown> {
  const lower = name.toLowerCase();
  return Object.fromEntries(
    Object.entries(object).map(([key, value]) => [
      key,
      key.toLowerCase() === lower && value !== null && value !== undefined ? map(value) : value,
    ]),
  );
}

function readExtension(entry: unknown, index: number, legacy: LegacyExtensionUse[]): unknown {
  const path = `${EXTENSIONS_PATH}[${index}]`;
  if (!isRecord(entry))
    throw invalidRequestContent(`The value of '${path}' must be a JSON object.`);
  return replaceMember(entry, 'properties', (properties) => {
    if (!isRecord(properties)) {
      throw invalidRequestContent(`The value of '${path}.properties' must be a JSON object.`);
    }
    const kept = Object.fromEntries(
      Object.entries(properties).filter(([key]) => !SECRET_MEMBERS.has(key.toLowerCase())),
    );
    const publisher = member(kept, 'publisher');
    const type = member(kept, 'type');
    if (isLegacyIdentityExtension(publisher, type)) {
      const port = legacyExtensionPort(member(kept, 'settings'));
      if (port === undefined) {
        const label = typeof entry.name === 'string' ? entry.name : String(index);
        throw armError(
          'InvalidParameter',
          `The value of 'settings.port' of extension '${label}' must be ${LEGACY_PORT_RULE}.`,
          { target: `${path}.properties.settings.port` },
        );
      }
      legacy.push({ publisher: publisher as string, type: type as string, port });
    }
    return kept;
  });
}

/** The `name` and `tier` of a sku, those it has. */
function nameAndTier(sku: ScaleSetSku): { name?: string; tier?: string } {
  return {
    ...(sku.name === undefined ? {} : { name: sku.name }),
    ...(sku.tier === undefined ? {} : { tier: sku.tier }),
  };
}

/**
 * A scale-set body: `id`, `name`, `type`, `location`, `tags` (when any), `sku`, `etag`,
 * `identity` (when any, in the request's format) and `properties` as recorded plus
 * `provisioningState` `Succeeded` (Tessera applies changes synchronously).
 */
export function renderScaleSet(
  scaleSet: Resource,
  identity: CurrentIdentity,
  format: IdentityFormat,
): Record<string, unknown> {
  const rendered = renderComputeIdentity(identity, format);
  const { sku } = scaleSetState(scaleSet);
  return {
    ...envelopeHead(scaleSet, SCALE_SET_RESOURCE_TYPE),
    sku: { ...nameAndTier(sku), capacity: sku.capacity },
    ...(scaleSet.etag === undefined ? {} : { etag: scaleSet.etag }),
    ...(rendered === undefined ? {} : { identity: rendered }),
    properties: { ...publicProperties(scaleSet), provisioningState: 'Succeeded' },
  };
}

/**
 * An instance body (Compute's `VirtualMachineScaleSetVM`): envelope, `instanceId` at the top as
 * Compute renders it, the scale set's `sku` name and tier, `etag`, the scale set's `identity`
 * (instances use the scale set's identities) and `properties` as recorded plus
 * `provisioningState` `Succeeded`. Source for the shape:
 * azure-rest-api-specs `ComputeRP/stable/2024-07-01/examples/virtualMachineScaleSetExamples/
 * VirtualMachineScaleSetVM_Get_WithUserData.json`.
 */
export function renderInstance(
  instance: Resource,
  scaleSet: Resource,
  identity: CurrentIdentity,
  format: IdentityFormat,
): Record<string, unknown> {
  const { sku } = scaleSetState(scaleSet);
  const rendered = renderComputeIdentity(identity, format);
  const hasSku = sku.name !== undefined || sku.tier !== undefined;
  return {
    ...envelopeHead(instance, SCALE_SET_INSTANCE_TYPE),
    instanceId: instanceIdOf(instance),
    ...(hasSku ? { sku: nameAndTier(sku) } : {}),
    ...(instance.etag === undefined ? {} : { etag: instance.etag }),
    ...(rendered === undefined ? {} : { identity: rendered }),
    properties: { ...instance.properties, provisioningState: 'Succeeded' },
  };
}

/**
 * Where a page of a scale set's instances starts: after the instance id `skipToken` carries
 * ({@link instanceSkipToken}), or at -1 (the first page) without one. A token that carries no
 * instance id is `InvalidParameter` (400) on `$skipToken`.
 */
export function instancesAfter(skipToken: string | undefined): number {
  if (skipToken === undefined) return -1;
  const cursor = decodeSkipToken(skipToken);
  if (!isInstanceId(cursor)) {
    throw armError(
      'InvalidParameter',
      `The value '${skipToken}' of query parameter '$skipToken' is invalid.`,
      { target: '$skipToken' },
    );
  }
  return Number(cursor);
}

/** The `$skipToken` of the page after `last`, the last instance of this one. */
export const instanceSkipToken = (last: Resource): string => encodeSkipToken(instanceIdOf(last));
