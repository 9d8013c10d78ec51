// Microsoft.Compute/virtualMachineScaleSets: create, update, read, list and delete scale sets, with identities and capacity.
import {
  type LegacyExtensionUse,
  publicProperties,
  type ScaleSetSku,
  scaleSetState,
  writeScaleSet,
} from '../../../core/compute/index.js';
import type { Resource } from '../../../core/model.js';
import { SCALE_SET_RESOURCE_TYPE } from '../../../core/resources/change-feed.js';
import { legacyExtensionWarningHeader } from '../../../core/resources/legacy-extension.js';
import {
  identityFormat,
  mergePatch,
  parseIdentity,
  parseScaleSetProperties,
  parseSku,
  refuseMove,
  renderScaleSet,
  requiredLocation,
  tagsOf,
} from '../../../wire/arm/index.js';
import type { ArmResponse } from '../context.js';
import type { OperationContext, ResourceTypeDeclaration } from '../provider.js';
import { assignedOnce, findTracked, notFoundOf, putVersion } from '../tracked-operations.js';
import { holderDeclaration, type HolderWrite, writeHolder } from './compute-writes.js';

const SCALE_SET = SCALE_SET_RESOURCE_TYPE;

/** One scale-set write, read and checked from the request, ready to commit. */
interface ScaleSetChange extends HolderWrite {
  /** The new version without Tessera's state (added when the instances are known). */
  readonly holder: Resource;
  readonly sku: ScaleSetSku;
  readonly legacy: readonly LegacyExtensionUse[];
}

/**
 * PUT: creates (201) or replaces (200) the scale set. `location` is required and may not change;
 * a PUT without `sku` (or without `sku.capacity`) keeps the instances it has.
 */
function put(context: OperationContext): Promise<ArmResponse> {
  const { where } = context;
  const body = context.body();
  const location = requiredLocation(body);
  const tags = tagsOf(body) ?? {};
  const sku = parseSku(body.sku);
  const { properties, legacy } = parseScaleSetProperties(body.properties);
  const format = identityFormat(context.apiVersion);
  const identity = parseIdentity(body.identity, { isPatch: false, format });
  return context.writing(
    () => findTracked(context, SCALE_SET),
    (existing) => {
      refuseMove(existing, location, where.groupName);
      const current = existing === undefined ? undefined : scaleSetState(existing).sku;
      const base = putVersion(context, SCALE_SET, existing, {
        location,
        tags,
        properties: { uniqueId: assignedOnce(context, existing, 'uniqueId'), ...properties },
      });
      const nextSku: ScaleSetSku =
        sku === undefined
          ? (current ?? { capacity: 0 })
          : { ...sku, capacity: sku.capacity ?? current?.capacity ?? 0 };
      return commit(context, {
        holder: base,
        existing,
        sku: nextSku,
        identity,
        isPatch: false,
        legacy,
      });
    },
  );
}

/**
 * PATCH: tags replaced when sent, `properties` merged (RFC 7396; arrays replace whole, so the
 * extensions a patch lists are the ones the scale set will have), `sku` members merged.
 */
function patch(context: OperationContext): Promise<ArmResponse> {
  const body = context.body();
  const tags = tagsOf(body);
  const sku = parseSku(body.sku);
  // Checks the patch itself (types, secrets, legacy ports) before anything is read.
  const { legacy } = parseScaleSetProperties(body.properties);
  const format = identityFormat(context.apiVersion);
  const identity = parseIdentity(body.identity, { isPatch: true, format });
  return context.writing(
    () => findTracked(context, SCALE_SET),
    (existing) => {
      if (existing === undefined) throw notFoundOf(context, SCALE_SET);
      const current = scaleSetState(existing).sku;
      const stored = publicProperties(existing);
      const properties =
        body.properties === undefined || body.properties === null
          ? stored
          : {
              uniqueId: assignedOnce(context, existing, 'uniqueId'),
              ...parseScaleSetProperties(mergePatch(stored, body.properties)).properties,
            };
      const base: Resource = {
        ...existing,
        tags: tags ?? existing.tags,
        properties,
        updatedAt: context.services.clock.now(),
      };
      const nextSku: ScaleSetSku = {
        ...current,
        ...(sku?.name === undefined ? {} : { name: sku.name }),
        ...(sku?.tier === undefined ? {} : { tier: sku.tier }),
        capacity: sku?.capacity ?? current.capacity,
      };
      return commit(context, {
        holder: base,
        existing,
        sku: nextSku,
        identity,
        isPatch: true,
        legacy,
      });
    },
  );
}

/**
 * Plans the identity change, then has core write the scale set, its identities, its instances
 * at the new capacity and an audit event per deprecated extension in one transaction; the answer
 * then carries the deprecation `Warning` header.
 */
async function commit(context: OperationContext, change: ScaleSetChange): Promise<ArmResponse> {
  const { services, where } = context;
  const { holder: base, existing, legacy } = change;
  const response = await writeHolder(context, scaleSets, renderScaleSet, change, (plan) =>
    writeScaleSet(services, {
      base,
      existing,
      sku: change.sku,
      plan,
      tenantId: where.tenantId,
      legacy,
      principalId: context.request.caller.objectId,
    }),
  );
  if (legacy.length === 0) return response;
  return { ...response, headers: { warning: legacyExtensionWarningHeader() } };
}

/**
 * `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Compute/virtualMachineScaleSets[/{name}]`
 * and the subscription's list. `sku.capacity` is how many instances it has; DELETE removes them,
 * its system-assigned principal everywhere and its attachments (204 when there was none).
 */
export const scaleSets: ResourceTypeDeclaration = holderDeclaration(SCALE_SET, renderScaleSet, {
  put: { run: put },
  patch: { run: patch },
});
