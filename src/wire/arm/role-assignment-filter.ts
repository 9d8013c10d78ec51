// The `$filter` of a role-assignment list, as ARM reads it.
import type { AssignmentFilter } from '../../core/rbac/assignments-at.js';
import { unsupportedQuery } from './authorization-errors.js';

const ASSIGNMENT_FILTERS = "'atScope()' or 'principalId eq '{value}' or assignedTo('{value}')'";

/**
 * Parses ARM's filters: `atScope()` (at or above the scope), `principalId eq '{id}'` and
 * `assignedTo('{id}')` (at, above or below, for one principal; Tessera has no groups, so the
 * two are the same), and `atScope() and assignedTo('{id}')`; undefined is no filter. Anything
 * else is `UnsupportedQuery` (400)
 * (https://learn.microsoft.com/rest/api/authorization/role-assignments/list-for-scope;
 * the text as captured in turbot/steampipe-plugin-azure).
 */
export function parseAssignmentFilter(filter: string | undefined): AssignmentFilter {
  if (filter === undefined) return { atScope: false };
  let atScope = false;
  let principalId: string | undefined;
  let byPrincipalEq = false;
  for (const term of filter.split(/\s+and\s+/i)) {
    const eq = /^principalId\s+eq\s+'([^']*)'$/i.exec(term);
    const to = /^assignedTo\('([^']*)'\)$/i.exec(term);
    if (/^atScope\(\)$/i.test(term) && !atScope) atScope = true;
    else if (eq !== null && principalId === undefined) {
      principalId = eq[1];
      byPrincipalEq = true;
    } else if (to !== null && principalId === undefined) principalId = to[1];
    else throw unsupportedQuery(filter, ASSIGNMENT_FILTERS);
  }
  // ARM refuses `atScope() and principalId eq` (azure-powershell PR 20433).
  if (atScope && byPrincipalEq) throw unsupportedQuery(filter, ASSIGNMENT_FILTERS);
  return { atScope, ...(principalId === undefined ? {} : { principalId }) };
}
