// One way to list resources on the ARM surface: paged by the store, filtered by what the caller may read.
import type { Resource } from '../../core/model.js';
import type { ResourceQuery } from '../../core/ports.js';
import { listPage, parseListQuery } from '../../wire/arm/index.js';
import type { ArmRequest, ArmResponse, ArmServices } from './context.js';

/**
 * Lists the resources matching `query`, one store page per request (`$top`, default 1000, and
 * `$skipToken` carrying the store's cursor), keeping those the caller may `readAction` and
 * rendering each with `render`. As ARM does, a page may hold fewer items than `$top` when some
 * are not readable; `nextLink` is present while the store has more.
 */
export async function listReadable(
  services: ArmServices,
  request: ArmRequest,
  query: ResourceQuery,
  readAction: string,
  render: (resource: Resource) => unknown,
): Promise<ArmResponse> {
  const { top, skipToken } = parseListQuery(request.query);
  const page = await services.store.resources.list(query, {
    limit: top ?? 1000,
    ...(skipToken === undefined ? {} : { cursor: skipToken }),
  });
  const visible: unknown[] = [];
  for (const resource of page.items) {
    const { allowed } = await services.rbac.check({
      principalId: request.caller.objectId,
      action: readAction,
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
