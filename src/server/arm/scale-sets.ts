// Microsoft.Compute/virtualMachineScaleSets on the ARM surface: create, update, read, list, delete, identities, capacity.
import { methodNotAllowed } from '../../core/errors.js';
import type { AuditEvent, Resource } from '../../core/model.js';
import { deleteResourceTree } from '../../core/resources/identity-lifecycle.js';
import {
  LEGACY_EXTENSION_AUDIT_KIND,
  legacyExtensionWarningHeader,
} from '../../core/resources/legacy-extension.js';
import {
  checkApiVersion,
  type IdentityFormat,
  type IdentityRequest,
  identityFormat,
  invalidResourceLocation,
  locationRequired,
  parseIdentity,
  parseJsonObject,
  validateResourceName,
  validateTags,
} from '../../wire/arm/index.js';
import {
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
import { normaliseLocation } from './resource-groups.js';
import {
  getScaleSet,
  type LegacyExtensionEntry,
  locateScaleSet,
  parseScaleSetProperties,
  parseSku,
  publicProperties,
  renderScaleSet,
  requireGroupExists,
  SCALE_SET_TYPE,
  type ScaleSetSku,
  type ScaleSetWhere,
  scaleSetNotFound,
  scaleSetState,
  withState,
} from './scale-set-body.js';
import { applyResize, handleInstances, planResize, readInstances } from './scale-set-instances.js';
import { mergePatch } from './vm-body.js';
import {
  applyIdentity,
  type CurrentIdentity,
  keepIdentity,
  NO_CURRENT_IDENTITY,
  planIdentity,
  readVmIdentity,
} from './vm-identity.js';

const READ = 'Microsoft.Compute/virtualMachineScaleSets/read';
const WRITE = 'Microsoft.Compute/virtualMachineScaleSets/write';
const DELETE = 'Microsoft.Compute/virtualMachineScaleSets/delete';
const ACTIONS = new Map([
  ['GET', READ],
  ['PUT', WRITE],
  ['PATCH', WRITE],
  ['DELETE', DELETE],
]);

/** One scale-set write, read and checked from the request, ready to commit. */
interface ScaleSetChange {
  /** The new version without Tessera's state (added when the instances are known). */
  readonly base: Resource;
  readonly existing: Resource | undefined;
  readonly sku: ScaleSetSku;
  readonly identity: IdentityRequest | undefined;
  readonly isPatch: boolean;
  readonly legacy: readonly LegacyExtensionEntry[];
  readonly format: IdentityFormat;
}

/** `GET`, `PUT`, `PATCH` and `DELETE` of one scale set. */
async function handleScaleSet(
  services: ArmServices,
  request: ArmRequest,
  subscriptionId: string,
  groupName: string,
  name: string,
): Promise<ArmResponse> {
  const format = identityFormat(checkApiVersion(SCALE_SET_TYPE, request.query));
  const where = await locateScaleSet(services, subscriptionId, groupName);
  validateResourceName(SCALE_SET_TYPE, name);
  const id = `${where.groupId}/providers/${SCALE_SET_TYPE}/${name}`;
  const action = ACTIONS.get(request.method);
  if (action === undefined) throw methodNotAllowed(request.method);
  await authorize(services, request, action, id);
  requireGroupExists(where, groupName);
  switch (request.method) {
    case 'GET': {
      const found = await getScaleSet(services, id);
      if (found === undefined) throw scaleSetNotFound(name, groupName);
      const identity = await readVmIdentity(services.store, found.id);
      return { status: 200, body: renderScaleSet(found, identity, format) };
    }
    case 'PUT':
      return putScaleSet(services, request, where, id, name, format);
    case 'PATCH':
      return patchScaleSet(services, request, where, id, name, format);
    default:
      return deleteScaleSet(services, request, id);
  }
}

async function putScaleSet(
  services: ArmServices,
  request: ArmRequest,
  where: ScaleSetWhere,
  id: string,
  name: string,
  format: IdentityFormat,
): Promise<ArmResponse> {
  const body = parseJsonObject(request.body);
  if (typeof body.location !== 'string' || body.location.trim() === '') throw locationRequired();
  const location = normaliseLocation(body.location);
  const tags = body.tags === undefined || body.tags === null ? {} : validateTags(body.tags);
  const sku = parseSku(body.sku);
  const { properties, legacy } = parseScaleSetProperties(body.properties);
  const identity = parseIdentity(body.identity, { isPatch: false, format });
  return retryOnConflict(async () => {
    const existing = await getScaleSet(services, id);
    checkPreconditions(request, existing);
    if (existing !== undefined && existing.location !== null && existing.location !== location) {
      throw invalidResourceLocation(
        existing.name,
        existing.location,
        where.groupName,
        location,
        409,
      );
    }
    const current = existing === undefined ? undefined : scaleSetState(existing).sku;
    const now = services.clock.now();
    const base: Resource = {
      id: existing?.id ?? id,
      type: SCALE_SET_TYPE,
      name: existing?.name ?? name,
      subscriptionId: where.subscriptionId,
      resourceGroup: where.groupName,
      location: existing?.location ?? location,
      tags,
      // uniqueId is assigned once, at creation, like a VM's vmId.
      properties: { uniqueId: uniqueIdOf(existing) ?? services.newId(), ...properties },
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    // A PUT without `sku` (or without `sku.capacity`) keeps the instances it has.
    const nextSku: ScaleSetSku =
      sku === undefined
        ? (current ?? { capacity: 0 })
        : { ...sku, capacity: sku.capacity ?? current?.capacity ?? 0 };
    return commit(services, request, where, {
      base,
      existing,
      sku: nextSku,
      identity,
      isPatch: false,
      legacy,
      format,
    });
  });
}

async function patchScaleSet(
  services: ArmServices,
  request: ArmRequest,
  where: ScaleSetWhere,
  id: string,
  name: string,
  format: IdentityFormat,
): Promise<ArmResponse> {
  const body = parseJsonObject(request.body);
  const tags = body.tags === undefined || body.tags === null ? undefined : validateTags(body.tags);
  const sku = parseSku(body.sku);
  // Checks the patch itself (types, secrets, legacy ports); arrays in a merge patch replace
  // whole, so the extensions it lists are the ones the scale set will have.
  const { legacy } = parseScaleSetProperties(body.properties);
  const identity = parseIdentity(body.identity, { isPatch: true, format });
  return retryOnConflict(async () => {
    const existing = await getScaleSet(services, id);
    checkPreconditions(request, existing);
    if (existing === undefined) throw scaleSetNotFound(name, where.groupName);
    const current = scaleSetState(existing).sku;
    const stored = publicProperties(existing);
    const properties =
      body.properties === undefined || body.properties === null
        ? stored
        : {
            uniqueId: uniqueIdOf(existing) ?? services.newId(),
            ...parseScaleSetProperties(mergePatch(stored, body.properties)).properties,
          };
    const base: Resource = {
      ...existing,
      tags: tags ?? existing.tags,
      properties,
      updatedAt: services.clock.now(),
    };
    const nextSku: ScaleSetSku = {
      ...current,
      ...(sku?.name === undefined ? {} : { name: sku.name }),
      ...(sku?.tier === undefined ? {} : { tier: sku.tier }),
      capacity: sku?.capacity ?? current.capacity,
    };
    return commit(services, request, where, {
      base,
      existing,
      sku: nextSku,
      identity,
      isPatch: true,
      legacy,
      format,
    });
  });
}

/**
 * Plans the identity change, then, in one transaction: writes the scale set (only if it is still
 * the version read), its identities, its instances at the new capacity, the change-feed entries
 * and an audit event per deprecated extension. A lost race throws the store's
 * `PreconditionFailed`, which {@link retryOnConflict} answers by starting over.
 */
async function commit(
  services: ArmServices,
  request: ArmRequest,
  where: ScaleSetWhere,
  change: ScaleSetChange,
): Promise<ArmResponse> {
  const { base, existing } = change;
  const current: CurrentIdentity =
    existing === undefined ? NO_CURRENT_IDENTITY : await readVmIdentity(services.store, base.id);
  let plan = keepIdentity(current);
  if (change.identity !== undefined) {
    plan = await planIdentity(
      services,
      request,
      base.id,
      current,
      change.identity,
      change.isPatch,
      WRITE,
    );
  }
  const now = base.updatedAt;
  const { created, written } = await services.store.transaction(async (tx) => {
    const instances = existing === undefined ? [] : await readInstances(tx, existing.id);
    const counter = existing === undefined ? 0 : scaleSetState(existing).nextInstanceId;
    const resize = planResize(instances, change.sku.capacity, counter);
    const next = withState(base, { sku: change.sku, nextInstanceId: resize.nextInstanceId });
    const result = await tx.resources.put(next, { ifMatch: existing?.etag ?? null });
    await applyIdentity(tx, services, next, plan, where.tenantId);
    await applyResize(tx, services, next, resize, [existing, next], now);
    for (const entry of change.legacy) {
      await tx.audit.append(legacyAudit(services, request, next.id, entry, now));
    }
    return { created: result.created, written: { ...next, etag: result.etag } };
  });
  const identity = await readVmIdentity(services.store, written.id);
  return {
    status: created ? 201 : 200,
    body: renderScaleSet(written, identity, change.format),
    ...(change.legacy.length === 0 ? {} : { headers: { warning: legacyExtensionWarningHeader() } }),
  };
}

function legacyAudit(
  services: ArmServices,
  request: ArmRequest,
  scaleSetId: string,
  entry: LegacyExtensionEntry,
  at: number,
): AuditEvent {
  return {
    id: services.newId(),
    at,
    kind: LEGACY_EXTENSION_AUDIT_KIND,
    outcome: 'recorded',
    tenantId: null,
    principalId: request.caller.objectId,
    resource: scaleSetId,
    vmId: null,
    hostId: null,
    tokenId: null,
    reason: null,
    details: { publisher: entry.publisher, type: entry.type, port: entry.port },
  };
}

/**
 * `DELETE`: the scale set, its instances and what is under them go; its system-assigned
 * principal goes everywhere; user-assigned identities stay, their attachments go.
 */
async function deleteScaleSet(
  services: ArmServices,
  request: ArmRequest,
  id: string,
): Promise<ArmResponse> {
  return retryOnConflict(async () => {
    const existing = await getScaleSet(services, id);
    checkPreconditions(request, existing);
    if (existing === undefined) return { status: 204 };
    const now = services.clock.now();
    await services.store.transaction(async (tx) => {
      // Writing it back unchanged, only if it is the version read, orders this delete after
      // any instance write in flight (instance writes check the scale set's etag too).
      await tx.resources.put(existing, { ifMatch: existing.etag ?? null });
      await deleteResourceTree(tx, existing.id, now);
    });
    return { status: 200 };
  });
}

function uniqueIdOf(scaleSet: Resource | undefined): string | undefined {
  const uniqueId = scaleSet?.properties.uniqueId;
  return typeof uniqueId === 'string' ? uniqueId : undefined;
}

/** `GET …/virtualMachineScaleSets` of a group, or of a subscription when `groupName` is undefined. */
async function listScaleSets(
  services: ArmServices,
  request: ArmRequest,
  subscriptionId: string,
  groupName: string | undefined,
): Promise<ArmResponse> {
  const format = identityFormat(checkApiVersion(SCALE_SET_TYPE, request.query));
  if (request.method !== 'GET') throw methodNotAllowed(request.method);
  const where = await locateScaleSet(services, subscriptionId, groupName);
  if (groupName !== undefined) requireGroupExists(where, groupName);
  return listReadable(
    services,
    request,
    {
      subscriptionId: where.subscriptionId,
      type: SCALE_SET_TYPE,
      ...(groupName === undefined ? {} : { resourceGroup: where.groupName }),
    },
    READ,
    async (scaleSet) =>
      renderScaleSet(scaleSet, await readVmIdentity(services.store, scaleSet.id), format),
  );
}

/**
 * `/subscriptions/{s}/providers/Microsoft.Compute/virtualMachineScaleSets`,
 * `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Compute/virtualMachineScaleSets[/{name}]`
 * and `…/virtualMachineScaleSets/{name}/virtualMachines[/{instanceId}]`. Other paths under a
 * scale set (extensions) are left to other modules.
 */
export const matchScaleSets: RouteMatcher = (segments) => {
  const decoded = decodeSegments(segments);
  if (decoded === undefined) return undefined;
  const [first, sub, third, group] = decoded;
  if (!isKeyword(first, 'subscriptions') || sub === undefined) return undefined;
  const scaleSetType = (offset: number): boolean =>
    isKeyword(decoded[offset], 'providers') &&
    isKeyword(decoded[offset + 1], 'Microsoft.Compute') &&
    isKeyword(decoded[offset + 2], 'virtualMachineScaleSets');
  if (decoded.length === 5 && scaleSetType(2)) {
    return (s, r) => listScaleSets(s, r, sub, undefined);
  }
  if (!isKeyword(third, 'resourceGroups') || group === undefined || !scaleSetType(4)) {
    return undefined;
  }
  if (decoded.length === 7) return (s, r) => listScaleSets(s, r, sub, group);
  const name = decoded[7];
  if (name === undefined) return undefined;
  if (decoded.length === 8) return (s, r) => handleScaleSet(s, r, sub, group, name);
  if (!isKeyword(decoded[8], 'virtualMachines') || decoded.length > 10) return undefined;
  const instanceId = decoded[9];
  return (s, r) => handleInstances(s, r, sub, group, name, instanceId);
};
