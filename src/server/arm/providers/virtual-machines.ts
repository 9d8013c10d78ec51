// Microsoft.Compute/virtualMachines: create, update, read, list and delete VMs, with their identities and placement.
import { writeVm } from '../../../core/compute/index.js';
import type { Resource } from '../../../core/model.js';
import { VM_RESOURCE_TYPE } from '../../../core/resources/change-feed.js';
import {
  identityFormat,
  parseIdentity,
  parseVmProperties,
  patchVmProperties,
  refuseMove,
  renderVm,
  requiredLocation,
  tagsOf,
} from '../../../wire/arm/index.js';
import type { ArmResponse } from '../context.js';
import type { OperationContext, ResourceTypeDeclaration } from '../provider.js';
import { assignedOnce, findTracked, notFoundOf, putVersion } from '../tracked-operations.js';
import { holderDeclaration, type HolderWrite, writeHolder } from './compute-writes.js';

const VM = VM_RESOURCE_TYPE;

/**
 * PUT: creates the VM (201) or replaces it (200). `location` is required and may not change;
 * `properties` are recorded as sent (`properties.tessera` checked); a body without `identity`
 * leaves the identities as they are.
 */
function put(context: OperationContext): Promise<ArmResponse> {
  return context.writing(
    () => findTracked(context, VM),
    (existing) => {
      const body = context.body();
      const location = requiredLocation(body);
      refuseMove(existing, location, context.where.groupName);
      const tags = tagsOf(body) ?? {};
      const properties = parseVmProperties(body.properties);
      // A PUT from a client that knows nothing of Tessera's binding (an SDK's createOrUpdate, a
      // template redeployed) keeps the VM on its host; `"tessera": null` in a PATCH removes it.
      if (properties.tessera === undefined && existing?.properties.tessera !== undefined) {
        properties.tessera = existing.properties.tessera;
      }
      const format = identityFormat(context.apiVersion);
      const identity = parseIdentity(body.identity, { isPatch: false, format });
      const vm = putVersion(context, VM, existing, {
        location,
        tags,
        properties: { vmId: assignedOnce(context, existing, 'vmId'), ...properties },
      });
      return write(context, { holder: vm, existing, identity, isPatch: false });
    },
  );
}

/** PATCH: tags replaced when sent, `properties` merged (RFC 7396), identities merged. */
function patch(context: OperationContext): Promise<ArmResponse> {
  return context.writing(
    () => findTracked(context, VM),
    (existing) => {
      if (existing === undefined) throw notFoundOf(context, VM);
      const body = context.body();
      const tags = tagsOf(body) ?? existing.tags;
      const properties = patchVmProperties(existing.properties, body.properties);
      const format = identityFormat(context.apiVersion);
      const identity = parseIdentity(body.identity, { isPatch: true, format });
      const vm: Resource = {
        ...existing,
        tags,
        properties: { vmId: assignedOnce(context, existing, 'vmId'), ...properties },
        updatedAt: context.services.clock.now(),
      };
      return write(context, { holder: vm, existing, identity, isPatch: true });
    },
  );
}

/** Plans the identity change, then writes the VM and its identities in one transaction. */
function write(context: OperationContext, change: HolderWrite): Promise<ArmResponse> {
  const { services, where } = context;
  const { holder: vm, existing } = change;
  return writeHolder(context, virtualMachines, renderVm, change, async (plan) => {
    const { created, etag } = await writeVm(services, {
      vm,
      existing,
      plan,
      tenantId: where.tenantId,
    });
    return { created, written: { ...vm, etag } };
  });
}

/**
 * `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Compute/virtualMachines[/{name}]`
 * and the subscription's list. DELETE removes the VM, its extensions and its system-assigned
 * principal everywhere; user-assigned identities stay, their attachments go (204 when there was
 * no VM). Its host hears of every change through the change feed.
 */
export const virtualMachines: ResourceTypeDeclaration = holderDeclaration(VM, renderVm, {
  put: { run: put },
  patch: { run: patch },
});
