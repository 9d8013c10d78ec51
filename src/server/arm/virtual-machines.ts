// Microsoft.Compute/virtualMachines on the ARM surface: create, update, read, list, delete, identities.
import { type AppError, methodNotAllowed } from '../../core/errors.js';
import type { Resource } from '../../core/model.js';
import { noteComputeChanged } from '../../core/resources/change-feed.js';
import { deleteResourceTree } from '../../core/resources/identity-lifecycle.js';
import {
  checkApiVersion,
  invalidResourceLocation,
  locationRequired,
  resourceNotFound,
  type IdentityFormat,
  identityFormat,
  parseIdentity,
  parseJsonObject,
  validateResourceName,
  validateTags,
} from '../../wire/arm/index.js';
import {
  type ArmHandler,
  type ArmRequest,
  type ArmResponse,
  type ArmServices,
  authorize,
  checkPreconditions,
  decodeSegments,
  isKeyword,
  retryOnConflict,
  type RouteMatcher,
} from './context.js';
import { listReadable } from './list.js';
import { checkPlacement, explainPlacement } from './placement.js';
import {
  type GroupLocation,
  groupNotFound,
  locateGroup,
  normaliseLocation,
} from './resource-groups.js';
import {
  parseVmProperties,
  patchVmProperties,
  renderSystemIdentity,
  renderVm,
  VM_TYPE,
} from './vm-body.js';
import {
  applyIdentity,
  type CurrentIdentity,
  keepIdentity,
  NO_CURRENT_IDENTITY,
  planIdentity,
  readVmIdentity,
} from './vm-identity.js';

const VM_READ = 'Microsoft.Compute/virtualMachines/read';
const VM_WRITE = 'Microsoft.Compute/virtualMachines/write';
const VM_DELETE = 'Microsoft.Compute/virtualMachines/delete';
const IDENTITY_READ = 'Microsoft.ManagedIdentity/identities/read';
const IDENTITIES = 'Microsoft.ManagedIdentity/identities';

/** Tessera's text: Azure's answer for a VM without a system-assigned identity is not captured. */
function systemIdentityNotFound(name: string, group: string): AppError {
  return resourceNotFound(`${VM_TYPE}/${name}/providers/${IDENTITIES}/default`, group);
}

async function getVm(services: ArmServices, id: string): Promise<Resource | undefined> {
  const found = await services.store.resources.get(id);
  return found?.type.toLowerCase() === VM_TYPE.toLowerCase() ? found : undefined;
}

/** `GET`, `PUT`, `PATCH` and `DELETE` of one VM. */
async function handleVm(
  services: ArmServices,
  request: ArmRequest,
  subscriptionId: string,
  groupName: string,
  name: string,
): Promise<ArmResponse> {
  const apiVersion = checkApiVersion(VM_TYPE, request.query);
  const format = identityFormat(apiVersion);
  const where = await locateGroup(services, subscriptionId, groupName);
  validateResourceName(VM_TYPE, name);
  const requestedId = `${where.groupId}/providers/${VM_TYPE}/${name}`;
  const action =
    request.method === 'PUT' || request.method === 'PATCH'
      ? VM_WRITE
      : request.method === 'DELETE'
        ? VM_DELETE
        : VM_READ;
  if (!['GET', 'PUT', 'PATCH', 'DELETE'].includes(request.method)) {
    throw methodNotAllowed(request.method);
  }
  await authorize(services, request, action, requestedId);
  if (!where.groupExists) throw groupNotFound(groupName);

  if (request.method === 'GET') {
    const existing = await getVm(services, requestedId);
    if (existing === undefined) throw resourceNotFound(`${VM_TYPE}/${name}`, groupName);
    const identity = await readVmIdentity(services.store, existing.id);
    return { status: 200, body: renderVm(existing, identity, format) };
  }
  // Writes read, check and write again until no concurrent write got in between.
  return retryOnConflict(async () => {
    const existing = await getVm(services, requestedId);
    checkPreconditions(request, existing);
    switch (request.method) {
      case 'PUT':
        return putVm(services, request, where, name, existing, format);
      case 'PATCH': {
        if (existing === undefined) throw resourceNotFound(`${VM_TYPE}/${name}`, groupName);
        return patchVm(services, request, where, existing, format);
      }
      default: {
        if (existing === undefined) return { status: 204 };
        // The system-assigned principal (found by the VM's id) goes everywhere; user-assigned
        // identities stay, their attachments to the VM go with it. The host hears of it.
        await services.store.transaction(async (tx) => {
          await tx.resources.put(existing, { ifMatch: existing.etag ?? null });
          await deleteResourceTree(tx, existing.id, services.clock.now());
        });
        return { status: 200 };
      }
    }
  });
}

async function putVm(
  services: ArmServices,
  request: ArmRequest,
  where: GroupLocation,
  name: string,
  existing: Resource | undefined,
  format: IdentityFormat,
): Promise<ArmResponse> {
  const body = parseJsonObject(request.body);
  const location = body.location;
  if (typeof location !== 'string' || location.trim() === '') throw locationRequired();
  const normalised = normaliseLocation(location);
  if (existing !== undefined && existing.location !== null && existing.location !== normalised) {
    throw invalidResourceLocation(
      existing.name,
      existing.location,
      where.groupName,
      normalised,
      409,
    );
  }
  const tags = body.tags === undefined || body.tags === null ? {} : validateTags(body.tags);
  const properties = parseVmProperties(body.properties);
  // A PUT from a client that knows nothing of Tessera's binding (an SDK's createOrUpdate, a
  // template redeployed) keeps the VM on its host; `"tessera": null` in a PATCH removes it.
  if (properties.tessera === undefined && existing?.properties.tessera !== undefined) {
    properties.tessera = existing.properties.tessera;
  }
  const identity = parseIdentity(body.identity, { isPatch: false, format });
  const now = services.clock.now();
  const vm: Resource = {
    id: existing?.id ?? `${where.groupId}/providers/${VM_TYPE}/${name}`,
    type: VM_TYPE,
    name: existing?.name ?? name,
    subscriptionId: where.subscriptionId,
    resourceGroup: where.groupName,
    location: existing?.location ?? normalised,
    tags,
    // vmId is assigned once, at creation, and never changes.
    properties: { vmId: vmIdOf(existing) ?? services.newId(), ...properties },
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  return write(services, request, where, vm, existing, identity, false, format);
}

async function patchVm(
  services: ArmServices,
  request: ArmRequest,
  where: GroupLocation,
  existing: Resource,
  format: IdentityFormat,
): Promise<ArmResponse> {
  const body = parseJsonObject(request.body);
  const tags =
    body.tags === undefined || body.tags === null ? existing.tags : validateTags(body.tags);
  const properties = patchVmProperties(existing.properties, body.properties);
  const identity = parseIdentity(body.identity, { isPatch: true, format });
  const vm: Resource = {
    ...existing,
    tags,
    properties: { vmId: vmIdOf(existing) ?? services.newId(), ...properties },
    updatedAt: services.clock.now(),
  };
  return write(services, request, where, vm, existing, identity, true, format);
}

/** Plans the identity change, then writes the VM and its identities in one transaction. */
async function write(
  services: ArmServices,
  request: ArmRequest,
  where: GroupLocation,
  vm: Resource,
  existing: Resource | undefined,
  identity: ReturnType<typeof parseIdentity>,
  isPatch: boolean,
  format: IdentityFormat,
): Promise<ArmResponse> {
  const current: CurrentIdentity =
    existing === undefined ? NO_CURRENT_IDENTITY : await readVmIdentity(services.store, vm.id);
  // A body without `identity` leaves the identities as they are, on PUT too (see compatibility.md).
  const plan =
    identity === undefined
      ? keepIdentity(current)
      : await planIdentity(services, request, vm.id, current, identity, isPatch);
  const { created, etag } = await explainPlacement(services, request, () =>
    services.store.transaction(async (tx) => {
      // Both hosts hear of a move; the VM's host hears of any identity change. Recorded first:
      // the feed holds other compute writes back from here to commit, so the check is race-free.
      await noteComputeChanged(tx, vm.updatedAt, [existing, vm]);
      await checkPlacement(tx, vm, existing);
      const result = await tx.resources.put(vm, { ifMatch: existing?.etag ?? null });
      await applyIdentity(tx, services, vm, plan, where.tenantId);
      return result;
    }),
  );
  const after = await readVmIdentity(services.store, vm.id);
  return { status: created ? 201 : 200, body: renderVm({ ...vm, etag }, after, format) };
}

function vmIdOf(vm: Resource | undefined): string | undefined {
  const vmId = vm?.properties.vmId;
  return typeof vmId === 'string' ? vmId : undefined;
}

/** `GET …/virtualMachines` of a group, or of a subscription when `groupName` is undefined. */
async function listVms(
  services: ArmServices,
  request: ArmRequest,
  subscriptionId: string,
  groupName: string | undefined,
): Promise<ArmResponse> {
  const apiVersion = checkApiVersion(VM_TYPE, request.query);
  const format = identityFormat(apiVersion);
  const where = await locateGroup(services, subscriptionId, groupName);
  if (groupName !== undefined && !where.groupExists) throw groupNotFound(groupName);
  return listReadable(
    services,
    request,
    {
      subscriptionId: where.subscriptionId,
      type: VM_TYPE,
      ...(groupName === undefined ? {} : { resourceGroup: where.groupName }),
    },
    VM_READ,
    (vm) =>
      readVmIdentity(services.store, vm.id).then((identity) => renderVm(vm, identity, format)),
  );
}

/** `GET {vm}/providers/Microsoft.ManagedIdentity/identities/default`. */
async function getSystemIdentity(
  services: ArmServices,
  request: ArmRequest,
  subscriptionId: string,
  groupName: string,
  name: string,
): Promise<ArmResponse> {
  checkApiVersion(IDENTITIES, request.query);
  if (request.method !== 'GET') {
    throw methodNotAllowed(request.method);
  }
  const where = await locateGroup(services, subscriptionId, groupName);
  validateResourceName(VM_TYPE, name);
  const vmId = `${where.groupId}/providers/${VM_TYPE}/${name}`;
  await authorize(services, request, IDENTITY_READ, `${vmId}/providers/${IDENTITIES}/default`);
  if (!where.groupExists) throw groupNotFound(groupName);
  const vm = await getVm(services, vmId);
  if (vm === undefined) throw resourceNotFound(`${VM_TYPE}/${name}`, groupName);
  const { system } = await readVmIdentity(services.store, vm.id);
  if (system === undefined) throw systemIdentityNotFound(name, groupName);
  return { status: 200, body: renderSystemIdentity(vm, system) };
}

/**
 * `/subscriptions/{s}/providers/Microsoft.Compute/virtualMachines`,
 * `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Compute/virtualMachines[/{name}]`
 * and `…/virtualMachines/{name}/providers/Microsoft.ManagedIdentity/identities/default`.
 */
export const matchVirtualMachines: RouteMatcher = (segments) => {
  const decoded = decodeSegments(segments);
  if (decoded === undefined) return undefined;
  const [first, sub, third] = decoded;
  if (!isKeyword(first, 'subscriptions') || sub === undefined) return undefined;
  const vmType = (offset: number): boolean =>
    isKeyword(decoded[offset], 'providers') &&
    isKeyword(decoded[offset + 1], 'Microsoft.Compute') &&
    isKeyword(decoded[offset + 2], 'virtualMachines');
  if (decoded.length === 5 && vmType(2)) {
    return (s, r) => listVms(s, r, sub, undefined);
  }
  const group = decoded[3];
  if (!isKeyword(third, 'resourceGroups') || group === undefined || !vmType(4)) return undefined;
  if (decoded.length === 7) return (s, r) => listVms(s, r, sub, group);
  const name = decoded[7];
  if (name === undefined) return undefined;
  let handler: ArmHandler | undefined;
  if (decoded.length === 8) handler = (s, r) => handleVm(s, r, sub, group, name);
  if (
    decoded.length === 12 &&
    isKeyword(decoded[8], 'providers') &&
    isKeyword(decoded[9], 'Microsoft.ManagedIdentity') &&
    isKeyword(decoded[10], 'identities') &&
    isKeyword(decoded[11], 'default')
  ) {
    handler = (s, r) => getSystemIdentity(s, r, sub, group, name);
  }
  return handler;
};
