// One way to list resources on the ARM surface: paged by the store, filtered by what the caller may read.
import type { Resource } from '../../core/model.js';
import type { ResourceQuery } from '../../core/ports.js';
import { listPage, parseListQuery } from '../../wire/arm/index.js';
import type { ArmRequest, ArmResponse, ArmServices } from './context.js';

/** The action a listed resource is read with: one for all, or each resource's own. */
export type ReadAction = string | ((resource: Resource) => string | undefined);

/**
 * Lists the resources matching `query`, one store page per request (`$top`, default 1000, and
 * `$skipToken` carrying the store's cursor), keeping those the caller may `readAction` (one
 * action for all, or each resource's own; undefined leaves a resource out) and rendering each
 * with `render`. As ARM does, a page may hold fewer items than `$top` when some are not readable;
 * `nextLink` is present while the store has more.
 */
export async function listReadable(
  services: ArmServices,
  request: ArmRequest,
  query: ResourceQuery,
  readAction: ReadAction,
  render: (resource: Resource) => unknown,
): Promise<ArmResponse> {
  const { top, skipToken } = parseListQuery(request.query);
  const page = await services.store.resources.list(query, {
    limit: top ?? 1000,
    ...(skipToken === undefined ? {} : { cursor: skipToken }),
  });
  const visible: unknown[] = [];
  for (const resource of page.items) {
    const action = typeof readAction === 'string' ? readAction : readAction(resource);
    if (action === undefined) continue;
    const { allowed } = await services.rbac.check({
      principalId: request.caller.objectId,
      action,
      scope: resource.id,
    });
    if (allowed) visible.push(await render(resource));
  }
  return {
    status: 200,
    body: listPage(visible, {
      requestUrl: request.url,
      ...(page.nextCursor === undefined ? {} : { skipToken: page.nextCursor }),
    }),
  };
}
