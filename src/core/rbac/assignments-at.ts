// The role assignments that concern a scope: those above it, at it and below it, paged.
import type { RoleAssignment } from '../model.js';
import type { Store } from '../ports.js';
import { parseScope } from './scope.js';

/** Assignments read per scope above the listed one: far more than any real scope holds. */
const ABOVE_LIMIT = 1000;

/** Which assignments a list keeps. */
export interface AssignmentFilter {
  /** Only those at or above the scope (none below). */
  readonly atScope: boolean;
  /** Only this principal's. */
  readonly principalId?: string;
}

/** One page of {@link assignmentsAt}; `next` is the store's cursor while more remain. */
export interface AssignmentsPage {
  readonly items: readonly RoleAssignment[];
  readonly next?: string | undefined;
}

/**
 * The assignments at, above and below `scope` that `filter` keeps (with `atScope`, none below).
 * The first page (no `cursor`) holds those above the scope; the rest pages through the scope
 * and below, `limit` at a time, with the store's cursor.
 */
export async function assignmentsAt(
  store: Store,
  scope: string,
  filter: AssignmentFilter,
  page: { readonly limit: number; readonly cursor?: string | undefined },
): Promise<AssignmentsPage> {
  const { roles } = store;
  const { ancestors } = parseScope(scope);
  const items: RoleAssignment[] = [];
  if (page.cursor === undefined) {
    const above = filter.atScope ? ancestors : ancestors.slice(0, -1);
    if (filter.principalId !== undefined) {
      items.push(...(await roles.listAssignmentsForPrincipalAtScopes([filter.principalId], above)));
    } else {
      for (const at of above) {
        items.push(...(await roles.listAssignments({ scope: at }, { limit: ABOVE_LIMIT })).items);
      }
    }
  }
  if (filter.atScope) return { items };
  const below = await roles.listAssignments(
    {
      scopeUnder: scope,
      ...(filter.principalId === undefined ? {} : { principalId: filter.principalId }),
    },
    { limit: page.limit, ...(page.cursor === undefined ? {} : { cursor: page.cursor }) },
  );
  items.push(...below.items);
  return { items, next: below.nextCursor };
}
