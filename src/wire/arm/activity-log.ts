// The Activity Log's wire format: Azure Monitor's `EventData` body, `$select` and the event id's .NET ticks.
import type { AppError } from '../../core/errors.js';
import type { ActivityEvent, EpochMs } from '../../core/model.js';
import { armError } from './arm-errors.js';

/** A value with its display text (`LocalizableString`); Tessera's display text is the value's. */
export interface LocalizableString {
  readonly value: string;
  readonly localizedValue: string;
}

/** One event as ActivityLogs_List (api-version 2015-04-01) sends it; members in Azure's order. */
export interface EventDataBody {
  readonly authorization: { readonly action: string; readonly scope: string };
  readonly caller: string;
  readonly channels: 'Operation';
  readonly claims: Readonly<Record<string, string>>;
  readonly correlationId: string;
  readonly description: string;
  readonly eventDataId: string;
  readonly eventName: LocalizableString;
  readonly category: LocalizableString;
  readonly eventTimestamp: string;
  readonly id: string;
  readonly level: string;
  readonly operationId: string;
  readonly operationName: LocalizableString;
  readonly resourceGroupName?: string;
  readonly resourceProviderName: LocalizableString;
  readonly resourceType: LocalizableString;
  readonly resourceId: string;
  readonly status: LocalizableString;
  readonly subStatus: LocalizableString;
  readonly submissionTimestamp: string;
  readonly subscriptionId: string;
  readonly tenantId: string;
  readonly httpRequest: {
    readonly clientRequestId?: string;
    readonly clientIpAddress?: string;
    readonly method: string;
    readonly uri?: string;
  };
  readonly properties: Readonly<Record<string, string>>;
  readonly relatedEvents: readonly never[];
}

/** An `EventData` member name, as `$select` names it. */
export type EventDataKey = keyof EventDataBody;

/** Every member, in the order the body lists them. */
export const EVENT_DATA_KEYS: readonly EventDataKey[] = [
  'authorization',
  'caller',
  'channels',
  'claims',
  'correlationId',
  'description',
  'eventDataId',
  'eventName',
  'category',
  'eventTimestamp',
  'id',
  'level',
  'operationId',
  'operationName',
  'resourceGroupName',
  'resourceProviderName',
  'resourceType',
  'resourceId',
  'status',
  'subStatus',
  'submissionTimestamp',
  'subscriptionId',
  'tenantId',
  'httpRequest',
  'properties',
  'relatedEvents',
];

const KEY_BY_LOWER = new Map(EVENT_DATA_KEYS.map((key) => [key.toLowerCase(), key]));

/**
 * Parses `$select`: property names separated by commas, each trimmed (az joins them with
 * `" , "`), matched in any case against every `EventData` member (the spec's list and the rest
 * az allows: `caller`, `id`, `category`, `resourceType`, `tenantId`, …); empty entries are
 * skipped. Undefined (every member) when absent or empty. Fails with `BadRequest` (400) naming
 * a name that is no member (Azure's answer is not captured; the text is Tessera's).
 */
export function parseActivitySelect(
  select: string | undefined,
): readonly EventDataKey[] | undefined {
  if (select === undefined) return undefined;
  const keys = new Set<EventDataKey>();
  for (const raw of select.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    const key = KEY_BY_LOWER.get(name.toLowerCase());
    if (key === undefined) throw unknownProperty(name);
    keys.add(key);
  }
  return keys.size === 0 ? undefined : EVENT_DATA_KEYS.filter((key) => keys.has(key));
}

function unknownProperty(name: string): AppError {
  const shown = name.length > 100 ? `${name.slice(0, 100)}…` : name;
  return armError(
    'BadRequest',
    `The $select property '${shown}' is not a property of an event. Possible values are: ${EVENT_DATA_KEYS.join(', ')}.`,
  );
}

/** .NET ticks (100 ns since 0001-01-01T00:00:00Z) at the Unix epoch. */
const TICKS_AT_EPOCH = 621_355_968_000_000_000n;

/** The .NET ticks of `at` (what an event id ends with), as decimal digits. */
export function dotNetTicks(at: EpochMs): string {
  return (BigInt(Math.trunc(at)) * 10_000n + TICKS_AT_EPOCH).toString();
}

/**
 * `at` as .NET's round-trip format writes it, as Azure's event times are: seven fraction digits
 * (`2015-01-21T22:14:26.9790000Z`; Tessera keeps milliseconds).
 */
export function eventTimestamp(at: EpochMs): string {
  return new Date(at).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** Status codes by .NET's `HttpStatusCode` name (`subStatus.value`) and reason phrase. */
const STATUS_NAMES: Readonly<Record<number, readonly [name: string, phrase: string]>> = {
  200: ['OK', 'OK'],
  201: ['Created', 'Created'],
  202: ['Accepted', 'Accepted'],
  204: ['NoContent', 'No Content'],
  400: ['BadRequest', 'Bad Request'],
  401: ['Unauthorized', 'Unauthorized'],
  403: ['Forbidden', 'Forbidden'],
  404: ['NotFound', 'Not Found'],
  405: ['MethodNotAllowed', 'Method Not Allowed'],
  409: ['Conflict', 'Conflict'],
  412: ['PreconditionFailed', 'Precondition Failed'],
  413: ['RequestEntityTooLarge', 'Request Entity Too Large'],
  415: ['UnsupportedMediaType', 'Unsupported Media Type'],
  429: ['TooManyRequests', 'Too Many Requests'],
  500: ['InternalServerError', 'Internal Server Error'],
  501: ['NotImplemented', 'Not Implemented'],
  502: ['BadGateway', 'Bad Gateway'],
  503: ['ServiceUnavailable', 'Service Unavailable'],
  504: ['GatewayTimeout', 'Gateway Timeout'],
};

/**
 * An End event's `subStatus`: the status code's .NET name and `"<reason> (HTTP Status Code:
 * <code>)"` (`Created (HTTP Status Code: 201)`), as the EventData docs list them; a code without
 * a name is its digits. A Begin event's (`httpStatus` null) is empty.
 */
export function subStatusOf(httpStatus: number | null): LocalizableString {
  if (httpStatus === null) return { value: '', localizedValue: '' };
  const [name, phrase] = STATUS_NAMES[httpStatus] ?? [String(httpStatus), String(httpStatus)];
  return { value: name, localizedValue: `${phrase} (HTTP Status Code: ${httpStatus})` };
}

/**
 * Token claims as Azure's events show them: the claims .NET's JWT handler maps to WS-Federation
 * claim types by their URI (`oid` becomes `…/identity/claims/objectidentifier`), the rest as
 * named in the token (compare the spec's ActivityLogs_List example).
 */
const CLAIM_URIS: Readonly<Record<string, string>> = {
  oid: 'http://schemas.microsoft.com/identity/claims/objectidentifier',
  tid: 'http://schemas.microsoft.com/identity/claims/tenantid',
  scp: 'http://schemas.microsoft.com/identity/claims/scope',
  idp: 'http://schemas.microsoft.com/identity/claims/identityprovider',
  acr: 'http://schemas.microsoft.com/claims/authnclassreference',
  amr: 'http://schemas.microsoft.com/claims/authnmethodsreferences',
  upn: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
  unique_name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
  sub: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier',
  given_name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
  family_name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname',
  email: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
};

function renderClaims(claims: Readonly<Record<string, string>>): Record<string, string> {
  const rendered: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) rendered[CLAIM_URIS[name] ?? name] = value;
  return rendered;
}

const same = (value: string): LocalizableString => ({ value, localizedValue: value });

/** The whole body of `event`, members in {@link EVENT_DATA_KEYS} order. */
function renderAll(event: ActivityEvent): EventDataBody {
  const time = eventTimestamp(event.at);
  const end = event.httpStatus !== null;
  const subStatus = subStatusOf(event.httpStatus);
  return {
    authorization: { action: event.operationName, scope: event.resourceId },
    caller: event.caller,
    channels: 'Operation',
    claims: renderClaims(event.claims),
    correlationId: event.correlationId,
    description: '',
    eventDataId: event.eventDataId,
    eventName: {
      value: event.eventName,
      localizedValue: event.eventName === 'BeginRequest' ? 'Begin request' : 'End request',
    },
    category: same('Administrative'),
    eventTimestamp: time,
    id: `${event.resourceId}/events/${event.eventDataId}/ticks/${dotNetTicks(event.at)}`,
    level: event.level,
    operationId: event.operationId,
    operationName: same(event.operationName),
    ...(event.resourceGroup === null ? {} : { resourceGroupName: event.resourceGroup }),
    resourceProviderName: same(event.resourceProvider),
    resourceType: same(event.resourceType),
    resourceId: event.resourceId,
    status: same(event.status),
    subStatus,
    submissionTimestamp: time,
    subscriptionId: event.subscriptionId,
    tenantId: event.tenantId,
    httpRequest: {
      ...(event.clientRequestId === null ? {} : { clientRequestId: event.clientRequestId }),
      ...(event.clientIp === null ? {} : { clientIpAddress: event.clientIp }),
      method: event.method,
      ...(event.uri === null ? {} : { uri: event.uri }),
    },
    properties: {
      eventCategory: 'Administrative',
      entity: event.resourceId,
      message: event.operationName,
      ...(end ? { statusCode: subStatus.value, serviceRequestId: event.serviceRequestId } : {}),
    },
    relatedEvents: [],
  };
}

/**
 * `event` as an `EventData` body (the spec's ActivityLogs_List example): category
 * Administrative, channel Operation, `id` = `<resourceId>/events/<eventDataId>/ticks/<.NET
 * ticks of eventTimestamp>`, `authorization` = the RBAC action at the addressed scope, on an
 * End event `subStatus` and `properties.statusCode` from the status code. `submissionTimestamp`
 * equals `eventTimestamp` (an event is queryable once written). With `select`, only those
 * members (a selected member the event lacks, `resourceGroupName` at subscription scope, is
 * left out).
 */
export function renderActivityEvent(
  event: ActivityEvent,
  select?: readonly EventDataKey[],
): Partial<EventDataBody> {
  const body = renderAll(event);
  if (select === undefined) return body;
  const picked: Record<string, unknown> = {};
  for (const key of select) if (body[key] !== undefined) picked[key] = body[key];
  return picked;
}
