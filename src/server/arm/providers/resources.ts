// Microsoft.Resources/resources: every tracked resource of a subscription or group, as `az resource list` reads them.
import {
  listPage,
  matchesFilter,
  queryValues,
  parseResourceExpand,
  parseResourceFilter,
  renderGenericResource,
  versionsOf,
} from '../../../wire/arm/index.js';
import type { ArmResponse } from '../context.js';
import { actionOf, type OperationContext, type ResourceTypeDeclaration } from '../provider.js';
import type { Registry } from '../registry.js';
import { OWN_TYPES } from '../../../wire/arm/target.js';

/** A query parameter (name in any case; repeats joined with commas), undefined when absent. */
function queryValue(context: OperationContext, name: string): string | undefined {
  const values = queryValues(context.request.query, name);
  return values.length === 0 ? undefined : values.join(',');
}

/**
 * `GET /subscriptions/{s}[/resourceGroups/{g}]/resources`: the tracked resources (the top-level
 * types the registry marks `tracked`) the caller may read, one store page per request, filtered
 * by `$filter` (PROTOCOL-TOOLS.md 4.1). As ARM does, a page may hold fewer than `$top` items;
 * `nextLink` is present while the store has more. With a tag filter, tags are left out of the
 * items, as ARM leaves them out.
 */
async function listResources(registry: Registry, context: OperationContext): Promise<ArmResponse> {
  const { where, request } = context;
  const filter = parseResourceFilter(queryValue(context, '$filter'));
  const expand = parseResourceExpand(queryValue(context, '$expand'));
  const tracked = registry.types.filter((declaration) => declaration.tracked === true);
  const types =
    filter.resourceType === undefined
      ? tracked.map((declaration) => declaration.type)
      : tracked
          .filter(
            (declaration) => declaration.type.toLowerCase() === filter.resourceType?.toLowerCase(),
          )
          .map((declaration) => declaration.type);
  const group = context.target.resourceGroup === undefined ? filter.resourceGroup : where.groupName;
  if (types.length === 0) {
    return { status: 200, body: listPage([], { requestUrl: request.url }) };
  }
  const withTags = filter.tagName === undefined && filter.tagPrefix === undefined;
  return context.list(
    {
      subscriptionId: where.subscriptionId,
      types,
      ...(group === undefined ? {} : { resourceGroup: group }),
      ...(filter.name === undefined ? {} : { name: filter.name }),
    },
    (resource) => {
      const declaration = registry.get(resource.type);
      const subject = { ...resource, resourceGroup: resource.resourceGroup ?? '' };
      if (declaration === undefined || !matchesFilter(filter, subject)) return undefined;
      return actionOf(declaration, 'read');
    },
    (resource) => renderGenericResource(resource, expand, withTags),
  );
}

/** The generic resource list, reading the registry it is part of. */
export function genericResources(registry: () => Registry): ResourceTypeDeclaration {
  return {
    type: OWN_TYPES.resources,
    apiVersions: versionsOf(OWN_TYPES.resources),
    placement: [],
    listAt: ['subscription', 'resourceGroup'],
    operations: { list: { run: (context) => listResources(registry(), context) } },
  };
}
