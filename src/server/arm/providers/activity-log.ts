// Microsoft.Insights/eventtypes/values: a subscription's Activity Log, as `az monitor activity-log list` reads it.
import { isAppError, invalidParameter } from '../../../core/errors.js';
import {
  listPage,
  queryValues,
  parseActivityFilter,
  parseActivitySelect,
  renderActivityEvent,
  versionsOf,
} from '../../../wire/arm/index.js';
import type { ArmRequest, ArmResponse } from '../context.js';
import type { OperationContext, ResourceTypeDeclaration } from '../provider.js';
import { pathNotServed } from '../registry.js';

/** The RBAC action ActivityLogs_List needs at the subscription (Reader holds it). */
export const ACTIVITY_LOG_READ_ACTION = 'Microsoft.Insights/eventtypes/values/read';
/** Events per page; the API has no `$top`. */
export const ACTIVITY_LOG_PAGE_SIZE = 200;

/**
 * The value of query parameter `name` (matched in any case), undefined when absent. Fails with
 * `InvalidParameter` (400) naming it when it is repeated.
 */
function single(request: ArmRequest, name: string): string | undefined {
  const values = queryValues(request.query, name);
  if (values.length > 1) {
    throw invalidParameter(name, `The query parameter '${name}' is given more than once.`);
  }
  return values[0];
}

/**
 * `GET /subscriptions/{subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values`
 * (ActivityLogs_List, api-version 2015-04-01): the subscription's Administrative events that
 * `$filter` keeps ({@link parseActivityFilter}), newest first, {@link ACTIVITY_LOG_PAGE_SIZE} per
 * page, each trimmed to `$select` ({@link parseActivitySelect}). `nextLink` is the request's own
 * absolute URL (api-version, `$filter` and `$select` kept) with `$skipToken` set, so a client
 * that follows it verbatim (the Python SDK) reads on. The pipeline has checked the api-version,
 * the subscription and `Microsoft.Insights/eventtypes/values/read` at it; this fails with
 * `BadRequest` (400) for `$filter` or `$select`, and `InvalidParameter` (400) for a `$skipToken`
 * Tessera did not make.
 */
async function queryActivityLog(context: OperationContext): Promise<ArmResponse> {
  const { services, request } = context;
  const subscriptionId = context.where.subscriptionId;
  if (context.names[0]?.toLowerCase() !== 'management') {
    throw pathNotServed(
      `${context.target.scope}/providers/Microsoft.Insights/eventtypes/${context.names[0] ?? ''}`,
    );
  }
  const filter = parseActivityFilter(single(request, '$filter'), services.clock.now());
  const select = parseActivitySelect(single(request, '$select'));
  const skipToken = single(request, '$skipToken');
  const page = await services.store.activity
    .query(
      { subscriptionId, ...filter },
      { limit: ACTIVITY_LOG_PAGE_SIZE, ...(skipToken === undefined ? {} : { cursor: skipToken }) },
    )
    .catch((error: unknown) => {
      // The store's text for a cursor it did not make does not show the value.
      if (isAppError(error) && error.target === '$skipToken' && skipToken !== undefined) {
        throw invalidParameter(
          '$skipToken',
          `The value '${skipToken.slice(0, 100)}' of query parameter '$skipToken' is invalid.`,
        );
      }
      throw error;
    });
  return {
    status: 200,
    body: listPage(
      page.items.map((event) => renderActivityEvent(event, select)),
      {
        requestUrl: request.url,
        ...(page.nextCursor === undefined ? {} : { skipToken: page.nextCursor }),
      },
    ),
  };
}

/**
 * `Microsoft.Insights/eventtypes/values`: the Activity Log of a subscription, read at
 * `…/providers/Microsoft.Insights/eventtypes/management/values` with
 * `Microsoft.Insights/eventtypes/values/read` at the subscription.
 */
export const activityLog: ResourceTypeDeclaration = {
  type: 'Microsoft.Insights/eventtypes/values',
  apiVersions: versionsOf('Microsoft.Insights/eventtypes'),
  placement: [],
  listAt: ['subscription'],
  validateName: () => undefined,
  operations: { list: { run: queryActivityLog, authorizeAt: 'scope' } },
};
