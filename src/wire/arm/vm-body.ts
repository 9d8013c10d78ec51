// VM request bodies read and VM resources rendered: properties, Tessera's host binding, identities.
import { isIP } from 'node:net';
import { type CurrentIdentity, canonicalPrivateAddress } from '../../core/compute/index.js';
import { isRecord } from '../../core/guards.js';
import type { Resource } from '../../core/model.js';
import { VM_RESOURCE_TYPE } from '../../core/resources/change-feed.js';
import { armError, invalidRequestContent } from './arm-errors.js';
import { renderComputeIdentity } from './compute-body.js';
import { envelopeHead } from './tracked-body.js';
import { armResource } from './envelope.js';
import type { IdentityFormat } from './identity.js';

/** The most private addresses one VM may list (Tessera's bound). */
export const MAX_PRIVATE_IPS = 64;

/** The longest host id accepted (Tessera's bound; host ids are GUIDs or short names). */
export const MAX_HOST_ID_LENGTH = 256;

// Read-only members of a VM's `properties`: a client echoing a GET sends them back; Tessera
// computes them, so what is sent is dropped.
const READ_ONLY_PROPERTIES = new Set(['vmid', 'provisioningstate']);

/**
 * Tessera's own member of a VM's `properties`, `properties.tessera`. It is how the agent
 * recognises the VM (DESIGN.md "How a VM is recognised"): the agent on host `hostId` maps a
 * metadata request's source address to the VM listing it in `privateIpAddresses`. A VM without
 * it exists in ARM but no agent answers for it.
 */
export interface TesseraVmProperties {
  /** The host (agent) the VM runs on. */
  readonly hostId?: string;
  /** The VM's private addresses on that host's bridge, IPv4 or IPv6, as given. */
  readonly privateIpAddresses?: readonly string[];
}

/**
 * Reads a request's `properties` (absent or `null` is `{}`). Members are kept as given
 * (hardwareProfile, storageProfile, osProfile … are recorded, not interpreted), except the
 * read-only `vmId` and `provisioningState`, which are dropped, and `tessera`, which is checked
 * with {@link parseTessera}. Anything but an object is `InvalidRequestContent` (400).
 */
export function parseVmProperties(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) {
    throw invalidRequestContent("The value of 'properties' must be a JSON object.");
  }
  const kept: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(value)) {
    if (READ_ONLY_PROPERTIES.has(name.toLowerCase())) continue;
    if (name === 'tessera') {
      const tessera = parseTessera(member);
      if (tessera !== undefined) kept[name] = tessera;
      continue;
    }
    kept[name] = member;
  }
  return kept;
}

/**
 * Checks `properties.tessera`: an object with an optional non-empty `hostId` string (at most
 * {@link MAX_HOST_ID_LENGTH} characters) and optional `privateIpAddresses`, an array of at most
 * {@link MAX_PRIVATE_IPS} IPv4 or IPv6 addresses (`node:net` `isIP`), no address twice in any
 * spelling ({@link canonicalPrivateAddress}). Other members are refused so a misspelt one cannot
 * silently leave a VM unrecognised. `null` is absent.
 * Errors: `InvalidParameter` (400) with the member as `target` (Tessera's texts).
 */
export function parseTessera(value: unknown): TesseraVmProperties | undefined {
  if (value === undefined || value === null) return undefined;
  const target = 'properties.tessera';
  if (!isRecord(value)) {
    throw armError('InvalidParameter', `The value of '${target}' must be a JSON object.`, {
      target,
    });
  }
  const unknown = Object.keys(value).filter(
    (name) => name !== 'hostId' && name !== 'privateIpAddresses',
  );
  if (unknown.length > 0) {
    throw armError(
      'InvalidParameter',
      `The member '${unknown.join("', '")}' of '${target}' is not known. Allowed members are 'hostId', 'privateIpAddresses'.`,
      { target },
    );
  }
  const { hostId, privateIpAddresses: ips } = value;
  if (
    hostId !== undefined &&
    hostId !== null &&
    (typeof hostId !== 'string' || hostId.trim() === '' || hostId.length > MAX_HOST_ID_LENGTH)
  ) {
    throw armError(
      'InvalidParameter',
      `The value of '${target}.hostId' must be a non-empty string of at most ${MAX_HOST_ID_LENGTH} characters.`,
      { target: `${target}.hostId` },
    );
  }
  if (ips !== undefined && ips !== null) checkAddresses(ips, `${target}.privateIpAddresses`);
  return {
    ...(typeof hostId === 'string' ? { hostId } : {}),
    ...(Array.isArray(ips) ? { privateIpAddresses: ips as string[] } : {}),
  };
}

function checkAddresses(ips: unknown, target: string): void {
  if (!Array.isArray(ips) || ips.length > MAX_PRIVATE_IPS) {
    throw armError(
      'InvalidParameter',
      `The value of '${target}' must be an array of at most ${MAX_PRIVATE_IPS} IP addresses.`,
      { target },
    );
  }
  const seen = new Set<string>();
  for (const ip of ips as unknown[]) {
    if (typeof ip !== 'string' || isIP(ip) === 0) {
      throw armError(
        'InvalidParameter',
        `The value '${typeof ip === 'string' ? ip : JSON.stringify(ip)}' in '${target}' is not an IPv4 or IPv6 address.`,
        { target },
      );
    }
    const key = canonicalPrivateAddress(ip);
    if (seen.has(key)) {
      throw armError('InvalidParameter', `The address '${ip}' is listed twice in '${target}'.`, {
        target,
      });
    }
    seen.add(key);
  }
}

/**
 * A PATCH's `properties` applied to the stored ones as a JSON merge patch (RFC 7396): objects
 * merge member by member, `null` removes, anything else replaces. The result is checked again
 * with {@link parseVmProperties}, so `tessera` is valid after the merge.
 */
export function patchVmProperties(
  stored: Readonly<Record<string, unknown>>,
  patch: unknown,
): Record<string, unknown> {
  if (patch === undefined || patch === null) return { ...stored };
  if (!isRecord(patch)) {
    throw invalidRequestContent("The value of 'properties' must be a JSON object.");
  }
  return parseVmProperties(mergePatch(stored, patch));
}

/**
 * `patch` applied to `target` as a JSON merge patch (RFC 7396): objects merge member by member,
 * `null` removes, anything else (arrays included) replaces. Neither argument is changed.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const result = new Map(Object.entries(isRecord(target) ? target : {}));
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) result.delete(name);
    else result.set(name, mergePatch(result.get(name), value));
  }
  return Object.fromEntries(result);
}

/**
 * A VM resource body: envelope, `identity` in the request's format (omitted when none) and the
 * properties as recorded plus `vmId` and `provisioningState` `Succeeded` (Tessera applies
 * changes synchronously).
 */
export function renderVm(
  vm: Resource,
  identity: CurrentIdentity,
  format: IdentityFormat,
): ReturnType<typeof armResource> {
  return armResource({
    ...envelopeHead(vm, VM_RESOURCE_TYPE),
    etag: vm.etag,
    identity: renderComputeIdentity(identity, format),
    properties: { ...vm.properties, provisioningState: 'Succeeded' },
  });
}
