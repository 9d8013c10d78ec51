// Microsoft.Compute/virtualMachines/extensions on the ARM surface: recorded, never run; legacy one flagged.
import { type AppError, methodNotAllowed } from '../../core/errors.js';
import type { AuditEvent, Resource } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import { noteComputeChanged } from '../../core/resources/change-feed.js';
import { deleteResourceTree } from '../../core/resources/identity-lifecycle.js';
import {
  LEGACY_EXTENSION_AUDIT_KIND,
  legacyExtensionWarningHeader,
} from '../../core/resources/legacy-extension.js';
import {
  checkApiVersion,
  invalidRequestContent,
  parseJsonObject,
  resourceNotFound,
  validateResourceGroupName,
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
import { normaliseLocation, requireGroup, requireSubscription } from './resource-groups.js';
import {
  checkExtensionProperties,
  EXTENSION_TYPE,
  parseExtensionProperties,
  patchExtensionProperties,
  renderExtension,
  validateExtensionName,
} from './vm-extension-body.js';
import { VM_TYPE } from './vm-body.js';

const EXTENSION_READ = 'Microsoft.Compute/virtualMachines/extensions/read';
const EXTENSION_WRITE = 'Microsoft.Compute/virtualMachines/extensions/write';
const EXTENSION_DELETE = 'Microsoft.Compute/virtualMachines/extensions/delete';

/** The action each method needs at the extension's id. */
const ACTIONS: Readonly<Record<string, string | undefined>> = {
  GET: EXTENSION_READ,
  PUT: EXTENSION_WRITE,
  PATCH: EXTENSION_WRITE,
  DELETE: EXTENSION_DELETE,
};

/** How many extensions one store read returns while listing. */
const BATCH = 500;

/** The parent VM's part of a request path: subscription, group and VM name as sent. */
interface ExtensionPath {
  readonly subscriptionId: string;
  readonly group: string;
  readonly vm: string;
}

const isType = (resource: Resource | undefined, type: string): resource is Resource =>
  resource?.type.toLowerCase() === type.toLowerCase();

/** The parent VM, read in `store` (a transaction's): `ResourceNotFound` naming the VM if none. */
async function requireVm(store: Store, sub: Resource, path: ExtensionPath): Promise<Resource> {
  const group = await requireGroup(store, sub, path.group);
  const vm = await store.resources.get(`${group.id}/providers/${VM_TYPE}/${path.vm}`);
  if (!isType(vm, VM_TYPE)) throw resourceNotFound(`${VM_TYPE}/${path.vm}`, path.group);
  return vm;
}

async function getExtension(store: Store, id: string): Promise<Resource | undefined> {
  const found = await store.resources.get(id);
  return isType(found, EXTENSION_TYPE) ? found : undefined;
}

/** Checks the parts of the path and the caller's right, in the order the VM routes use. */
async function admit(
  services: ArmServices,
  request: ArmRequest,
  path: ExtensionPath,
  action: string,
  name: string | undefined,
): Promise<Resource> {
  const sub = await requireSubscription(services, path.subscriptionId);
  validateResourceGroupName(path.group);
  validateResourceName(VM_TYPE, path.vm);
  if (name !== undefined) validateExtensionName(name);
  const vmId = `${sub.id}/resourceGroups/${path.group}/providers/${VM_TYPE}/${path.vm}`;
  // A list is filtered per extension instead (as every list is), so it needs no right here.
  if (name !== undefined) await authorize(services, request, action, `${vmId}/extensions/${name}`);
  // ResourceGroupNotFound comes before the VM's ResourceNotFound, as on the VM routes.
  await requireGroup(services.store, sub, path.group);
  return sub;
}

/** `GET`, `PUT`, `PATCH` and `DELETE` of `…/virtualMachines/{vm}/extensions/{name}`. */
async function handleExtension(
  services: ArmServices,
  request: ArmRequest,
  path: ExtensionPath,
  name: string,
): Promise<ArmResponse> {
  checkApiVersion(EXTENSION_TYPE, request.query);
  const action = ACTIONS[request.method];
  if (action === undefined) throw methodNotAllowed(request.method);
  const sub = await admit(services, request, path, action, name);
  switch (request.method) {
    case 'GET': {
      const vm = await requireVm(services.store, sub, path);
      const extension = await getExtension(services.store, `${vm.id}/extensions/${name}`);
      if (extension === undefined) throw extensionNotFound(path, name);
      return { status: 200, body: renderExtension(extension) };
    }
    case 'PUT':
    case 'PATCH':
      return writeExtension(services, request, sub, path, name);
    default:
      return deleteExtension(services, request, sub, path, name);
  }
}

/** Tessera's text in ARM's `ResourceNotFound` form (Compute's own answer is not captured). */
function extensionNotFound(path: ExtensionPath, name: string): AppError {
  return resourceNotFound(`${VM_TYPE}/${path.vm}/extensions/${name}`, path.group);
}

/** What a request body asks for, read once before the write is attempted. */
interface ExtensionRequest {
  readonly isPatch: boolean;
  readonly location: string | undefined;
  readonly tags: Record<string, string> | undefined;
  readonly properties: unknown;
}

function readBody(request: ArmRequest): ExtensionRequest {
  const body = parseJsonObject(request.body);
  const isPatch = request.method === 'PATCH';
  let location: string | undefined;
  // VirtualMachineExtensionUpdate has no location: a PATCH ignores it, as the VM routes do.
  if (!isPatch && body.location !== undefined && body.location !== null) {
    if (typeof body.location !== 'string') {
      throw invalidRequestContent("The value of 'location' must be a string.");
    }
    if (body.location.trim() !== '') location = normaliseLocation(body.location);
  }
  const tags = body.tags === undefined || body.tags === null ? undefined : validateTags(body.tags);
  return { isPatch, location, tags, properties: body.properties };
}

/**
 * PUT (create 201, replace 200) and PATCH (merge, 200; `ResourceNotFound` when absent). One
 * transaction writes the extension under `If-Match` on what was read, records the change for the
 * VM's host, and, for the deprecated managed-identity extension, an audit event; the response
 * then carries the `Warning` header.
 */
async function writeExtension(
  services: ArmServices,
  request: ArmRequest,
  sub: Resource,
  path: ExtensionPath,
  name: string,
): Promise<ArmResponse> {
  const sent = readBody(request);
  return retryOnConflict(() =>
    services.store.transaction(async (tx) => {
      const vm = await requireVm(tx, sub, path);
      const existing = await getExtension(tx, `${vm.id}/extensions/${name}`);
      checkPreconditions(request, existing);
      if (sent.isPatch && existing === undefined) throw extensionNotFound(path, name);
      const properties =
        sent.isPatch && existing !== undefined
          ? patchExtensionProperties(existing.properties, sent.properties)
          : parseExtensionProperties(sent.properties);
      const { legacyPort } = checkExtensionProperties(properties);
      const now = services.clock.now();
      const extension: Resource = {
        id: existing?.id ?? `${vm.id}/extensions/${name}`,
        type: EXTENSION_TYPE,
        name: existing?.name ?? name,
        subscriptionId: vm.subscriptionId,
        resourceGroup: vm.resourceGroup,
        location: sent.location ?? existing?.location ?? vm.location,
        tags: sent.tags ?? (sent.isPatch ? (existing?.tags ?? {}) : {}),
        properties,
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      };
      const { created } = await tx.resources.put(extension, { ifMatch: existing?.etag ?? null });
      if (legacyPort !== undefined) {
        await tx.audit.append(legacyAudit(services, request, extension, legacyPort, now));
      }
      await noteComputeChanged(tx, now, [vm]);
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

/** The audit record of a write of the deprecated extension (who, which, which port). */
function legacyAudit(
  services: ArmServices,
  request: ArmRequest,
  extension: Resource,
  port: number,
  at: number,
): AuditEvent {
  return {
    id: services.newId(),
    at,
    kind: LEGACY_EXTENSION_AUDIT_KIND,
    outcome: 'recorded',
    tenantId: null,
    principalId: request.caller.objectId,
    resource: extension.id,
    vmId: null,
    hostId: null,
    tokenId: null,
    reason: null,
    details: { publisher: extension.properties.publisher, type: extension.properties.type, port },
  };
}

/** DELETE: 200 and a change recorded for the VM's host, or 204 when there was no extension. */
async function deleteExtension(
  services: ArmServices,
  request: ArmRequest,
  sub: Resource,
  path: ExtensionPath,
  name: string,
): Promise<ArmResponse> {
  return services.store.transaction(async (tx) => {
    const vm = await requireVm(tx, sub, path);
    const existing = await getExtension(tx, `${vm.id}/extensions/${name}`);
    checkPreconditions(request, existing);
    if (existing === undefined) return { status: 204 };
    const now = services.clock.now();
    await deleteResourceTree(tx, existing.id, now);
    await noteComputeChanged(tx, now, [vm]);
    return { status: 200 };
  });
}

/**
 * `GET …/virtualMachines/{vm}/extensions`: every extension of the VM the caller may read, as
 * VirtualMachineExtensionsListResult `{"value": […]}` (one page, no `nextLink`, as Compute answers).
 */
async function listExtensions(
  services: ArmServices,
  request: ArmRequest,
  path: ExtensionPath,
): Promise<ArmResponse> {
  checkApiVersion(EXTENSION_TYPE, request.query);
  if (request.method !== 'GET') throw methodNotAllowed(request.method);
  const sub = await admit(services, request, path, EXTENSION_READ, undefined);
  const vm = await requireVm(services.store, sub, path);
  const value: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await services.store.resources.listUnder(vm.id, { limit: BATCH, cursor });
    for (const resource of page.items) {
      if (!isType(resource, EXTENSION_TYPE)) continue;
      const { allowed } = await services.rbac.check({
        principalId: request.caller.objectId,
        action: EXTENSION_READ,
        scope: resource.id,
      });
      if (allowed) value.push(renderExtension(resource));
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return { status: 200, body: { value } };
}

/**
 * `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Compute/virtualMachines/{vm}/extensions`
 * (list) and `…/extensions/{name}` (PROTOCOL.md 4.4). Errors in ARM's dialect:
 * `MissingApiVersionParameter`, `NoRegisteredProviderFound`, `SubscriptionNotFound`,
 * `InvalidResourceGroup`, `InvalidResourceName`, `AuthorizationFailed`, `ResourceGroupNotFound`,
 * `ResourceNotFound` (the VM, then the extension), `InvalidRequestContent`, `InvalidParameter`,
 * `PreconditionFailed`.
 */
export const matchVmExtensions: RouteMatcher = (segments) => {
  const decoded = decodeSegments(segments);
  if (decoded === undefined || (decoded.length !== 9 && decoded.length !== 10)) return undefined;
  const [first, subscriptionId, third, group, providers, namespace, type, vm, extensions, name] =
    decoded;
  if (
    !isKeyword(first, 'subscriptions') ||
    !isKeyword(third, 'resourceGroups') ||
    !isKeyword(providers, 'providers') ||
    !isKeyword(namespace, 'Microsoft.Compute') ||
    !isKeyword(type, 'virtualMachines') ||
    !isKeyword(extensions, 'extensions') ||
    subscriptionId === undefined ||
    group === undefined ||
    vm === undefined
  ) {
    return undefined;
  }
  const path: ExtensionPath = { subscriptionId, group, vm };
  const handler: ArmHandler =
    name === undefined
      ? (s, r) => listExtensions(s, r, path)
      : (s, r) => handleExtension(s, r, path, name);
  return handler;
};
