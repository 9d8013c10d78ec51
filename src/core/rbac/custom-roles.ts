// Custom role definitions: written and deleted by Azure's rules, while the built-in roles stay as Azure ships them.
import { AppError, type ErrorCode, isAppError } from '../errors.js';
import type { EpochMs, Permission, RoleDefinition } from '../model.js';
import type { Store } from '../ports.js';
import { noteIdentityChanged } from '../resources/change-feed.js';
import { parseScope } from './scope.js';

/** Azure's limit of custom roles in one directory ("Azure custom roles", Custom role limits). */
export const MAX_CUSTOM_ROLES = 5000;

/** What a request says a custom role is, already checked for form (see `src/wire/arm`). */
export interface CustomRoleContent {
  readonly roleName: string;
  readonly description: string;
  readonly permissions: readonly Permission[];
  readonly assignableScopes: readonly string[];
}

/** Why a custom role is not written or deleted, with what a surface needs to word it. */
export type CustomRoleProblem =
  /** The id is a built-in role's (`deleting` for a delete, else a write). */
  | { readonly reason: 'built_in_role'; readonly id: string; readonly deleting: boolean }
  /** The scope written at is not one of the assignable scopes, nor above or below one. */
  | { readonly reason: 'scope_not_related'; readonly scope: string }
  /** Another role of the directory has the name (compared without case). */
  | { readonly reason: 'role_name_taken'; readonly roleName: string }
  /** The directory holds {@link MAX_CUSTOM_ROLES} custom roles already. */
  | { readonly reason: 'limit_reached'; readonly limit: number }
  /** Role assignments still name the role. */
  | { readonly reason: 'has_assignments'; readonly id: string };

/** A custom-role write or delete refused on purpose: a neutral {@link AppError} with its `problem`. */
export class CustomRoleProblemError extends AppError {
  readonly problem: CustomRoleProblem;

  constructor(problem: CustomRoleProblem, code: ErrorCode, status: number) {
    super(code, `The role definition is refused: ${problem.reason.replaceAll('_', ' ')}.`, {
      status,
    });
    this.problem = problem;
  }
}

/** True when `error` is a {@link CustomRoleProblemError}. */
export function isCustomRoleProblem(error: unknown): error is CustomRoleProblemError {
  return error instanceof CustomRoleProblemError;
}

const refuse = (problem: CustomRoleProblem, status = 400): CustomRoleProblemError =>
  new CustomRoleProblemError(problem, status === 409 ? 'Conflict' : 'InvalidParameter', status);

/** A built-in role is never written (409, as Azure answers a PUT) nor deleted (400). */
const builtIn = (id: string, deleting: boolean): CustomRoleProblemError =>
  refuse({ reason: 'built_in_role', id, deleting }, deleting ? 400 : 409);

/**
 * Refuses (by throwing) unless the caller holds the right on every scope of `requested` (the
 * assignable scopes a write asks for, which must exist) and of `current` (the role's assignable
 * scopes as stored, which may be gone since). ARM's linked authorization: Azure asks for
 * `roleDefinitions/write` or `/delete` on all assignable scopes.
 */
export type ScopeAuthorizer = (
  requested: readonly string[],
  current: readonly string[],
) => Promise<void>;

/**
 * True when the definition is seen at `scope`: one of its assignable scopes is `scope`, above it
 * (so it may be assigned there), or below it (Azure lists a role assignable in a resource group
 * at its subscription, and at the tenant root all custom roles of the directory). Scopes compare
 * case-insensitively, whole segment by whole segment. Fails as {@link parseScope} does.
 */
export function isVisibleAt(definition: RoleDefinition, scope: string): boolean {
  const key = parseScope(scope).key;
  return definition.assignableScopes.some((assignable) => {
    const at = parseScope(assignable).key;
    return related(at, key) || related(key, at);
  });
}

/** Whether `lower` is `upper` or below it. */
function related(upper: string, lower: string): boolean {
  return upper === '/' || upper === lower || lower.startsWith(`${upper}/`);
}

/** A custom role to create or replace. */
export interface CustomRoleWrite {
  /** The role's GUID, lower case. */
  readonly id: string;
  /** The scope the request writes at, checked to exist. */
  readonly scope: string;
  readonly content: CustomRoleContent;
  readonly at: EpochMs;
  /** Checks the caller's right on the new assignable scopes and, for a change, the old ones. */
  readonly authorize: ScopeAuthorizer;
}

/**
 * Creates or replaces the custom role `id` as ARM's PUT does: never a built-in role; the scope
 * written at seen by the role ({@link isVisibleAt}); the caller's right on every assignable
 * scope, old and new (`authorize`, whose refusal propagates); a role name no other role of the
 * directory has; at most {@link MAX_CUSTOM_ROLES} custom roles. The name and limit are checked
 * and the role stored in one transaction; a change tells the agents of every principal holding
 * the role, as an assignment change does. Refusals are {@link CustomRoleProblemError}s.
 */
export async function putCustomRole(
  store: Store,
  write: CustomRoleWrite,
): Promise<{ readonly created: boolean; readonly definition: RoleDefinition }> {
  const { id, content, at } = write;
  const existing = await store.roles.getDefinition(id);
  if (existing?.type === 'BuiltInRole') throw builtIn(id, false);
  const wanted: RoleDefinition = {
    id,
    type: 'CustomRole',
    ...content,
    createdAt: existing?.createdAt ?? at,
    updatedAt: at,
  };
  if (!isVisibleAt(wanted, write.scope)) {
    throw refuse({ reason: 'scope_not_related', scope: write.scope });
  }
  await write.authorize(content.assignableScopes, existing?.assignableScopes ?? []);
  return store.transaction(async (tx) => {
    const all = await tx.roles.listDefinitions();
    const current = all.find((d) => d.id.toLowerCase() === id);
    if (current?.type === 'BuiltInRole') throw builtIn(id, false);
    const name = content.roleName.toLowerCase();
    if (all.some((d) => d.id.toLowerCase() !== id && d.roleName.toLowerCase() === name)) {
      throw refuse({ reason: 'role_name_taken', roleName: content.roleName }, 409);
    }
    const customs = all.filter((d) => d.type === 'CustomRole').length;
    if (current === undefined && customs >= MAX_CUSTOM_ROLES) {
      throw refuse({ reason: 'limit_reached', limit: MAX_CUSTOM_ROLES });
    }
    const definition = { ...wanted, createdAt: current?.createdAt ?? at };
    // A concurrent writer's uncommitted role of the same name is seen only by the store's index.
    const { created } = await tx.roles.putDefinition(definition).catch((error: unknown) => {
      if (isAppError(error) && error.code === 'Conflict') {
        throw refuse({ reason: 'role_name_taken', roleName: content.roleName }, 409);
      }
      throw error;
    });
    if (!created) await noteHoldersChanged(tx, id, at);
    return { created, definition };
  });
}

/** A custom role to delete. */
export interface CustomRoleDelete {
  readonly id: string;
  /** The scope the request deletes at (the role must be seen there). */
  readonly scope: string;
  /** Checks the caller's right on the role's assignable scopes. */
  readonly authorize: ScopeAuthorizer;
}

/**
 * Deletes the custom role `id` as ARM's DELETE does, answering the deleted definition, or
 * undefined when there is none seen at the scope. A built-in role is `built_in_role`; the
 * caller's right on every assignable scope is checked (`authorize`); a role still assigned
 * anywhere is `has_assignments` (409), checked and deleted in one transaction.
 */
export async function deleteCustomRole(
  store: Store,
  request: CustomRoleDelete,
): Promise<RoleDefinition | undefined> {
  const { id } = request;
  const found = await store.roles.getDefinition(id);
  if (found?.type === 'BuiltInRole') throw builtIn(id, true);
  if (found === undefined || !isVisibleAt(found, request.scope)) return undefined;
  await request.authorize([], found.assignableScopes);
  return store.transaction(async (tx) => {
    const used = await tx.roles.listAssignments({ roleDefinitionId: id }, { limit: 1 });
    if (used.items.length > 0) throw refuse({ reason: 'has_assignments', id }, 409);
    return (await tx.roles.deleteDefinition(id)) ? found : undefined;
  });
}

/** Records a change for the VMs of every principal assigned role `id`: what it grants changed. */
async function noteHoldersChanged(store: Store, id: string, at: EpochMs): Promise<void> {
  const principals = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await store.roles.listAssignments(
      { roleDefinitionId: id },
      { limit: 500, cursor },
    );
    for (const assignment of page.items) principals.add(assignment.principalId);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  for (const principalId of principals) await noteIdentityChanged(store, at, principalId);
}
