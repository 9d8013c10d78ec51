// ARM scopes (root, subscription, resource group, resource and child resource): parsed, and their ancestors listed.

import { invalidParameter } from '../errors.js';

/** What a scope names. */
export type ScopeKind = 'root' | 'managementGroup' | 'subscription' | 'resourceGroup' | 'resource';

/** A well-formed scope. */
export interface ParsedScope {
  readonly kind: ScopeKind;
  /** The scope as given, without a trailing slash (`/` for the root). */
  readonly scope: string;
  /** The case-insensitive key of the scope: lower case, no trailing slash. */
  readonly key: string;
  readonly subscriptionId: string | null;
  readonly resourceGroup: string | null;
  /**
   * Keys of every scope an assignment may sit at to apply here: the root, then each scope down
   * to this one (subscription, group, resource, child resource), this one last.
   */
  readonly ancestors: readonly string[];
}

/** Longer scopes are refused: ARM ids are far shorter, and ancestors grow with length. */
const MAX_SCOPE_LENGTH = 2048;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const BAD_SEGMENT = /[\u0000-\u001f\u007f?#]/;

/**
 * Parses an ARM scope: `/`, `/subscriptions/{s}`, `/subscriptions/{s}/resourceGroups/{g}`, and a
 * resource under any of them, `…/providers/{namespace}/{type}/{name}` with child resources
 * (`…/{childType}/{childName}`) and extension resources (a further `/providers/…`). Keywords
 * compare case-insensitively; one trailing slash is tolerated. Tenant-level resources, such as a
 * management group `/providers/Microsoft.Management/managementGroups/{id}`, sit under the root.
 *
 * Fails with a 400 `InvalidParameter` (target `scope`) when the scope is empty, does not start
 * with `/`, has an empty segment, a dangling keyword or an odd type/name pair, or is longer
 * than 2048 characters.
 */
export function parseScope(scope: string): ParsedScope {
  const fail = (why: string) =>
    invalidParameter('scope', `The scope '${scope.slice(0, 300)}' is not valid: ${why}.`);
  if (scope.length === 0) throw fail('it is empty');
  if (scope.length > MAX_SCOPE_LENGTH) throw fail('it is too long');
  if (!scope.startsWith('/')) throw fail("it must start with '/'");
  const trimmed = scope.length > 1 && scope.endsWith('/') ? scope.slice(0, -1) : scope;
  if (trimmed === '/' && scope !== '/') throw fail('it has an empty segment');
  if (trimmed === '/') {
    return {
      kind: 'root',
      scope: '/',
      key: '/',
      subscriptionId: null,
      resourceGroup: null,
      ancestors: ['/'],
    };
  }
  const segments = trimmed.slice(1).split('/');
  for (const segment of segments) {
    if (segment === '') throw fail('it has an empty segment');
    if (BAD_SEGMENT.test(segment)) throw fail('it has a character ARM ids never hold');
  }

  const ancestors = ['/'];
  let path = '';
  const descend = (...parts: string[]) => {
    path += `/${parts.join('/')}`;
    ancestors.push(path.toLowerCase());
  };
  let kind: ScopeKind = 'root';
  let subscriptionId: string | null = null;
  let resourceGroup: string | null = null;
  let i = 0;
  const word = (at: number) => segments[at]?.toLowerCase();

  if (word(0) === 'subscriptions') {
    subscriptionId = segments[1] ?? null;
    if (subscriptionId === null) throw fail('the subscription id is missing');
    descend(segments[0] ?? '', subscriptionId);
    kind = 'subscription';
    i = 2;
    if (word(2) === 'resourcegroups') {
      resourceGroup = segments[3] ?? null;
      if (resourceGroup === null) throw fail('the resource group name is missing');
      descend(segments[2] ?? '', resourceGroup);
      kind = 'resourceGroup';
      i = 4;
    }
  } else if (word(0) !== 'providers') {
    throw fail("it must begin with '/subscriptions/' or '/providers/'");
  }

  // Resources: `providers/{namespace}` then type/name pairs; `providers` again starts an
  // extension resource on the resource before it.
  while (i < segments.length) {
    if (word(i) !== 'providers') throw fail(`unexpected segment '${segments[i] ?? ''}'`);
    const namespace = segments[i + 1];
    const type = segments[i + 2];
    const name = segments[i + 3];
    if (namespace === undefined || type === undefined || name === undefined) {
      throw fail('a resource needs a namespace, a type and a name');
    }
    const prefix = [segments[i] ?? '', namespace];
    descend(...prefix, type, name);
    kind =
      i === 0 &&
      namespace.toLowerCase() === 'microsoft.management' &&
      type.toLowerCase() === 'managementgroups'
        ? 'managementGroup'
        : 'resource';
    i += 4;
    while (i < segments.length && word(i) !== 'providers') {
      const childType = segments[i] ?? '';
      const childName = segments[i + 1];
      if (childName === undefined) throw fail(`the child resource type '${childType}' has no name`);
      descend(childType, childName);
      kind = 'resource';
      i += 2;
    }
  }

  return {
    kind,
    scope: trimmed,
    key: path.toLowerCase(),
    subscriptionId,
    resourceGroup,
    ancestors,
  };
}

/**
 * The keys of `scope` and of every scope above it, root first (see {@link ParsedScope.ancestors}).
 * An assignment at any of them applies at `scope`. Fails as {@link parseScope} does.
 */
export function ancestorScopes(scope: string): readonly string[] {
  return parseScope(scope).ancestors;
}
