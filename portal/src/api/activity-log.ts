// ARM's Activity Log as the portal reads it: a subscription's recent control-plane events.
import type { Http } from './http.js';

/** Azure Monitor's api-version for ActivityLogs_List. */
export const ACTIVITY_LOG_API = '2015-04-01';
/** The RBAC action the read needs at the subscription (Reader and Owner hold it). */
export const ACTIVITY_LOG_READ = 'Microsoft.Insights/eventtypes/values/read';
/** Pages followed per read: 200 events a page, so at most 1000 events per poll. */
const MAX_PAGES = 5;

/** A value and its display text (`LocalizableString`). */
export interface Localizable {
  readonly value: string;
  readonly localizedValue?: string;
}

/** The members of Azure Monitor's `EventData` the portal reads (the query selects only these). */
export interface EventData {
  readonly eventDataId: string;
  readonly eventTimestamp: string;
  readonly eventName?: Localizable;
  readonly caller?: string;
  readonly operationName?: Localizable;
  readonly resourceId?: string;
  readonly resourceGroupName?: string;
  readonly resourceType?: Localizable;
  readonly status?: Localizable;
  readonly subStatus?: Localizable;
  readonly correlationId?: string;
  readonly httpRequest?: { readonly method?: string };
  readonly properties?: Readonly<Record<string, string>>;
}

const SELECT: readonly (keyof EventData)[] = [
  'eventDataId',
  'eventTimestamp',
  'eventName',
  'caller',
  'operationName',
  'resourceId',
  'resourceGroupName',
  'resourceType',
  'status',
  'subStatus',
  'correlationId',
  'httpRequest',
  'properties',
];

/**
 * The subscription's Activity Log events at or after `since` (ISO), newest first (ActivityLogs_List,
 * `$filter=eventTimestamp ge '<since>'`), following `nextLink` for at most {@link MAX_PAGES}
 * pages. Fails with the server's error: `AuthorizationFailed` (403) without
 * {@link ACTIVITY_LOG_READ} at the subscription.
 */
export async function activityLogEvents(
  http: Http,
  subscriptionId: string,
  since: string,
): Promise<EventData[]> {
  const query = new URLSearchParams({
    'api-version': ACTIVITY_LOG_API,
    $filter: `eventTimestamp ge '${since}'`,
    $select: SELECT.join(','),
  });
  let next: string | undefined =
    `/subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.Insights/eventtypes/management/values?${query.toString()}`;
  const events: EventData[] = [];
  for (let page = 0; page < MAX_PAGES && next !== undefined; page++) {
    const body = (await http.send('GET', next)) as { value?: EventData[]; nextLink?: string };
    events.push(...(body.value ?? []));
    // nextLink is absolute; keep the call same-origin by taking its path and query.
    const link = body.nextLink === undefined ? undefined : new URL(body.nextLink);
    next = link === undefined ? undefined : `${link.pathname}${link.search}`;
  }
  return events;
}
