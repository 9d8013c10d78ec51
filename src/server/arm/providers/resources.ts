// Microsoft.Resources/resources: every tracked resource of a subscription or group, as `az resource list` reads them.
import {
  listPage,
  matchesFilter,
  parseListQuery,
  parseResourceExpand,
  parseResourceFilter,
  renderGenericResource,
  versionsOf,
} from '../../../wire/arm/index.js';
import { actionOf, type OperationContext, type ResourceTypeDeclaration } from '../provider.js';
import type { Registry } from '../registry.js';
import { OWN_TYPES } from '../../../wire/arm/target.js';

/** Items per page when `$top` is not given (ARM's default page is 1000). */
const DEFAULT_TOP = 1000;

const single = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value.join(',') : value;

/** The query parameter `name` in any case (`$filter`, `$Filter`). */
function queryValue(context: OperationContext, name: string): string | undefined {
  const key = Object.keys(context.request.query).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : single(context.request.query[key]);
}

/**
 * `GET /subscriptions/{s}[/resourceGroups/{g}]/resources`: the tracked resources (the top-level
 * types the registry marks `tracked`) the caller may read, one store page per request, filtered
 * by `$filter` (PROTOCOL-TOOLS.md 4.1). As ARM does, a page may hold fewer than `$top` items;
 * `nextLink` is present while the store has more. With a tag filter, tags are left out of the
 * items, as ARM leaves them out.
 */
async function listResources(
  registry: Registry,
  context: OperationContext,
): Promise<{ status: number; body: unknown }> {
  const { services, where, request } = context;
  const filter = parseResourceFilter(queryValue(context, '$filter'));
  const expand = parseResourceExpand(queryValue(context, '$expand'));
  const { top, skipToken } = parseListQuery(request.query);
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
  const page = await services.store.resources.list(
    {
      subscriptionId: where.subscriptionId,
      types,
      ...(group === undefined ? {} : { resourceGroup: group }),
      ...(filter.name === undefined ? {} : { name: filter.name }),
    },
    { limit: top ?? DEFAULT_TOP, ...(skipToken === undefined ? {} : { cursor: skipToken }) },
  );
  const withTags = filter.tagName === undefined && filter.tagPrefix === undefined;
  const visible: unknown[] = [];
  for (const resource of page.items) {
    const subject = { ...resource, resourceGroup: resource.resourceGroup ?? '' };
    if (!matchesFilter(filter, subject)) continue;
    const declaration = registry.get(resource.type);
    if (declaration === undefined) continue;
    const { allowed } = await services.rbac.check({
      principalId: request.caller.objectId,
      action: actionOf(declaration, 'read'),
      scope: resource.id,
    });
    if (allowed) visible.push(renderGenericResource(resource, expand, withTags));
  }
  return {
    status: 200,
    body: listPage(visible, {
      requestUrl: request.url,
      ...(page.nextCursor === undefined ? {} : { skipToken: page.nextCursor }),
    }),
  };
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
