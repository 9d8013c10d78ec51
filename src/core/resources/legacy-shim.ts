// Whether a VM or scale-set instance expects the legacy extension endpoint, and on which port.
import type { Resource } from '../model.js';
import type { Store } from '../ports.js';
import { RESOURCE_TYPES } from '../resource-types.js';
import {
  SCALE_SET_INSTANCE_TYPE,
  SCALE_SET_RESOURCE_TYPE,
  VM_RESOURCE_TYPE,
} from './change-feed.js';
import { isLegacyIdentityExtension, legacyExtensionPort } from './legacy-extension.js';
import { isRecord } from '../guards.js';

/** The ARM type of a VM extension (a child resource `{vmId}/extensions/{name}`). */
export const VM_EXTENSION_RESOURCE_TYPE = RESOURCE_TYPES.vmExtensions;

const BATCH = 500;

const isType = (resource: Resource, type: string): boolean =>
  resource.type.toLowerCase() === type.toLowerCase();

/** The port of an extension's `{publisher, type, settings}`, if it is the legacy one with a valid port. */
function portOf(properties: unknown): number | undefined {
  if (!isRecord(properties)) return undefined;
  if (!isLegacyIdentityExtension(properties.publisher, properties.type)) return undefined;
  return legacyExtensionPort(properties.settings);
}

async function vmPort(store: Store, vmId: string): Promise<number | undefined> {
  let cursor: string | undefined;
  do {
    const page = await store.resources.listUnder(vmId, { limit: BATCH, cursor });
    for (const resource of page.items) {
      if (!isType(resource, VM_EXTENSION_RESOURCE_TYPE)) continue;
      const port = portOf(resource.properties);
      if (port !== undefined) return port;
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return undefined;
}

/** `properties.virtualMachineProfile.extensionProfile.extensions` of a scale set, or `[]`. */
function profileExtensions(scaleSet: Resource): readonly unknown[] {
  const profile = scaleSet.properties.virtualMachineProfile;
  const extensionProfile = isRecord(profile) ? profile.extensionProfile : undefined;
  const extensions = isRecord(extensionProfile) ? extensionProfile.extensions : undefined;
  return Array.isArray(extensions) ? (extensions as unknown[]) : [];
}

async function instancePort(store: Store, instanceId: string): Promise<number | undefined> {
  // An instance's id is `{scaleSetId}/virtualMachines/{instanceId}`.
  const scaleSetId = instanceId.split('/').slice(0, -2).join('/');
  const scaleSet = await store.resources.get(scaleSetId);
  return scaleSet === undefined ? undefined : scaleSetLegacyPort(scaleSet);
}

/** The legacy port a scale set's profile gives its instances (see {@link legacyShimPort}). */
export function scaleSetLegacyPort(scaleSet: Resource): number | undefined {
  if (!isType(scaleSet, SCALE_SET_RESOURCE_TYPE)) return undefined;
  for (const entry of profileExtensions(scaleSet)) {
    const port = portOf(isRecord(entry) ? entry.properties : undefined);
    if (port !== undefined) return port;
  }
  return undefined;
}

/**
 * The legacy port of every VM that has one, by lower-cased VM id: one scan of all VM extension
 * resources in id order, each VM's first valid one winning as in {@link legacyShimPort}. For a
 * full agent sync, which reads every VM anyway.
 */
export async function allVmLegacyPorts(store: Store): Promise<Map<string, number>> {
  const ports = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const page = await store.resources.list(
      { type: VM_EXTENSION_RESOURCE_TYPE },
      { limit: BATCH, cursor },
    );
    for (const extension of page.items) {
      const port = portOf(extension.properties);
      // `{vmId}/extensions/{name}`
      const vmKey = extension.id.split('/').slice(0, -2).join('/').toLowerCase();
      if (port !== undefined && !ports.has(vmKey)) ports.set(vmKey, port);
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ports;
}

/**
 * The port on which the VM or scale-set instance `computeId` expects the deprecated in-VM
 * managed-identity endpoint (`localhost:50342` by default), or undefined when it has no
 * `Microsoft.ManagedIdentity` `ManagedIdentityExtensionFor{Linux,Windows}` extension.
 *
 * - A VM (`Microsoft.Compute/virtualMachines`): its extension resources
 *   (`{vmId}/extensions/{name}`), first in id order.
 * - A scale-set instance (`{scaleSetId}/virtualMachines/{instanceId}`): the scale set's
 *   `properties.virtualMachineProfile.extensionProfile.extensions[]` entries
 *   (`{name, properties: {publisher, type, settings}}`), first in order.
 *
 * The port is `settings.port` or 50342 ({@link legacyExtensionPort}); an entry whose port is not
 * valid is passed over, since no shim can listen on it. Undefined too for an id that is neither a
 * stored VM nor a stored instance. Ids compare case-insensitively; store failures propagate.
 */
export async function legacyShimPort(store: Store, computeId: string): Promise<number | undefined> {
  const resource = await store.resources.get(computeId);
  if (resource === undefined) return undefined;
  if (isType(resource, VM_RESOURCE_TYPE)) return vmPort(store, resource.id);
  if (isType(resource, SCALE_SET_INSTANCE_TYPE)) return instancePort(store, resource.id);
  return undefined;
}
