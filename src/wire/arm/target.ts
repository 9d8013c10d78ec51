// What an ARM request path addresses: an item or a collection of a resource type, at a scope.
import { RESOURCE_TYPES } from '../../core/resource-types.js';

/** Where an addressed item or collection sits. */
export type ScopeKind = 'tenant' | 'subscription' | 'resourceGroup' | 'resource';

/**
 * A parsed ARM path. Keywords (`subscriptions`, `resourceGroups`, `providers`) and namespaces
 * match in any case; every name keeps the case it was sent in. ARM's own endpoints are types of
 * `Microsoft.Resources` too: `/tenants`, `/subscriptions[/{s}]`, `…/resourceGroups[/{g}]`,
 * `…/resources` and `[/subscriptions/{s}]/providers[/{namespace}]`.
 */
export interface ArmTarget {
  readonly subscriptionId?: string;
  readonly resourceGroup?: string;
  /** The namespace as sent (`Microsoft.Compute`), when the path has a `providers` segment. */
  readonly namespace?: string;
  /** `Microsoft.Compute/virtualMachines/extensions` as sent; ARM's own for groups and subscriptions. */
  readonly type: string;
  /** The names given, one per type segment (one fewer for a collection). */
  readonly names: readonly string[];
  /** True when the path ends at a type (a list or a collection action). */
  readonly collection: boolean;
  /** The path of what the item or collection sits in (`/` for the tenant). */
  readonly scope: string;
  readonly scopeKind: ScopeKind;
  /** The full type of the resource an extension type sits on (`{vm}/providers/...`); else absent. */
  readonly scopeType?: string;
  /** The item's id, or the collection's path, as sent (decoded). */
  readonly id: string;
}

const is = (segment: string | undefined, keyword: string): boolean =>
  segment?.toLowerCase() === keyword.toLowerCase();

/** The segments that may follow a scope: what a path under it goes on with. */
const isScopeKeyword = (segment: string | undefined): boolean =>
  ['providers', 'resources', 'deployments'].some((keyword) => is(segment, keyword));

/** ARM's own types: what `/tenants`, `/subscriptions`, `/resources` and `/providers` address. */
export const OWN_TYPES = {
  tenants: RESOURCE_TYPES.tenants,
  subscriptions: RESOURCE_TYPES.subscriptions,
  resourceGroups: RESOURCE_TYPES.resourceGroups,
  resources: RESOURCE_TYPES.resources,
  providers: RESOURCE_TYPES.providers,
} as const;

/**
 * Parses an ARM path (`/subscriptions/{s}/resourceGroups/{g}/providers/{ns}/{type}/{name}`, with
 * child types, extension types on a resource, tenant-level `/providers/...`, and ARM's own
 * endpoints), percent-decoding each segment. Returns undefined for a path of no ARM shape (an
 * empty segment, a malformed escape, a keyword out of place). A subscription id that is not a
 * GUID is kept: the subscription step refuses it in ARM's words.
 */
export function parseTarget(path: string): ArmTarget | undefined {
  let segments: string[];
  try {
    // One trailing slash is no segment: Python SDKs list deployments at `…/deployments/`.
    segments = path
      .replace(/(.)\/$/, '$1')
      .split('/')
      .slice(1)
      .map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (segments.length === 0 || segments.some((segment) => segment === '')) return undefined;
  const base = (count: number): string => `/${segments.slice(0, count).join('/')}`;
  let scope = '/';
  let scopeKind: ScopeKind = 'tenant';
  let subscriptionId: string | undefined;
  let resourceGroup: string | undefined;
  /** An item (`name` given) or a collection of one of ARM's own types at the current scope. */
  const own = (type: string, end: number, name?: string): ArmTarget => ({
    ...(subscriptionId === undefined ? {} : { subscriptionId }),
    ...(resourceGroup === undefined ? {} : { resourceGroup }),
    type,
    names: name === undefined ? [] : [name],
    collection: name === undefined,
    scope,
    scopeKind,
    id: base(end),
  });

  if (is(segments[0], 'tenants'))
    return segments.length === 1 ? own(OWN_TYPES.tenants, 1) : undefined;
  let index = 0;
  if (is(segments[0], 'subscriptions')) {
    subscriptionId = segments[1];
    if (segments.length <= 2) return own(OWN_TYPES.subscriptions, segments.length, segments[1]);
    scope = base(2);
    scopeKind = 'subscription';
    index = 2;
    if (is(segments[2], 'resourceGroups')) {
      if (segments.length <= 4) {
        resourceGroup = segments[3];
        return own(OWN_TYPES.resourceGroups, segments.length, segments[3]);
      }
      resourceGroup = segments[3];
      if (segments.length === 5 && !isScopeKeyword(segments[4])) {
        // An action on the group itself: `…/resourceGroups/{g}/exportTemplate`.
        return {
          ...own(`${OWN_TYPES.resourceGroups}/${segments[4]}`, 5),
          names: [segments[3] ?? ''],
        };
      }
      scope = base(4);
      scopeKind = 'resourceGroup';
      index = 4;
    }
    if (is(segments[index], 'resources') && segments.length === index + 1) {
      return own(OWN_TYPES.resources, index + 1);
    }
  }
  if (is(segments[index], 'deployments') && index > 0) {
    // Deployment operations are also addressed without their provider segments (deployment-history.md).
    segments.splice(index, 0, 'providers', 'Microsoft.Resources');
  }
  let scopeType: string | undefined;
  // Provider segments: `providers/{ns}/{type}/{name}[/{type}/{name}...]`, again for an extension.
  for (;;) {
    if (!is(segments[index], 'providers')) return undefined;
    const namespace = segments[index + 1];
    if (segments.length <= index + 2 && scopeKind !== 'resourceGroup' && scopeKind !== 'resource') {
      return {
        ...own(OWN_TYPES.providers, segments.length, namespace),
        ...(namespace === undefined ? {} : { namespace }),
      };
    }
    if (namespace === undefined) return undefined;
    const types: string[] = [];
    const names: string[] = [];
    let at = index + 2;
    while (at < segments.length && !is(segments[at], 'providers')) {
      types.push(segments[at] ?? '');
      const name = segments[at + 1];
      at += 2;
      if (name !== undefined) names.push(name);
    }
    if (types.length === 0) return undefined;
    const type = [namespace, ...types].join('/');
    if (at >= segments.length) {
      return {
        ...own(type, segments.length),
        namespace,
        names,
        collection: names.length < types.length,
        ...(scopeType === undefined ? {} : { scopeType }),
      };
    }
    // An extension type follows: what came so far is the resource it sits on.
    scope = base(at);
    scopeKind = 'resource';
    scopeType = type;
    index = at;
  }
}
