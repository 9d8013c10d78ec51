// Microsoft.ManagedIdentity/userAssignedIdentities: identities and their service principals.
import type { Resource } from '../../../core/model.js';
import { createIdentityPrincipal } from '../../../core/resources/identity-principal.js';
import type { Store } from '../../../core/ports.js';
import {
  parseIsolationScope,
  refuseMove,
  renderUserAssignedIdentity,
  requiredLocation,
  resourceNotFound,
  tagsOf,
  USER_ASSIGNED_IDENTITIES as UAI,
  type UserAssignedIdentityProperties,
  userAssignedIdentityProperties,
} from '../../../wire/arm/index.js';
import type { ArmResponse } from '../context.js';
import type { OperationContext, ResourceTypeDeclaration } from '../provider.js';
import { findTracked, putVersion, trackedDeclaration } from '../tracked-operations.js';

/** A missing identity names its group as stored. */
const notFound = (context: OperationContext) =>
  resourceNotFound(`${UAI}/${context.name}`, context.where.groupName);

/** A new identity's properties: its principal, made now in `tx`, and no isolation scope yet. */
async function newIdentity(
  context: OperationContext,
  tx: Store,
): Promise<UserAssignedIdentityProperties> {
  const { services, where, name } = context;
  const principal = await createIdentityPrincipal(tx, {
    tenantId: where.tenantId,
    resourceId: `${where.groupId}/providers/${UAI}/${name}`,
    name,
    newId: services.newId,
    now: services.clock.now(),
  });
  return {
    tenantId: principal.tenantId,
    principalId: principal.objectId,
    clientId: principal.appId,
    isolationScope: 'None',
  };
}

/** PUT: creates the identity and its service principal in one transaction (201), or updates it. */
async function put(context: OperationContext): Promise<ArmResponse> {
  const { services, where, apiVersion } = context;
  const body = context.body();
  const location = requiredLocation(body);
  const tags = tagsOf(body) ?? {};
  return context.writing(
    () => findTracked(context, UAI),
    (existing) =>
      services.store.transaction(async (tx) => {
        refuseMove(existing, location, where.groupName);
        const kept =
          existing === undefined
            ? await newIdentity(context, tx)
            : userAssignedIdentityProperties(existing);
        const isolationScope = parseIsolationScope(body, apiVersion, kept.isolationScope);
        const properties = { ...kept, isolationScope };
        const identity = putVersion(context, UAI, existing, { location, tags, properties });
        const { created } = await tx.resources.put(identity, { ifMatch: existing?.etag ?? null });
        return {
          status: created ? 201 : 200,
          body: renderUserAssignedIdentity(identity, apiVersion),
        };
      }),
  );
}

/** PATCH: replaces the tags and (where the api-version has it) the isolation scope. */
async function patch(context: OperationContext): Promise<ArmResponse> {
  const { services, apiVersion } = context;
  const body = context.body();
  const tags = tagsOf(body);
  return context.writing(
    () => findTracked(context, UAI),
    async (existing) => {
      if (existing === undefined) throw notFound(context);
      const kept = userAssignedIdentityProperties(existing);
      const identity: Resource = {
        ...existing,
        tags: tags ?? existing.tags,
        properties: {
          ...kept,
          isolationScope: parseIsolationScope(body, apiVersion, kept.isolationScope),
        },
        updatedAt: services.clock.now(),
      };
      await services.store.resources.put(identity, { ifMatch: existing.etag ?? null });
      return { status: 200, body: renderUserAssignedIdentity(identity, apiVersion) };
    },
  );
}

/**
 * `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.ManagedIdentity/userAssignedIdentities[/{name}]`
 * and the subscription's list (PROTOCOL.md 4.2). DELETE removes the principal, its role
 * assignments and attachments with the identity (200), or answers 204 when there was none.
 */
export const userAssignedIdentities: ResourceTypeDeclaration = trackedDeclaration({
  type: UAI,
  render: (context, identity) => renderUserAssignedIdentity(identity, context.apiVersion),
  notFound,
  put: { run: put },
  patch: { run: patch },
});
