// Microsoft.Resources/resourceGroups: create, read, list and delete a subscription's groups.
import type { Resource } from '../../../core/model.js';
import { deleteResourceTree } from '../../../core/resources/identity-lifecycle.js';
import {
  renderResourceGroup,
  invalidResourceGroupLocation,
  locationRequired,
  validateResourceGroupName,
  validateTags,
  versionsOf,
} from '../../../wire/arm/index.js';
import { exportResourceGroup } from '../group-export.js';
import { actionOf, type OperationContext, type ResourceTypeDeclaration } from '../provider.js';
import { groupNotFound, normaliseLocation } from '../scope.js';
import { OWN_TYPES } from '../../../wire/arm/target.js';

const GROUPS = OWN_TYPES.resourceGroups;

async function find(context: OperationContext): Promise<Resource> {
  const found = await context.services.store.resources.get(context.id);
  if (found?.type !== GROUPS) throw groupNotFound(context.name);
  return found;
}

/** PUT: creates the group (201) or replaces its tags (200); a group never moves (409). */
async function put(context: OperationContext): Promise<{ status: number; body: unknown }> {
  const { services, where } = context;
  const body = context.body();
  const location = body.location;
  if (typeof location !== 'string' || location === '') throw locationRequired();
  const tags = body.tags === undefined || body.tags === null ? {} : validateTags(body.tags);
  return context.writing(
    () => services.store.resources.get(context.id),
    async (existing) => {
      // ARM refuses to move a group (409) rather than keep its location silently.
      if (existing?.location != null && existing.location !== normaliseLocation(location)) {
        throw invalidResourceGroupLocation(location, existing.location);
      }
      const now = services.clock.now();
      const group: Resource = {
        // ARM's own spelling of the keywords, whatever the path's (Python SDKs send `resourcegroups`).
        id: existing?.id ?? `/subscriptions/${where.subscriptionId}/resourceGroups/${context.name}`,
        type: GROUPS,
        name: existing?.name ?? context.name,
        subscriptionId: where.subscriptionId,
        resourceGroup: existing?.name ?? context.name,
        location: existing?.location ?? normaliseLocation(location),
        tags,
        properties: {},
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      };
      const { created } = await services.store.resources.put(group, {
        ifMatch: existing?.etag ?? null,
      });
      return { status: created ? 201 : 200, body: renderResourceGroup(group) };
    },
  );
}

/** `/subscriptions/{s}/resourcegroups[/{name}]`: GET, HEAD, PUT, DELETE, and the list. */
export const resourceGroups: ResourceTypeDeclaration = {
  type: GROUPS,
  apiVersions: versionsOf(GROUPS),
  placement: ['subscription'],
  actionPrefix: 'Microsoft.Resources/subscriptions/resourceGroups',
  validateName: validateResourceGroupName,
  capabilities: 'SupportsTags, SupportsLocation',
  operations: {
    read: {
      run: async (context) => {
        const found = await find(context);
        return {
          status: 200,
          body: context.request.method === 'HEAD' ? undefined : renderResourceGroup(found),
        };
      },
    },
    list: {
      run: (context) =>
        context.list(
          { subscriptionId: context.where.subscriptionId, type: GROUPS },
          actionOf(resourceGroups, 'read'),
          renderResourceGroup,
        ),
    },
    put: { run: put },
    actions: { exporttemplate: { run: exportResourceGroup } },
    delete: {
      run: async (context) => {
        const found = await find(context);
        // Everything in the group goes with it, identities' principals included, in one transaction.
        await context.services.store.transaction(async (tx) => {
          await deleteResourceTree(tx, found.id, context.services.clock.now());
        });
        return { status: 200 };
      },
    },
  },
};
