// Microsoft.Compute/virtualMachines/extensions: recorded, never run; the deprecated identity extension flagged.
import { getTyped, recordExtension, removeExtension } from '../../../core/compute/index.js';
import type { Resource } from '../../../core/model.js';
import type { Store } from '../../../core/ports.js';
import { VM_RESOURCE_TYPE } from '../../../core/resources/change-feed.js';
import { legacyExtensionWarningHeader } from '../../../core/resources/legacy-extension.js';
import { VM_EXTENSION_RESOURCE_TYPE } from '../../../core/resources/legacy-shim.js';
import {
  checkExtensionProperties,
  extensionPropertiesAfter,
  parseExtensionRequest,
  renderExtension,
  validateExtensionName,
  versionsOf,
} from '../../../wire/arm/index.js';
import type { ArmResponse } from '../context.js';
import { actionOf, type OperationContext, type ResourceTypeDeclaration } from '../provider.js';
import { notFoundOf, storedIdOf } from '../tracked-operations.js';

const VM = VM_RESOURCE_TYPE;
const EXTENSION = VM_EXTENSION_RESOURCE_TYPE;

/** How many extensions one store read returns while listing. */
const BATCH = 500;

/** The VM the path names, read in `store` (a transaction's): `ResourceNotFound` naming it if none. */
async function requireVm(context: OperationContext, store: Store): Promise<Resource> {
  const vm = await getTyped(store, storedIdOf(context, VM, 1), VM);
  if (vm === undefined) throw notFoundOf(context, VM, 1);
  return vm;
}

/** The extension the path names, under `vm` as stored. */
const findExtension = (context: OperationContext, store: Store, vm: Resource) =>
  getTyped(store, `${vm.id}/extensions/${context.name}`, EXTENSION);

/** GET: the VM (`ResourceNotFound` naming it), then the extension. */
async function read(context: OperationContext): Promise<ArmResponse> {
  const { store } = context.services;
  const extension = await findExtension(context, store, await requireVm(context, store));
  if (extension === undefined) throw notFoundOf(context, EXTENSION);
  return { status: 200, body: renderExtension(extension) };
}

/**
 * PUT (create 201, replace 200) and PATCH (merge, 200; `ResourceNotFound` when absent). The VM is
 * read again in the write's transaction, and core writes the extension under `If-Match` on what
 * was read, records the change for the VM's host and, for the deprecated managed-identity
 * extension, an audit event; the answer then carries the `Warning` header.
 */
function write(context: OperationContext): Promise<ArmResponse> {
  const { services } = context;
  const sent = parseExtensionRequest(context.body(), context.request.method === 'PATCH');
  return context.writing(
    async () => findExtension(context, services.store, await requireVm(context, services.store)),
    (existing) =>
      services.store.transaction(async (tx) => {
        const vm = await requireVm(context, tx);
        if (sent.isPatch && existing === undefined) throw notFoundOf(context, EXTENSION);
        const properties = extensionPropertiesAfter(sent, existing?.properties);
        const { legacyPort } = checkExtensionProperties(properties);
        const now = services.clock.now();
        const extension: Resource = {
          id: existing?.id ?? `${vm.id}/extensions/${context.name}`,
          type: EXTENSION,
          name: existing?.name ?? context.name,
          subscriptionId: vm.subscriptionId,
          resourceGroup: vm.resourceGroup,
          location: sent.location ?? existing?.location ?? vm.location,
          tags: sent.tags ?? (sent.isPatch ? (existing?.tags ?? {}) : {}),
          properties,
          createdAt: existing?.createdAt ?? now,
          updatedAt: now,
        };
        const created = await recordExtension(tx, services, {
          vm,
          extension,
          existing,
          legacyPort,
          principalId: context.request.caller.objectId,
        });
        return {
          status: created ? 201 : 200,
          body: renderExtension(extension),
          ...(legacyPort === undefined
            ? {}
            : { headers: { warning: legacyExtensionWarningHeader() } }),
        };
      }),
  );
}

/** DELETE: 200 and a change recorded for the VM's host, or 204 when there was no extension. */
function remove(context: OperationContext): Promise<ArmResponse> {
  const { services } = context;
  return context.writing(
    async () => findExtension(context, services.store, await requireVm(context, services.store)),
    async (existing) => {
      if (existing === undefined) return { status: 204 };
      await services.store.transaction(async (tx) => {
        await removeExtension(tx, services, await requireVm(context, tx), existing);
      });
      return { status: 200 };
    },
  );
}

/**
 * The list: every extension of the VM the caller may read, as VirtualMachineExtensionsListResult
 * `{"value": […]}` (one page, no `nextLink`, as Compute answers).
 */
async function list(context: OperationContext): Promise<ArmResponse> {
  const { store, rbac } = context.services;
  const vm = await requireVm(context, store);
  const action = actionOf(vmExtensions, 'read');
  const value: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.resources.listUnder(vm.id, { limit: BATCH, cursor });
    for (const resource of page.items) {
      if (resource.type.toLowerCase() !== EXTENSION.toLowerCase()) continue;
      const { allowed } = await rbac.check({
        principalId: context.request.caller.objectId,
        action,
        scope: resource.id,
      });
      if (allowed) value.push(renderExtension(resource));
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return { status: 200, body: { value } };
}

/**
 * `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Compute/virtualMachines/{vm}/extensions[/{name}]`
 * (PROTOCOL.md 4.4): `ResourceNotFound` names the VM, then the extension. Names follow
 * Tessera's rule (`validateExtensionName`).
 */
export const vmExtensions: ResourceTypeDeclaration = {
  type: EXTENSION,
  apiVersions: versionsOf(EXTENSION),
  placement: ['resourceGroup'],
  validateName: validateExtensionName,
  capabilities: 'SupportsTags, SupportsLocation',
  operations: {
    read: { run: read },
    list: { run: list },
    put: { run: write },
    patch: { run: write },
    delete: { run: remove },
  },
};
