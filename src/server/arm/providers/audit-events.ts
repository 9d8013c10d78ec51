// Tessera.Audit/events: Tessera's own ARM-shaped read of the audit log (token activity), newest first.
import { isAppError } from '../../../core/errors.js';
import {
  AUDIT_EVENTS_API_VERSION,
  invalidQueryValue,
  listPage,
  parseAuditEventsQuery,
  parseListQuery,
  renderAuditEvent,
} from '../../../wire/arm/index.js';
import type { ArmResponse } from '../context.js';
import type { OperationContext, ResourceTypeDeclaration } from '../provider.js';

/** Events per page when `$top` is not given. */
const DEFAULT_TOP = 500;

/** One page of the events the query keeps, newest first. */
async function list(context: OperationContext): Promise<ArmResponse> {
  const { request } = context;
  const query = parseAuditEventsQuery(request.query);
  const { top, skipToken } = parseListQuery(request.query);
  const page = await context.services.store.audit
    .list(query, {
      limit: top ?? DEFAULT_TOP,
      ...(skipToken === undefined ? {} : { cursor: skipToken }),
    })
    .catch((error: unknown) => {
      // The store's own text for a cursor it did not make does not name the parameter.
      if (isAppError(error) && error.target === '$skipToken' && skipToken !== undefined) {
        throw invalidQueryValue('$skipToken', skipToken);
      }
      throw error;
    });
  return {
    status: 200,
    body: listPage(page.items.map(renderAuditEvent), {
      requestUrl: request.url,
      ...(page.nextCursor === undefined ? {} : { skipToken: page.nextCursor }),
    }),
  };
}

/**
 * `GET /providers/Tessera.Audit/events?api-version=2026-11-01` (Tessera's own; Azure has no such
 * API): the audit log, newest first, `$top` (1-1000, default 500) per page and `nextLink` with
 * `$skipToken` while more remain, as Tessera's other ARM lists page; filters `since`, `outcome`,
 * `principalId` and `kind` (`parseAuditEventsQuery`). A list at the tenant only, with no items.
 * Needs `Tessera.Audit/events/read` at `/` (403 `AuthorizationFailed`; Owner's `*` and Reader's
 * read-all hold it). A missing api-version is `MissingApiVersionParameter`, another one
 * `InvalidApiVersionParameter` (400), as ARM answers for its own types.
 */
export const auditEvents: ResourceTypeDeclaration = {
  type: 'Tessera.Audit/events',
  apiVersions: { authority: 'arm', versions: [AUDIT_EVENTS_API_VERSION] },
  placement: [],
  listAt: ['tenant'],
  operations: { list: { run: list, authorizeAt: 'container' } },
};
