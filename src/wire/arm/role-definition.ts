// A custom role definition's PUT body read and checked as Azure checks it, and custom-role refusals in ARM's words.
import { conflict, type AppError } from '../../core/errors.js';
import { isRecord } from '../../core/guards.js';
import type { Permission } from '../../core/model.js';
import { MAX_ACTION_PATTERN_LENGTH } from '../../core/rbac/actions.js';
import type { CustomRoleContent, CustomRoleProblem } from '../../core/rbac/custom-roles.js';
import { parseScope } from '../../core/rbac/scope.js';
import { armError, invalidRequestContent, linkedInvalidPropertyId } from './arm-errors.js';
import { isGuid } from './resource-id.js';

/**
 * Bounds of a custom role. `roleName`, `description` and `assignableScopes` are Azure's ("Azure
 * custom roles", Custom role properties); `entries` (per permission list) is Tessera's, far above
 * the largest built-in role.
 */
export const CUSTOM_ROLE_LIMITS = {
  roleName: 512,
  description: 2048,
  assignableScopes: 2000,
  entries: 1000,
} as const;

const LISTS = ['actions', 'notActions', 'dataActions', 'notDataActions'] as const;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const NOT_IN_OPERATION = /[\s\u0000-\u001f\u007f]/;

/** `InvalidRoleDefinition` (400): Tessera's words for a body that is no custom role. */
function invalidRoleDefinition(message: string): AppError {
  return armError('InvalidRoleDefinition', message);
}

/**
 * `InvalidActionOrNotAction` (400), for an entry that is no operation (Azure answers so for one no
 * provider registers; Tessera checks the form only): "'…' does not match any of the actions
 * supported by the providers." (a Terraform configuration quoting `Status=400
 * Code="InvalidActionOrNotAction"` for `Microsoft.Billing/billingPeriods/read`; the JSON body in a
 * Go test of an Azure permission tool), and "'…' contains multiple wildcards. Only one is
 * allowed." (https://github.com/MicrosoftDocs/azure-docs/issues/74428).
 */
function invalidAction(pattern: string, multipleWildcards: boolean): AppError {
  const shown = pattern.length > 300 ? `${pattern.slice(0, 300)}…` : pattern;
  return armError(
    'InvalidActionOrNotAction',
    multipleWildcards
      ? `'${shown}' contains multiple wildcards. Only one is allowed.`
      : `'${shown}' does not match any of the actions supported by the providers.`,
  );
}

/**
 * `MissingAssignableScopes` (400), captured in Azure/azure-sdk-for-net
 * `src/ResourceManagement/Authorization/Authorization.Tests/SessionRecords/Authorization.Tests.BasicTests/RoleDefinitionCreateTests.json`
 * (a recorded run against Azure, 2015).
 */
function missingAssignableScopes(): AppError {
  return armError(
    'MissingAssignableScopes',
    'A role definition must have at least one assignable scope and all assignable scopes must be neither null nor empty.',
  );
}

/**
 * `InvalidAssignableScope` (400), Tessera's words for a scope Azure's rules refuse ("Custom role
 * limits": no wildcard) or Tessera does not serve as assignable (a resource), and for more than
 * 2000 of them.
 */
function invalidAssignableScope(scope: string, why: string): AppError {
  return armError(
    'InvalidAssignableScope',
    `The assignable scope '${scope.slice(0, 300)}' is not valid: ${why}.`,
  );
}

/**
 * `InvalidRoleDefinitionScope` (400), Tessera's words: a custom role is written at a subscription
 * or resource group, one of its assignable scopes or a scope above or below one.
 */
export function invalidRoleDefinitionScope(scope: string): AppError {
  return armError(
    'InvalidRoleDefinitionScope',
    `A custom role definition cannot be written at the scope '${scope}'. Write it at a subscription or resource group that is one of its assignable scopes, or above or below one.`,
  );
}

/** The string member `name` of `record`: undefined when absent or null; not a string is a fault. */
function optionalString(record: Record<string, unknown>, name: string, path: string) {
  const value = record[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw invalidRequestContent(`The value of '${path}' must be a string.`);
  }
  return value;
}

/** A permission list: absent or null is empty; each entry an operation with at most one `*`. */
function patternList(block: Record<string, unknown>, name: string, path: string): string[] {
  const value = block[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw invalidRequestContent(`The value of '${path}' must be a JSON array.`);
  }
  if (value.length > CUSTOM_ROLE_LIMITS.entries) {
    throw invalidRoleDefinition(
      `The permission list '${path}' has ${value.length} entries; at most ${CUSTOM_ROLE_LIMITS.entries} are allowed.`,
    );
  }
  return value.map((entry, i) => {
    if (typeof entry !== 'string') {
      throw invalidRequestContent(`The value of '${path}[${i}]' must be a string.`);
    }
    if (entry.split('*').length > 2) throw invalidAction(entry, true);
    const operationLike = entry === '*' || (entry.includes('/') && !entry.startsWith('/'));
    if (
      !operationLike ||
      entry.length > MAX_ACTION_PATTERN_LENGTH ||
      NOT_IN_OPERATION.test(entry)
    ) {
      throw invalidAction(entry, false);
    }
    return entry;
  });
}

/**
 * The permission block: none (Azure accepts an empty list, RoleDefinitionCreateTests' TODO), or
 * one; more is refused (Azure/azure-powershell#29060: "The Azure RBAC service does not currently
 * accept role definitions with more than one permission entry"; the answer is Tessera's words).
 */
function permissionsOf(properties: Record<string, unknown>): Permission[] {
  const value = properties.permissions;
  if (value !== undefined && value !== null && !Array.isArray(value)) {
    throw invalidRequestContent("The value of 'properties.permissions' must be a JSON array.");
  }
  if (!Array.isArray(value) || value.length === 0) return [];
  if (value.length > 1) {
    throw invalidRoleDefinition('A custom role definition has at most one permission entry.');
  }
  const block: unknown = value[0];
  const path = 'properties.permissions[0]';
  if (!isRecord(block)) {
    throw invalidRequestContent(`The value of '${path}' must be a JSON object.`);
  }
  const [actions, notActions, dataActions, notDataActions] = LISTS.map((name) =>
    patternList(block, name, `${path}.${name}`),
  ) as [string[], string[], string[], string[]];
  return [{ actions, notActions, dataActions, notDataActions }];
}

/**
 * The assignable scope at `index`: a subscription or resource group, as given without a trailing
 * slash. What does not start with `/subscriptions/{GUID}` (the root `/`, a management group,
 * which Tessera does not serve, or no scope at all) is ARM's `LinkedInvalidPropertyId`, as for
 * `Invalid_Scope` in RoleDefinitionCreateTests.json.
 */
function assignableScope(scope: string, index: number): string {
  if (scope.trim() === '') throw missingAssignableScopes();
  const path = `properties.assignableScopes[${index}]`;
  if (scope.includes('*')) throw invalidAssignableScope(scope, 'wildcards are not allowed');
  let parsed: ReturnType<typeof parseScope> | undefined;
  try {
    parsed = parseScope(scope);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || parsed.subscriptionId === null || !isGuid(parsed.subscriptionId)) {
    throw linkedInvalidPropertyId(scope.slice(0, 300), path);
  }
  if (parsed.kind === 'resource') {
    throw invalidAssignableScope(scope, 'it must be a subscription or a resource group');
  }
  return parsed.scope;
}

function assignableScopesOf(properties: Record<string, unknown>): string[] {
  const value = properties.assignableScopes;
  if (value !== undefined && value !== null && !Array.isArray(value)) {
    throw invalidRequestContent("The value of 'properties.assignableScopes' must be a JSON array.");
  }
  const scopes: unknown[] = Array.isArray(value) ? value : [];
  if (scopes.length === 0) throw missingAssignableScopes();
  if (scopes.length > CUSTOM_ROLE_LIMITS.assignableScopes) {
    throw armError(
      'InvalidAssignableScope',
      `A role definition has at most ${CUSTOM_ROLE_LIMITS.assignableScopes} assignable scopes; this one has ${scopes.length}.`,
    );
  }
  return scopes.map((scope, i) => {
    if (scope === null) throw missingAssignableScopes();
    if (typeof scope !== 'string') {
      throw invalidRequestContent(
        `The value of 'properties.assignableScopes[${i}]' must be a string.`,
      );
    }
    return assignableScope(scope, i);
  });
}

/** `RoleDefinitionNameNullOrEmpty` (400), as captured in RoleDefinitionCreateTests.json. */
function roleNameNullOrEmpty(): AppError {
  return armError(
    'RoleDefinitionNameNullOrEmpty',
    'A role definition must have a non-empty, unique name.',
  );
}

/** `InvalidRoleDefinitionType` (400), as captured in RoleDefinitionCreateTests.json. */
function invalidRoleDefinitionType(id: string, type: string): AppError {
  return armError(
    'InvalidRoleDefinitionType',
    `The role definition '${id}' request is not valid. The Role definition type value '${type.slice(0, 100)}' is not supported. The supported values are 'CustomRole'.`,
  );
}

/** A text member within `limit` characters (`InvalidRoleDefinition`, Tessera's words). */
function bounded(text: string, what: string, limit: number): string {
  if (text.length > limit) {
    throw invalidRoleDefinition(
      `The ${what} is ${text.length} characters long; at most ${limit} are allowed.`,
    );
  }
  return text;
}

/**
 * Reads the custom role `id` from a PUT body, `{"properties":{roleName, description, type,
 * permissions:[{actions, notActions, dataActions, notDataActions}], assignableScopes}}`
 * (RoleDefinition, 2022-04-01; `name`, `id` and the top-level `type` are read-only and ignored).
 * Checks, in order: the type `CustomRole` when given (`InvalidRoleDefinitionType`); a role name
 * (`RoleDefinitionNameNullOrEmpty`) of at most 512 characters and a description of at most 2048
 * (`InvalidRoleDefinition`); at most one permission entry whose lists hold at most 1000
 * operations with at most one wildcard each (`InvalidActionOrNotAction`); 1 to 2000 assignable
 * scopes (`MissingAssignableScopes`), each a subscription or resource group
 * (`LinkedInvalidPropertyId`, `InvalidAssignableScope`). A member of the wrong JSON type is
 * `InvalidRequestContent`. All are 400s. Captured codes and texts: Azure/azure-sdk-for-net
 * `src/ResourceManagement/Authorization/Authorization.Tests/SessionRecords/Authorization.Tests.BasicTests/RoleDefinitionCreateTests.json`.
 */
export function parseCustomRole(id: string, body: Record<string, unknown>): CustomRoleContent {
  const { properties } = body;
  if (properties !== undefined && properties !== null && !isRecord(properties)) {
    throw invalidRequestContent("The value of 'properties' must be a JSON object.");
  }
  if (!isRecord(properties)) throw roleNameNullOrEmpty();
  const type = optionalString(properties, 'type', 'properties.type');
  if (type !== undefined && type.toLowerCase() !== 'customrole') {
    throw invalidRoleDefinitionType(id, type);
  }
  const roleName = optionalString(properties, 'roleName', 'properties.roleName') ?? '';
  if (roleName.trim() === '') throw roleNameNullOrEmpty();
  const given = optionalString(properties, 'description', 'properties.description') ?? '';
  return {
    roleName: bounded(roleName, 'role name', CUSTOM_ROLE_LIMITS.roleName),
    description: bounded(given, 'description', CUSTOM_ROLE_LIMITS.description),
    permissions: permissionsOf(properties),
    assignableScopes: assignableScopesOf(properties),
  };
}

/**
 * Core's refusal of a custom-role write or delete in ARM's words. Sources:
 * - `RoleDefinitionExists` (409), "The role definition ID is already in use by a built-in role.",
 *   for a PUT: captured in RoleDefinitionCreateTests.json; `CannotDeleteBuiltInRole` (400) for a DELETE is
 *   Tessera's;
 * - `RoleDefinitionWithSameNameExists` (409): the code and status captured in RoleDefinitionCreateTests.json
 *   (2015, "A role definition cannot be updated with a name that already exists.", still so in
 *   Azure/ARO-RP#1346, 2021); the current text, "A custom role with the same name already exists
 *   in this directory.", as az prints it in Kong's Dedicated Cloud Gateways FAQ;
 * - `RoleDefinitionLimitExceeded`, "Role definition limit exceeded. No more role definitions can
 *   be created.": azure-docs `role-based-access-control/troubleshoot-limits.md` (status 400 is
 *   Tessera's guess);
 * - `RoleDefinitionHasAssignments`, "There are existing role assignments referencing role.":
 *   azure-docs `role-based-access-control/custom-roles.md` (status 409 is Tessera's guess);
 * - `InvalidRoleDefinitionScope`: Tessera's words.
 */
export function customRoleRefusal(problem: CustomRoleProblem): AppError {
  switch (problem.reason) {
    case 'built_in_role':
      return problem.deleting
        ? armError(
            'CannotDeleteBuiltInRole',
            `The role definition '${problem.id}' is a built-in role. Built-in roles cannot be deleted.`,
          )
        : conflict('The role definition ID is already in use by a built-in role.', {
            wire: { arm: 'RoleDefinitionExists' },
          });
    case 'scope_not_related':
      return invalidRoleDefinitionScope(problem.scope);
    case 'role_name_taken':
      return conflict('A custom role with the same name already exists in this directory.', {
        wire: { arm: 'RoleDefinitionWithSameNameExists' },
      });
    case 'limit_reached':
      return armError(
        'RoleDefinitionLimitExceeded',
        'Role definition limit exceeded. No more role definitions can be created.',
      );
    case 'has_assignments':
      return conflict('There are existing role assignments referencing role.', {
        wire: { arm: 'RoleDefinitionHasAssignments' },
      });
  }
}
