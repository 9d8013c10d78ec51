// Scale sets and their instances: where they live, request bodies read, resources rendered.
import type { AppError } from '../../core/errors.js';
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
import {
  armError,
  type IdentityFormat,
  invalidRequestContent,
  renderIdentity,
  resourceNotFound,
} from '../../wire/arm/index.js';
import type { ArmServices } from './context.js';
import { type GroupLocation, groupNotFound, locateGroup } from './resource-groups.js';
import { type CurrentIdentity, identityPrincipals } from './vm-identity.js';

/** The ARM type of a scale set. */
export const SCALE_SET_TYPE = SCALE_SET_RESOURCE_TYPE;

/** The ARM type of a scale-set instance. */
export const INSTANCE_TYPE = SCALE_SET_INSTANCE_TYPE;

/** The most instances one scale set may have (`sku.capacity`; Tessera's bound). */
export const MAX_CAPACITY = 1000;

/**
 * Where Tessera keeps a scale set's own state in its stored `properties`: the `sku` and the next
 * instance id. Never shown, and dropped when a client sends it.
 */
const INTERNAL = '_tessera';

// Read-only members of a scale set's `properties` (Compute computes them): dropped when sent.
const READ_ONLY = new Set(['provisioningstate', 'uniqueid', 'timecreated', INTERNAL]);

// Members of an extension's `properties` that hold secrets: never stored, never shown.
const SECRET_MEMBERS = new Set(['protectedsettings', 'protectedsettingsfromkeyvault']);

const EXTENSIONS_PATH = 'properties.virtualMachineProfile.extensionProfile.extensions';

/** A scale set's `sku`: `capacity` is how many instances it has. */
export interface ScaleSetSku {
  readonly name?: string;
  readonly tier?: string;
  readonly capacity: number;
}

/** What Tessera keeps about a scale set besides its `properties`. */
export interface ScaleSetState {
  readonly sku: ScaleSetSku;
  /** The id the next new instance gets: ids only grow, so none is used twice. */
  readonly nextInstanceId: number;
}

/** A deprecated managed-identity extension found in a scale set's extension profile. */
export interface LegacyExtensionEntry {
  readonly publisher: string;
  readonly type: string;
  readonly port: number;
}

/** Where a scale set lives: its subscription's tenant and its group. */
export type ScaleSetWhere = GroupLocation;

/** Finds a scale set's subscription and group ({@link locateGroup}). */
export const locateScaleSet = locateGroup;

/** ARM's `ResourceGroupNotFound` (404) unless the group of `where` exists. */
export function requireGroupExists(where: ScaleSetWhere, groupName: string): void {
  if (!where.groupExists) throw groupNotFound(groupName);
}

/** The scale set `id`, if there is one (a resource of another type is none). */
export async function getScaleSet(
  services: ArmServices,
  id: string,
): Promise<Resource | undefined> {
  const found = await services.store.resources.get(id);
  return found?.type.toLowerCase() === SCALE_SET_TYPE.toLowerCase() ? found : undefined;
}

/** ARM's `ResourceNotFound` (404) for the scale set `name` in group `group`. */
export function scaleSetNotFound(name: string, group: string): AppError {
  return resourceNotFound(`${SCALE_SET_TYPE}/${name}`, group);
}

/** Json.NET binds members case-insensitively; an exact match wins over a case-folded one. */
function member(object: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(object, name)) return object[name];
  const lower = name.toLowerCase();
  const key = Object.keys(object).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : object[key];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
  if (!isObject(value)) throw invalidRequestContent("The value of 'sku' must be a JSON object.");
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

/** A scale set's {@link ScaleSetState} (a scale set without one has no instances yet). */
export function scaleSetState(scaleSet: Resource): ScaleSetState {
  const raw = scaleSet.properties[INTERNAL];
  const state = isObject(raw) ? raw : {};
  const sku = isObject(state.sku) ? state.sku : {};
  const next = state.nextInstanceId;
  return {
    sku: {
      ...(typeof sku.name === 'string' ? { name: sku.name } : {}),
      ...(typeof sku.tier === 'string' ? { tier: sku.tier } : {}),
      capacity: typeof sku.capacity === 'number' ? sku.capacity : 0,
    },
    nextInstanceId: typeof next === 'number' ? next : 0,
  };
}

/** `scaleSet` with its {@link ScaleSetState} replaced. */
export function withState(scaleSet: Resource, state: ScaleSetState): Resource {
  return {
    ...scaleSet,
    properties: { ...publicProperties(scaleSet), [INTERNAL]: { ...state, sku: { ...state.sku } } },
  };
}

/** A scale set's `properties` as clients see them (without Tessera's own state). */
export function publicProperties(scaleSet: Resource): Record<string, unknown> {
  return Object.fromEntries(Object.entries(scaleSet.properties).filter(([k]) => k !== INTERNAL));
}

/** What {@link parseScaleSetProperties} found. */
export interface ParsedScaleSetProperties {
  readonly properties: Record<string, unknown>;
  /** Deprecated managed-identity extensions in the extension profile, in order. */
  readonly legacy: readonly LegacyExtensionEntry[];
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
  if (!isObject(value)) {
    throw invalidRequestContent("The value of 'properties' must be a JSON object.");
  }
  const properties: Record<string, unknown> = {};
  const legacy: LegacyExtensionEntry[] = [];
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

function readProfile(profile: unknown, legacy: LegacyExtensionEntry[]): unknown {
  if (profile === undefined || profile === null) return profile;
  if (!isObject(profile)) {
    throw invalidRequestContent(
      "The value of 'properties.virtualMachineProfile' must be a JSON object.",
    );
  }
  return replaceMember(profile, 'extensionProfile', (extensionProfile) => {
    if (!isObject(extensionProfile)) {
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

function readExtension(entry: unknown, index: number, legacy: LegacyExtensionEntry[]): unknown {
  const path = `${EXTENSIONS_PATH}[${index}]`;
  if (!isObject(entry))
    throw invalidRequestContent(`The value of '${path}' must be a JSON object.`);
  return replaceMember(entry, 'properties', (properties) => {
    if (!isObject(properties)) {
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

function renderSku(sku: ScaleSetSku): ScaleSetSku {
  return {
    ...(sku.name === undefined ? {} : { name: sku.name }),
    ...(sku.tier === undefined ? {} : { tier: sku.tier }),
    capacity: sku.capacity,
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
  const rendered = renderIdentity(identity.state, identityPrincipals(identity), { format });
  return {
    id: scaleSet.id,
    name: scaleSet.name,
    type: SCALE_SET_TYPE,
    location: scaleSet.location ?? '',
    ...(Object.keys(scaleSet.tags).length === 0 ? {} : { tags: scaleSet.tags }),
    sku: renderSku(scaleSetState(scaleSet).sku),
    ...(scaleSet.etag === undefined ? {} : { etag: scaleSet.etag }),
    ...(rendered === undefined ? {} : { identity: rendered }),
    properties: { ...publicProperties(scaleSet), provisioningState: 'Succeeded' },
  };
}

/** The id of instance `instanceId` of `scaleSet`. */
export const instanceResourceId = (scaleSetId: string, instanceId: string): string =>
  `${scaleSetId}/virtualMachines/${instanceId}`;

/** An instance's `instanceId`: the last segment of its id, a decimal number. */
export const instanceIdOf = (instance: Resource): string => instance.id.split('/').at(-1) ?? '';

/**
 * A new instance `instanceId` of `scaleSet`: named `{scaleSet}_{instanceId}` as Compute names
 * them (a real list response shows `"name": "dashdemo_0", "instanceId": "0"`:
 * https://github.com/msleal/asciivmssdashboard, `VMSSVMS_DEMO`), in the scale set's location,
 * with a new `vmId` and no host yet.
 */
export function newInstance(
  scaleSet: Resource,
  instanceId: number,
  vmId: string,
  now: number,
): Resource {
  const id = String(instanceId);
  return {
    id: instanceResourceId(scaleSet.id, id),
    type: INSTANCE_TYPE,
    name: `${scaleSet.name}_${id}`,
    subscriptionId: scaleSet.subscriptionId,
    resourceGroup: scaleSet.resourceGroup,
    location: scaleSet.location,
    tags: {},
    properties: { vmId },
    createdAt: now,
    updatedAt: now,
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
  const rendered = renderIdentity(identity.state, identityPrincipals(identity), { format });
  const hasSku = sku.name !== undefined || sku.tier !== undefined;
  return {
    id: instance.id,
    name: instance.name,
    type: INSTANCE_TYPE,
    location: instance.location ?? '',
    ...(Object.keys(instance.tags).length === 0 ? {} : { tags: instance.tags }),
    instanceId: instanceIdOf(instance),
    ...(hasSku
      ? {
          sku: {
            ...(sku.name === undefined ? {} : { name: sku.name }),
            ...(sku.tier === undefined ? {} : { tier: sku.tier }),
          },
        }
      : {}),
    ...(instance.etag === undefined ? {} : { etag: instance.etag }),
    ...(rendered === undefined ? {} : { identity: rendered }),
    properties: { ...instance.properties, provisioningState: 'Succeeded' },
  };
}
