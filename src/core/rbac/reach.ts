// Which subscriptions a principal's role assignments reach.
import type { RoleAssignment } from '../model.js';

/** The subscriptions a principal may use: some by id, or all of them. */
export type SubscriptionReach =
  { readonly all: true } | { readonly all: false; readonly ids: ReadonlySet<string> };

/**
 * The subscriptions `assignments` reach: each one an assignment sits in (at the subscription, a
 * group or a resource of it), or every subscription when one sits above them (the tenant root).
 * Ids are lower-case. Azure documents no rule for `GET /subscriptions`; this is the one
 * PROTOCOL-TOOLS.md section 3.3 infers from Microsoft's own how-tos (a principal assigned on a
 * resource group sees that group's subscription).
 */
export function subscriptionsReached(assignments: readonly RoleAssignment[]): SubscriptionReach {
  const ids = new Set<string>();
  for (const { scope } of assignments) {
    const [, keyword, id] = scope.toLowerCase().split('/');
    if (keyword !== 'subscriptions' || id === undefined) return { all: true };
    ids.add(id);
  }
  return { all: false, ids };
}
