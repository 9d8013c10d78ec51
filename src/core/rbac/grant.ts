// Granting a role at a scope by ARM's rules: a role assignable there, a known principal, one assignment per principal, role and scope.
import { AppError, type ErrorCode, isAppError } from '../errors.js';
import type { EpochMs, RoleAssignment } from '../model.js';
import type { Store } from '../ports.js';
import { addRoleAssignment, isAssignableAt } from './assignments.js';
import { parseRoleDefinitionId } from './role-definition-id.js';
import { parseScope } from './scope.js';

/** Every Tessera principal is a service principal (an application or a managed identity). */
export const SERVICE_PRINCIPAL = 'ServicePrincipal';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Why a grant is refused, with what a surface needs to word it. */
export type GrantProblem =
  /** `roleDefinitionId` is no role definition id at all. */
  | { readonly reason: 'invalid_role_definition_id'; readonly roleDefinitionId: string }
  /** No such definition, or it is not assignable at the scope. */
  | { readonly reason: 'role_definition_not_found'; readonly roleDefinitionId: string }
  /** `principalId` is not a GUID. */
  | { readonly reason: 'invalid_principal_id'; readonly principalId: string }
  | { readonly reason: 'principal_not_found'; readonly principalId: string }
  /** The request's principal type, `given` as sent, is not the principal's. */
  | {
      readonly reason: 'principal_type_mismatch';
      readonly principalId: string;
      readonly given: unknown;
    }
  /** Conditions (ABAC) are asked for; the evaluator has none. */
  | { readonly reason: 'condition_unsupported' }
  /** The name is taken by an assignment of another principal, role or scope. */
  | { readonly reason: 'assignment_changed' }
  /** The same principal has the same role at the same scope under another name. */
  | { readonly reason: 'assignment_exists' };

/** A grant refused on purpose: a neutral {@link AppError} whose `problem` says why. */
export class GrantProblemError extends AppError {
  readonly problem: GrantProblem;

  constructor(problem: GrantProblem, code: ErrorCode, status: number, cause?: unknown) {
    super(code, `The role assignment is refused: ${problem.reason.replaceAll('_', ' ')}.`, {
      status,
      cause,
    });
    this.problem = problem;
  }
}

/** True when `error` is a {@link GrantProblemError}. */
export function isGrantProblem(error: unknown): error is GrantProblemError {
  return error instanceof GrantProblemError;
}

const refuse = (problem: GrantProblem, status = 400, cause?: unknown): GrantProblemError =>
  new GrantProblemError(problem, status === 409 ? 'Conflict' : 'InvalidParameter', status, cause);

/** A role assignment to make, as a request gives it (members it leaves out are `''`). */
export interface GrantRequest {
  /** The assignment's GUID. */
  readonly name: string;
  /** The scope, checked to exist, in the store's case. */
  readonly scope: string;
  readonly roleDefinitionId: string;
  readonly principalId: string;
  /** As sent: absent or `null` is the principal's own. */
  readonly principalType: unknown;
  /** As sent: absent or `null` is none. */
  readonly condition: unknown;
  /** The caller's object id. */
  readonly createdBy: string;
  readonly at: EpochMs;
}

/** Checks the role, then the principal, then the condition, in that order (ARM's). */
async function checked(store: Store, request: GrantRequest) {
  const { roleDefinitionId, principalId, principalType } = request;
  const guid = parseRoleDefinitionId(roleDefinitionId);
  // An id that is no role definition id at all is refused before any lookup.
  if (guid === undefined) throw refuse({ reason: 'invalid_role_definition_id', roleDefinitionId });
  const definition = await store.roles.getDefinition(guid);
  if (definition === undefined || !isAssignableAt(definition, request.scope)) {
    throw refuse({ reason: 'role_definition_not_found', roleDefinitionId });
  }
  if (!GUID.test(principalId)) throw refuse({ reason: 'invalid_principal_id', principalId });
  const principal = await store.principals.get(principalId.toLowerCase());
  if (principal === undefined) throw refuse({ reason: 'principal_not_found', principalId });
  if (
    principalType !== undefined &&
    principalType !== null &&
    principalType !== SERVICE_PRINCIPAL
  ) {
    const mismatch = { principalId: principal.objectId, given: principalType };
    throw refuse({ reason: 'principal_type_mismatch', ...mismatch });
  }
  // Tessera's evaluator has no ABAC: granting without the condition would grant too much.
  if (request.condition !== undefined && request.condition !== null) {
    throw refuse({ reason: 'condition_unsupported' });
  }
  return { definition, principal };
}

/**
 * Grants a role as ARM's PUT of a role assignment does: the role must be assignable at the
 * scope, the principal must exist (its type, when given, `ServicePrincipal`), no condition may
 * be set. An identical assignment under the same name is answered as it stands (`created`
 * false); a different one under the name is `assignment_changed`, and the same principal, role
 * and scope under another name `assignment_exists` (409, also when a concurrent grant wins).
 * Refusals are {@link GrantProblemError}s; store failures propagate.
 */
export async function grantRole(
  store: Store,
  request: GrantRequest,
): Promise<{ readonly created: boolean; readonly assignment: RoleAssignment }> {
  const { definition, principal } = await checked(store, request);
  const scopeKey = parseScope(request.scope).key;
  const existing = await store.roles.getAssignment(request.name.toLowerCase());
  if (existing !== undefined) {
    const same =
      parseScope(existing.scope).key === scopeKey &&
      existing.principalId === principal.objectId &&
      existing.roleDefinitionId.toLowerCase() === definition.id.toLowerCase();
    if (!same) throw refuse({ reason: 'assignment_changed' });
    return { created: false, assignment: existing };
  }
  const duplicate = await store.roles.listAssignments(
    { principalId: principal.objectId, scope: request.scope, roleDefinitionId: definition.id },
    { limit: 1 },
  );
  if (duplicate.items.length > 0) throw refuse({ reason: 'assignment_exists' }, 409);
  const assignment: RoleAssignment = {
    id: request.name.toLowerCase(),
    scope: request.scope,
    roleDefinitionId: definition.id,
    principalId: principal.objectId,
    principalType: SERVICE_PRINCIPAL,
    createdAt: request.at,
    createdBy: request.createdBy,
  };
  try {
    await addRoleAssignment(store, assignment);
  } catch (error) {
    // A concurrent grant won the race: the same answer as a duplicate found above.
    if (isAppError(error) && error.code === 'Conflict') {
      throw refuse({ reason: 'assignment_exists' }, 409, error);
    }
    throw error;
  }
  return { created: true, assignment };
}
