// `GET /providers/Tessera.Audit/events`: Tessera's own ARM-shaped read of the audit log (token activity), newest first.
import {
  type AppError,
  invalidParameter,
  isAppError,
  methodNotAllowed,
  missingApiVersion,
} from '../../core/errors.js';
import type { AuditEvent, AuditOutcome } from '../../core/model.js';
import type { AuditQuery } from '../../core/ports.js';
import {
  invalidApiVersionParameter,
  isGuid,
  listPage,
  parseListQuery,
  readApiVersion,
} from '../../wire/arm/index.js';
import {
  type ArmRequest,
  type ArmResponse,
  type ArmServices,
  authorize,
  decodeSegments,
  isKeyword,
  type RouteMatcher,
} from './context.js';

/** The RBAC action needed at `/` (Owner's `*` and Reader's read-all hold it). */
export const AUDIT_EVENTS_READ_ACTION = 'Tessera.Audit/events/read';
/** The one api-version of this Tessera-only operation. */
export const AUDIT_EVENTS_API_VERSION = '2026-11-01';
/** Events per page when `$top` is not given. */
const DEFAULT_TOP = 500;
const OUTCOMES: readonly AuditOutcome[] = ['issued', 'refused', 'recorded'];
/** Kinds are short dotted words (`token`, `imds.refused`, `arm.extension.deprecated`). */
const KIND_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A date (`2026-11-24`) or a date-time with seconds optional, fraction and a zone required. */
const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/i;

/** One event as the list shows it: no `details`, no tenant. */
interface AuditEventBody {
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

// Only the listed fields: `details` is free-form and stays server-side.
const render = (event: AuditEvent): AuditEventBody => ({
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
 * The value of query parameter `name` (matched in any case, as ARM matches `$top`), undefined
 * when absent. Fails with `InvalidParameter` (400) naming it when it is repeated or empty.
 */
function single(request: ArmRequest, name: string): string | undefined {
  const values = Object.entries(request.query)
    .filter(([key]) => key.toLowerCase() === name.toLowerCase())
    .flatMap(([, value]) =>
      value === undefined ? [] : typeof value === 'string' ? [value] : value,
    );
  if (values.length === 0) return undefined;
  const [value = ''] = values;
  if (values.length > 1 || value === '') throw badValue(name, values.join(','));
  return value;
}

function badValue(name: string, value: string, rule?: string): AppError {
  const shown = value.length > 100 ? `${value.slice(0, 100)}…` : value;
  return invalidParameter(
    name,
    `The value '${shown}' of query parameter '${name}' is invalid.${rule === undefined ? '' : ` ${rule}`}`,
  );
}

/**
 * Reads the filters: `since` (ISO-8601; events at or after it), `outcome` (`issued`, `refused`
 * or `recorded`), `principalId` (a GUID) and `kind`. Each fails alone with `InvalidParameter`
 * (400) naming the parameter.
 */
export function parseAuditEventsQuery(request: ArmRequest): AuditQuery {
  const since = single(request, 'since');
  const outcome = single(request, 'outcome');
  const principalId = single(request, 'principalId');
  const kind = single(request, 'kind');
  let at: number | undefined;
  if (since !== undefined) {
    at = ISO_8601.test(since) ? Date.parse(since) : NaN;
    if (!Number.isFinite(at)) {
      throw badValue('since', since, 'It must be an ISO-8601 time such as 2026-11-24T08:00:00Z.');
    }
  }
  if (outcome !== undefined && !OUTCOMES.includes(outcome as AuditOutcome)) {
    throw badValue('outcome', outcome, `It must be one of '${OUTCOMES.join("', '")}'.`);
  }
  if (principalId !== undefined && !isGuid(principalId)) {
    throw badValue('principalId', principalId, 'It must be a GUID.');
  }
  if (kind !== undefined && !KIND_PATTERN.test(kind)) {
    throw badValue('kind', kind, "It must be 1-64 letters, digits, '.', '_' or '-'.");
  }
  return {
    ...(at === undefined ? {} : { since: at }),
    ...(outcome === undefined ? {} : { outcome: outcome as AuditOutcome }),
    ...(principalId === undefined ? {} : { principalId: principalId.toLowerCase() }),
    ...(kind === undefined ? {} : { kind }),
  };
}

/**
 * `GET /providers/Tessera.Audit/events?api-version=2026-11-01` (Tessera's own; Azure has no such
 * API): the audit log, newest first, `$top` (1-1000, default 500) per page and `nextLink` with
 * `$skipToken` while more remain, as Tessera's other ARM lists page. Needs
 * `Tessera.Audit/events/read` at `/` (403 `AuthorizationFailed`). A missing api-version is
 * `MissingApiVersionParameter`, another one `InvalidApiVersionParameter` (400).
 */
export async function listAuditEvents(
  services: ArmServices,
  request: ArmRequest,
): Promise<ArmResponse> {
  const version = readApiVersion(request.query);
  if (version === undefined) throw missingApiVersion();
  if (version.toLowerCase() !== AUDIT_EVENTS_API_VERSION) {
    throw invalidApiVersionParameter(version, [AUDIT_EVENTS_API_VERSION]);
  }
  if (request.method !== 'GET') throw methodNotAllowed(request.method);
  const query = parseAuditEventsQuery(request);
  const { top, skipToken } = parseListQuery(request.query);
  await authorize(services, request, AUDIT_EVENTS_READ_ACTION, '/');
  const page = await services.store.audit
    .list(query, {
      limit: top ?? DEFAULT_TOP,
      ...(skipToken === undefined ? {} : { cursor: skipToken }),
    })
    .catch((error: unknown) => {
      // The store's own text for a cursor it did not make does not name the parameter.
      if (isAppError(error) && error.target === '$skipToken' && skipToken !== undefined) {
        throw badValue('$skipToken', skipToken);
      }
      throw error;
    });
  return {
    status: 200,
    body: listPage(page.items.map(render), {
      requestUrl: request.url,
      ...(page.nextCursor === undefined ? {} : { skipToken: page.nextCursor }),
    }),
  };
}

/** `/providers/Tessera.Audit/events` (keywords in any case). */
export const matchAuditEvents: RouteMatcher = (segments) => {
  const decoded = decodeSegments(segments);
  if (
    decoded?.length !== 3 ||
    !isKeyword(decoded[0], 'providers') ||
    !isKeyword(decoded[1], 'Tessera.Audit') ||
    !isKeyword(decoded[2], 'events')
  ) {
    return undefined;
  }
  return listAuditEvents;
};
