// Tessera.Audit/events on the wire: the query's filters read, one event as the list shows it.
import { type AppError, invalidParameter } from '../../core/errors.js';
import type { AuditEvent, AuditOutcome } from '../../core/model.js';
import type { AuditQuery } from '../../core/ports.js';
import { queryValues } from './envelope.js';
import { isGuid } from './resource-id.js';

/** The one api-version of this Tessera-only type. */
export const AUDIT_EVENTS_API_VERSION = '2026-11-01';
const OUTCOMES: readonly AuditOutcome[] = ['issued', 'refused', 'recorded'];
/** Kinds are short dotted words (`token`, `imds.refused`, `arm.extension.deprecated`). */
const KIND_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A date (`2026-11-24`) or a date-time with seconds optional, fraction and a zone required. */
const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/i;

/** A request's query parameters, as the HTTP layer gives them. */
type Query = Readonly<Record<string, string | string[] | undefined>>;

/** One event as the list shows it: no `details`, no tenant. */
export interface AuditEventBody {
  readonly id: string;
  readonly time: string;
  readonly kind: string;
  readonly outcome: AuditOutcome;
  readonly principalId: string | null;
  readonly resource: string | null;
  readonly vmId: string | null;
  readonly hostId: string | null;
  readonly reason: string | null;
  readonly tokenId: string | null;
}

/** One event as the list shows it: only the listed fields (`details` is free-form and stays server-side). */
export const renderAuditEvent = (event: AuditEvent): AuditEventBody => ({
  id: event.id,
  time: new Date(event.at).toISOString(),
  kind: event.kind,
  outcome: event.outcome,
  principalId: event.principalId,
  resource: event.resource,
  vmId: event.vmId,
  hostId: event.hostId,
  reason: event.reason,
  tokenId: event.tokenId,
});

/**
 * `InvalidParameter` (400) naming query parameter `name`, its value shown (at most 100
 * characters) and `rule` after, when given (Tessera's text).
 */
export function invalidQueryValue(name: string, value: string, rule?: string): AppError {
  const shown = value.length > 100 ? `${value.slice(0, 100)}…` : value;
  return invalidParameter(
    name,
    `The value '${shown}' of query parameter '${name}' is invalid.${rule === undefined ? '' : ` ${rule}`}`,
  );
}

/**
 * The value of query parameter `name` (matched in any case, as ARM matches `$top`), undefined
 * when absent. Fails with `InvalidParameter` (400) naming it when it is repeated or empty.
 */
function single(query: Query, name: string): string | undefined {
  const values = queryValues(query, name);
  if (values.length === 0) return undefined;
  const [value = ''] = values;
  if (values.length > 1 || value === '') throw invalidQueryValue(name, values.join(','));
  return value;
}

/**
 * Reads the filters: `since` (ISO-8601; events at or after it), `outcome` (`issued`, `refused`
 * or `recorded`), `principalId` (a GUID) and `kind`. Each fails alone with `InvalidParameter`
 * (400) naming the parameter.
 */
export function parseAuditEventsQuery(query: Query): AuditQuery {
  const since = single(query, 'since');
  const outcome = single(query, 'outcome');
  const principalId = single(query, 'principalId');
  const kind = single(query, 'kind');
  let at: number | undefined;
  if (since !== undefined) {
    at = ISO_8601.test(since) ? Date.parse(since) : NaN;
    if (!Number.isFinite(at)) {
      throw invalidQueryValue(
        'since',
        since,
        'It must be an ISO-8601 time such as 2026-11-24T08:00:00Z.',
      );
    }
  }
  if (outcome !== undefined && !OUTCOMES.includes(outcome as AuditOutcome)) {
    throw invalidQueryValue('outcome', outcome, `It must be one of '${OUTCOMES.join("', '")}'.`);
  }
  if (principalId !== undefined && !isGuid(principalId)) {
    throw invalidQueryValue('principalId', principalId, 'It must be a GUID.');
  }
  if (kind !== undefined && !KIND_PATTERN.test(kind)) {
    throw invalidQueryValue('kind', kind, "It must be 1-64 letters, digits, '.', '_' or '-'.");
  }
  return {
    ...(at === undefined ? {} : { since: at }),
    ...(outcome === undefined ? {} : { outcome: outcome as AuditOutcome }),
    ...(principalId === undefined ? {} : { principalId: principalId.toLowerCase() }),
    ...(kind === undefined ? {} : { kind }),
  };
}
