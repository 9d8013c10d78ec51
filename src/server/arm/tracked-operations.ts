// What the tracked types of resource groups share: declared alike, found by the path, read, listed, versioned and deleted with their tree.
import type { AppError } from '../../core/errors.js';
import { getTyped } from '../../core/compute/index.js';
import type { Resource } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import { deleteTracked } from '../../core/resources/tracked-delete.js';
import { resourceNotFound, versionsOf } from '../../wire/arm/index.js';
import type { ArmResponse } from './context.js';
import {
  actionOf,
  type Operation,
  type OperationContext,
  type ResourceTypeDeclaration,
} from './provider.js';

/** `Microsoft.Compute/virtualMachines/{vm}/extensions/{name}`: `type`'s segments, each with its name. */
function typedPath(type: string, names: readonly string[]): string {
  const [namespace = '', ...types] = type.split('/');
  return [namespace, ...names.flatMap((name, i) => [types[i] ?? '', name])].join('/');
}

/**
 * The id the item the path names down to `depth` names (default all) is stored under: the
 * group's id as stored, then `type`'s canonical segments with the names as sent. An item is
 * created under it; the store finds an existing one by it in any case.
 */
export function storedIdOf(
  context: OperationContext,
  type: string,
  depth = context.names.length,
): string {
  return `${context.where.groupId}/providers/${typedPath(type, context.names.slice(0, depth))}`;
}

/**
 * ARM's `ResourceNotFound` (404) for the item the path names down to `depth` names (default all:
 * `Microsoft.Compute/virtualMachines/{vm}/extensions/{name}`; 1 for its VM), in `type`'s
 * canonical case, with names and group as sent.
 */
export function notFoundOf(
  context: OperationContext,
  type: string,
  depth = context.names.length,
): AppError {
  return resourceNotFound(
    typedPath(type, context.names.slice(0, depth)),
    context.target.resourceGroup ?? '',
  );
}

/** The resource of `type` the path names, if there is one, read in `store` (default the services'). */
export function findTracked(
  context: OperationContext,
  type: string,
  store: Store = context.services.store,
): Promise<Resource | undefined> {
  return getTyped(store, storedIdOf(context, type), type);
}

/**
 * The string member `name` of `resource`'s properties (`vmId`, `uniqueId`), or a new id when it
 * has none: Compute assigns them once, at creation, and never changes them.
 */
export function assignedOnce(
  context: OperationContext,
  resource: Resource | undefined,
  name: string,
): string {
  const value = resource?.properties[name];
  return typeof value === 'string' ? value : context.services.newId();
}

/** What a PUT sends for a tracked resource, read and checked. */
export interface PutContent {
  /** Normalised; an existing resource keeps its own (a move is refused before). */
  readonly location: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly properties: Readonly<Record<string, unknown>>;
}

/**
 * The version a PUT writes of the resource of `type` the path names: created in the path's
 * group, or over `existing`, whose id, name, location and creation time it keeps.
 */
export function putVersion(
  context: OperationContext,
  type: string,
  existing: Resource | undefined,
  content: PutContent,
): Resource {
  const { where } = context;
  const now = context.services.clock.now();
  return {
    id: existing?.id ?? storedIdOf(context, type),
    type,
    name: existing?.name ?? context.name,
    subscriptionId: where.subscriptionId,
    resourceGroup: where.groupName,
    location: existing?.location ?? content.location,
    tags: content.tags,
    properties: content.properties,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
}

/** A tracked type in resource groups: how its resources are shown, and its own writes. */
export interface TrackedType {
  /** The full type, canonical case. */
  readonly type: string;
  /** The body of one resource for the request at hand (its api-version); may be a promise. */
  readonly render: (context: OperationContext, resource: Resource) => unknown;
  /** The answer for one that does not exist; default {@link notFoundOf}. */
  readonly notFound?: (context: OperationContext) => AppError;
  readonly put: Operation;
  readonly patch: Operation;
}

/** GET of one: 200 with its body, or the type's `notFound`. */
async function read(context: OperationContext, tracked: TrackedType): Promise<ArmResponse> {
  const found = await findTracked(context, tracked.type);
  if (found === undefined) throw tracked.notFound?.(context) ?? notFoundOf(context, tracked.type);
  return { status: 200, body: await tracked.render(context, found) };
}

/**
 * DELETE: 200 once the resource and everything under it are gone (`deleteTracked`), 204 when
 * there was none; `If-Match` and `If-None-Match` are checked against it.
 */
function remove(context: OperationContext, type: string): Promise<ArmResponse> {
  return context.writing(
    () => findTracked(context, type),
    async (existing) => {
      if (existing === undefined) return { status: 204 };
      await deleteTracked(context.services, existing);
      return { status: 200 };
    },
  );
}

/**
 * The declaration of a tracked type: in a resource group, listed at the subscription and the
 * group (each item the caller may read, paged), read, written by its own PUT and PATCH, and
 * deleted with everything under it.
 */
export function trackedDeclaration(tracked: TrackedType): ResourceTypeDeclaration {
  const { type } = tracked;
  const declaration: ResourceTypeDeclaration = {
    type,
    apiVersions: versionsOf(type),
    placement: ['resourceGroup'],
    listAt: ['subscription', 'resourceGroup'],
    tracked: true,
    capabilities: 'SupportsTags, SupportsLocation',
    operations: {
      read: { run: (context) => read(context, tracked) },
      list: {
        run: (context) =>
          context.list(
            {
              subscriptionId: context.where.subscriptionId,
              type,
              ...(context.target.resourceGroup === undefined
                ? {}
                : { resourceGroup: context.where.groupName }),
            },
            actionOf(declaration, 'read'),
            (resource) => tracked.render(context, resource),
          ),
      },
      put: tracked.put,
      patch: tracked.patch,
      delete: { run: (context) => remove(context, type) },
    },
  };
  return declaration;
}
