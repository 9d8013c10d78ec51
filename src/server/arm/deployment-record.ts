// Where a deployment lives and how its record is read and written: a resource of type Microsoft.Resources/deployments.
import type { DeploymentRecord } from '../../core/deployments/record.js';
import { FINISHED_STATES } from '../../core/deployments/record.js';
import type { Resource } from '../../core/model.js';
import { RESOURCE_TYPES } from '../../core/resource-types.js';
import { retryOnConflict } from '../../core/resources/write-retry.js';
import { deploymentAbandoned, deploymentNotFound } from '../../wire/arm/deployment.js';
import type { ArmServices } from './context.js';
import type { OperationContext } from './provider.js';

const DEPLOYMENTS = RESOURCE_TYPES.deployments;

/** A deployment's address: its id (in the group's stored case) and where it sits. */
export interface DeploymentPlace {
  readonly id: string;
  readonly name: string;
  readonly subscriptionId: string;
  /** Null for a subscription-scope deployment. */
  readonly resourceGroup: string | null;
}

/** The deployment a path names (`…/deployments/{name}[/operations…]`). */
export function deploymentPlace(context: OperationContext): DeploymentPlace {
  const name = context.names[0] ?? '';
  const inGroup = context.target.resourceGroup !== undefined;
  return {
    id: `${context.where.groupId}/providers/${DEPLOYMENTS}/${name}`,
    name,
    subscriptionId: context.where.subscriptionId,
    resourceGroup: inGroup ? context.where.groupName : null,
  };
}

/** A stored deployment: the resource (envelope, etag) and its record. */
export interface StoredDeployment {
  readonly resource: Resource;
  readonly record: DeploymentRecord;
}

/** The deployment stored at `id`, if any. */
export async function readDeployment(
  services: ArmServices,
  id: string,
): Promise<StoredDeployment | undefined> {
  const resource = await services.store.resources.get(id);
  if (resource?.type !== DEPLOYMENTS) return undefined;
  return { resource, record: resource.properties as unknown as DeploymentRecord };
}

/** The deployment at `place`, or ARM's `DeploymentNotFound` (404). */
export async function requireDeployment(
  services: ArmServices,
  place: DeploymentPlace,
): Promise<StoredDeployment> {
  const found = await readDeployment(services, place.id);
  if (found === undefined) throw deploymentNotFound(place.name);
  return found;
}

/** The background job of one run of a deployment (a later run of the same name is another). */
export const runKey = (id: string, record: DeploymentRecord): string =>
  `${id}#${record.asyncOperationId}`;

/** How often a running deployment's server records that it is alive. */
export const HEARTBEAT_MS = 10_000;
/** A running deployment with no sign of its server for this long is taken as abandoned. */
export const ABANDONED_AFTER_MS = 6 * HEARTBEAT_MS;

/** Whether a deployment has not finished and its server was alive lately. */
export function isActive(record: DeploymentRecord, now: number): boolean {
  if (FINISHED_STATES.has(record.state)) return false;
  return now - (record.heartbeatAt ?? record.startedAt) < ABANDONED_AFTER_MS;
}

/**
 * The record as clients see it: one whose server stopped mid-run (no heartbeat for
 * {@link ABANDONED_AFTER_MS}) is `Failed`, so its name can be deployed again.
 */
export function asSeen(id: string, record: DeploymentRecord, now: number): DeploymentRecord {
  if (FINISHED_STATES.has(record.state) || isActive(record, now)) return record;
  const since = record.heartbeatAt ?? record.startedAt;
  return { ...record, state: 'Failed', endedAt: since, error: deploymentAbandoned(id, since) };
}

/** The resource a record is stored as. */
export function deploymentResource(
  place: DeploymentPlace,
  record: DeploymentRecord,
  head: { location: string | null; tags: Readonly<Record<string, string>>; createdAt: number },
  now: number,
): Resource {
  return {
    id: place.id,
    type: DEPLOYMENTS,
    name: place.name,
    subscriptionId: place.subscriptionId,
    resourceGroup: place.resourceGroup,
    location: head.location,
    tags: head.tags,
    properties: record as unknown as Record<string, unknown>,
    createdAt: head.createdAt,
    updatedAt: now,
  };
}

/**
 * Changes the stored record of `id` with `change` (a read-modify-write, again when a concurrent
 * writer got in first); `change` returning undefined writes nothing. Resolves the record as
 * stored afterwards, or undefined when the deployment is gone.
 */
export function updateDeployment(
  services: ArmServices,
  id: string,
  change: (record: DeploymentRecord) => DeploymentRecord | undefined,
): Promise<DeploymentRecord | undefined> {
  return retryOnConflict(async () => {
    const found = await readDeployment(services, id);
    if (found === undefined) return undefined;
    const next = change(found.record);
    if (next === undefined) return found.record;
    const { resource } = found;
    await services.store.resources.put(
      {
        ...resource,
        properties: next as unknown as Record<string, unknown>,
        updatedAt: services.clock.now(),
      },
      { ifMatch: resource.etag ?? null },
    );
    return next;
  });
}

/** The top-level types a group holds that a deployment may leave out (what-if's `Ignore`, Complete's deletes). */
const TRACKED = [
  RESOURCE_TYPES.userAssignedIdentities,
  RESOURCE_TYPES.virtualMachines,
  RESOURCE_TYPES.scaleSets,
  RESOURCE_TYPES.keyVaults,
];

/** The tracked resources of the path's group that are not in `named` (lower-case ids). */
export async function groupResourcesBesides(
  context: OperationContext,
  named: ReadonlySet<string>,
): Promise<Resource[]> {
  if (context.target.resourceGroup === undefined) return [];
  const out: Resource[] = [];
  let cursor: string | undefined;
  do {
    const page = await context.services.store.resources.list(
      {
        subscriptionId: context.where.subscriptionId,
        resourceGroup: context.where.groupName,
        types: TRACKED,
      },
      { limit: 1000, ...(cursor === undefined ? {} : { cursor }) },
    );
    out.push(...page.items.filter((r) => !named.has(r.id.toLowerCase())));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}
