// Azure RBAC access checks: does a principal hold an action at a scope, through some role assignment at or above it.

import { invalidParameter } from '../errors.js';
import type { RoleAssignment, RoleDefinition } from '../model.js';
import type { Clock, RoleStore } from '../ports.js';
import { type ActionMatcher, compileActionPattern } from './actions.js';
import { parseRoleDefinitionId } from './role-definition-id.js';
import { parseScope } from './scope.js';

/** One access question. */
export interface RbacCheckInput {
  /** The object id of the caller (token `oid`). */
  readonly principalId: string;
  /** The operation, e.g. `Microsoft.Compute/virtualMachines/read`. No wildcards. */
  readonly action: string;
  /** The ARM scope acted on (see `parseScope`). */
  readonly scope: string;
  /** A data-plane action (checked against `dataActions`/`notDataActions`). Default false. */
  readonly dataAction?: boolean | undefined;
}

/** The answer; when allowed, which assignment (and role) granted it. */
export interface RbacDecision {
  readonly allowed: boolean;
  readonly matchedAssignmentId?: string;
  readonly roleName?: string;
}

export interface RbacEvaluator {
  /**
   * Whether `principalId` may perform `action` at `scope`. Fails with a 400 `InvalidParameter`
   * when the scope is malformed or the action is empty or holds a wildcard; store failures
   * propagate.
   */
  check(input: RbacCheckInput): Promise<RbacDecision>;
  /** Forgets cached role definitions and assignments (after this replica changed them). */
  invalidate(): void;
}

export interface RbacEvaluatorOptions {
  readonly store: { readonly roles: RoleStore };
  readonly clock: Clock;
  /** How long role definitions are kept in memory. Default 60 s. */
  readonly cacheTtlMs?: number;
  /**
   * How long the assignments read for one (principal, scope) are reused. Default 0: every check
   * reads the store, so a deleted assignment stops granting at once. A positive value saves that
   * read for repeated checks, at the price of revocation taking up to this long to be seen.
   */
  readonly assignmentCacheTtlMs?: number;
  /** At most this many (principal, scope) entries are kept. Default 10,000. */
  readonly assignmentCacheSize?: number;
}

interface CompiledPermission {
  readonly actions: readonly ActionMatcher[];
  readonly notActions: readonly ActionMatcher[];
  readonly dataActions: readonly ActionMatcher[];
  readonly notDataActions: readonly ActionMatcher[];
}

interface CompiledRole {
  readonly roleName: string;
  readonly permissions: readonly CompiledPermission[];
}

const DENIED: RbacDecision = { allowed: false };

/**
 * Builds an evaluator with Azure's semantics (Azure RBAC docs: "Understand scope", "Understand
 * role definitions"):
 * - an assignment applies at its scope and every scope below it; scopes compare
 *   case-insensitively, whole segment by whole segment (`/subscriptions/abc` is not above
 *   `/subscriptions/abcd`);
 * - a role grants a control-plane action when one of its `actions` matches and none of its
 *   `notActions` does, and a data action likewise with `dataActions`/`notDataActions` only, so
 *   `actions: ['*']` (Owner) grants no data action. `notActions` is no deny: it only narrows its
 *   own role, and another role may grant the same action (effective permissions are the union
 *   over roles). Each permission block of a role is evaluated on its own;
 * - the role is found by GUID whatever form the assignment names it in.
 *
 * Each check computes the target's ancestor scopes and reads the principal's assignments at
 * exactly those scopes in one indexed query. Role definitions come from memory, reloaded every
 * `cacheTtlMs`, or at once when an assignment names a role not seen yet. Not modelled: deny
 * assignments, ABAC conditions, group membership (pass the principal's own object id).
 */
export function createRbacEvaluator(options: RbacEvaluatorOptions): RbacEvaluator {
  const { store, clock } = options;
  const definitionTtlMs = options.cacheTtlMs ?? 60_000;
  const assignmentTtlMs = options.assignmentCacheTtlMs ?? 0;
  const assignmentCacheSize = options.assignmentCacheSize ?? 10_000;

  let roles: { loadedAt: number; byId: Map<string, CompiledRole> } | undefined;
  let loading: Promise<Map<string, CompiledRole>> | undefined;
  let generation = 0;
  const assignmentCache = new Map<string, { at: number; items: readonly RoleAssignment[] }>();

  function loadRoles(): Promise<Map<string, CompiledRole>> {
    if (loading !== undefined) return loading;
    const started = generation;
    const at = clock.now();
    const promise = store.roles
      .listDefinitions()
      .then((definitions) => {
        const byId = new Map(definitions.map((d) => [d.id.toLowerCase(), compileRole(d)]));
        // An invalidation while loading means what was read may already be stale.
        if (started === generation) roles = { loadedAt: at, byId };
        return byId;
      })
      .finally(() => {
        if (loading === promise) loading = undefined;
      });
    loading = promise;
    return promise;
  }

  async function currentRoles(): Promise<Map<string, CompiledRole>> {
    if (roles !== undefined && clock.now() - roles.loadedAt < definitionTtlMs) return roles.byId;
    return loadRoles();
  }

  async function resolveRole(
    byId: Map<string, CompiledRole>,
    roleDefinitionId: string,
  ): Promise<CompiledRole | undefined> {
    const guid = parseRoleDefinitionId(roleDefinitionId) ?? roleDefinitionId.toLowerCase();
    const known = byId.get(guid);
    if (known !== undefined) return known;
    // A role created since the last load (a custom role): read just that one.
    const definition = await store.roles.getDefinition(guid);
    if (definition === undefined) return undefined;
    const compiled = compileRole(definition);
    byId.set(guid, compiled);
    return compiled;
  }

  async function assignmentsAt(
    principalId: string,
    key: string,
    ancestors: readonly string[],
  ): Promise<readonly RoleAssignment[]> {
    if (assignmentTtlMs <= 0) {
      return store.roles.listAssignmentsForPrincipalAtScopes([principalId], ancestors);
    }
    const cacheKey = `${principalId}\n${key}`;
    const now = clock.now();
    const hit = assignmentCache.get(cacheKey);
    if (hit !== undefined && now - hit.at < assignmentTtlMs) return hit.items;
    const started = generation;
    const items = await store.roles.listAssignmentsForPrincipalAtScopes([principalId], ancestors);
    if (started === generation) {
      assignmentCache.delete(cacheKey);
      if (assignmentCache.size >= assignmentCacheSize) {
        const oldest = assignmentCache.keys().next().value;
        if (oldest !== undefined) assignmentCache.delete(oldest);
      }
      assignmentCache.set(cacheKey, { at: now, items });
    }
    return items;
  }

  return {
    async check(input) {
      const target = parseScope(input.scope);
      if (input.action === '' || input.action.includes('*')) {
        throw invalidParameter('action', 'The action must be a single operation, not a pattern.');
      }
      const action = input.action.toLowerCase();
      const data = input.dataAction === true;
      const [byId, assignments] = await Promise.all([
        currentRoles(),
        assignmentsAt(input.principalId, target.key, target.ancestors),
      ]);
      if (assignments.length === 0) return DENIED;

      // The nearest assignment is reported when several grant; ties go to the smaller id.
      const depth = (a: RoleAssignment) => target.ancestors.indexOf(normalizedKey(a.scope));
      const ordered = [...assignments].sort(
        (a, b) => depth(b) - depth(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
      for (const assignment of ordered) {
        const role = await resolveRole(byId, assignment.roleDefinitionId);
        if (role !== undefined && grants(role, action, data)) {
          return { allowed: true, matchedAssignmentId: assignment.id, roleName: role.roleName };
        }
      }
      return DENIED;
    },
    invalidate() {
      generation++;
      roles = undefined;
      loading = undefined;
      assignmentCache.clear();
    },
  };
}

const never: ActionMatcher = () => false;
const always: ActionMatcher = () => true;

function compileRole(definition: RoleDefinition): CompiledRole {
  // A stored pattern that does not compile fails closed: it grants nothing, and as an exclusion
  // it excludes everything.
  const compileAll = (patterns: readonly string[], invalid: ActionMatcher) =>
    patterns.map((pattern) => {
      try {
        return compileActionPattern(pattern);
      } catch {
        return invalid;
      }
    });
  return {
    roleName: definition.roleName,
    permissions: definition.permissions.map((p) => ({
      actions: compileAll(p.actions, never),
      notActions: compileAll(p.notActions, always),
      dataActions: compileAll(p.dataActions, never),
      notDataActions: compileAll(p.notDataActions, always),
    })),
  };
}

function grants(role: CompiledRole, action: string, data: boolean): boolean {
  return role.permissions.some((p) => {
    const allow = data ? p.dataActions : p.actions;
    const except = data ? p.notDataActions : p.notActions;
    return allow.some((m) => m(action)) && !except.some((m) => m(action));
  });
}

function normalizedKey(scope: string): string {
  const lower = scope.toLowerCase();
  return lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower;
}
