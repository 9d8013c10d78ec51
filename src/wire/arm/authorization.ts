// Microsoft.Authorization's bodies: role definitions as shown at a scope, role assignments, and the definitions' `$filter`.
import type { RoleAssignment, RoleDefinition } from '../../core/model.js';
import { parseScope } from '../../core/rbac/scope.js';
import { RESOURCE_TYPES } from '../../core/resource-types.js';
import { unsupportedQuery } from './authorization-errors.js';
import { queryValues } from './envelope.js';

const ASSIGNMENTS = RESOURCE_TYPES.roleAssignments;
const DEFINITIONS = RESOURCE_TYPES.roleDefinitions;
const DEFINITION_FILTERS = "'roleName eq '{value}'' or 'type eq '{value}''";

/**
 * A definition's id as ARM shows it at `scope`: under a subscription,
 * `/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}`; elsewhere the
 * tenant form `/providers/…` (GetRoleDefinitionById.json, azure-rest-api-specs 2022-04-01).
 */
export function roleDefinitionIdAt(guid: string, scope: string): string {
  const { subscriptionId } = parseScope(scope);
  const prefix = subscriptionId === null ? '' : `/subscriptions/${subscriptionId}`;
  return `${prefix}/providers/${DEFINITIONS}/${guid.toLowerCase()}`;
}

/** A definition's permission blocks as Azure's `Permission` (2022-04-01) has them. */
export function permissionBlocks(definition: RoleDefinition): unknown[] {
  return definition.permissions.map((p) => ({
    actions: p.actions,
    notActions: p.notActions,
    dataActions: p.dataActions,
    notDataActions: p.notDataActions,
  }));
}

/** Who ARM names as a definition's author: object ids, null where it names nobody. */
export interface RoleDefinitionAuthors {
  readonly createdBy: string | null;
  readonly updatedBy: string | null;
}

const NO_AUTHORS: RoleDefinitionAuthors = { createdBy: null, updatedBy: null };

/**
 * A role definition as ARM shows it at `scope` (RoleDefinition, 2022-04-01). `authors` default to
 * none, as for built-in roles; the answer to a PUT names the caller as `updatedBy` and no
 * `createdBy`, as Azure's does (az's recording `test_role_definition_scenario.yaml`).
 */
export function renderRoleDefinition(
  definition: RoleDefinition,
  scope: string,
  authors: RoleDefinitionAuthors = NO_AUTHORS,
): unknown {
  return {
    properties: {
      roleName: definition.roleName,
      type: definition.type,
      description: definition.description,
      assignableScopes: definition.assignableScopes,
      permissions: permissionBlocks(definition),
      createdOn: new Date(definition.createdAt).toISOString(),
      updatedOn: new Date(definition.updatedAt).toISOString(),
      createdBy: authors.createdBy,
      updatedBy: authors.updatedBy,
    },
    id: roleDefinitionIdAt(definition.id, scope),
    type: DEFINITIONS,
    name: definition.id,
  };
}

/** A role assignment as ARM shows it (RoleAssignment, 2022-04-01): no conditions, no delegation. */
export function renderRoleAssignment(assignment: RoleAssignment): unknown {
  const at = new Date(assignment.createdAt).toISOString();
  const { scope } = assignment;
  return {
    properties: {
      roleDefinitionId: roleDefinitionIdAt(assignment.roleDefinitionId, scope),
      principalId: assignment.principalId,
      principalType: assignment.principalType,
      scope,
      condition: null,
      conditionVersion: null,
      createdOn: at,
      updatedOn: at,
      createdBy: assignment.createdBy,
      updatedBy: assignment.createdBy,
      delegatedManagedIdentityResourceId: null,
      description: null,
    },
    id: `${scope === '/' ? '' : scope}/providers/${ASSIGNMENTS}/${assignment.id}`,
    type: ASSIGNMENTS,
    name: assignment.id,
  };
}

/**
 * The `$filter` of a query (name in any case, repeats joined by commas); undefined when absent
 * or blank.
 */
export function queryFilter(
  query: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  const text = queryValues(query, '$filter').join(',').trim();
  return text === '' ? undefined : text;
}

/**
 * Which definitions a list keeps: `roleName eq '{value}'` or `type eq '{value}'`, compared
 * without case; every one without a filter. Another filter is `UnsupportedQuery` (400).
 */
export function parseDefinitionFilter(
  filter: string | undefined,
): (definition: RoleDefinition) => boolean {
  if (filter === undefined) return () => true;
  const match = /^(roleName|type)\s+eq\s+'(.*)'$/i.exec(filter);
  if (match === null) throw unsupportedQuery(filter, DEFINITION_FILTERS);
  const field = (match[1] ?? '').toLowerCase() === 'type' ? 'type' : 'roleName';
  const value = (match[2] ?? '').toLowerCase();
  return (definition) => definition[field].toLowerCase() === value;
}
