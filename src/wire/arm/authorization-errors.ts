// Microsoft.Authorization's refusals in ARM's words: unsupported filters, unknown roles, and the grants it turns down.
import type { AppError } from '../../core/errors.js';
import { conflict, notFound } from '../../core/errors.js';
import { type GrantProblem, SERVICE_PRINCIPAL } from '../../core/rbac/grant.js';
import { armError } from './arm-errors.js';

/** ARM's `UnsupportedQuery` (400) for a `$filter` Tessera does not evaluate. */
export function unsupportedQuery(filter: string, supported: string): AppError {
  return armError(
    'UnsupportedQuery',
    `The filter '${filter}' is not supported. Supported filters are either ${supported}.`,
  );
}

/**
 * ARM's `RoleDefinitionDoesNotExist`: "The specified role definition with ID '…' does not exist."
 * 404 on a definition read, 400 when an assignment names it. Source:
 * https://github.com/Azure/terraform-azurerm-caf-enterprise-scale (wiki troubleshooting page).
 */
export function roleDefinitionDoesNotExist(id: string, status: 400 | 404): AppError {
  return armError(
    'RoleDefinitionDoesNotExist',
    `The specified role definition with ID '${id}' does not exist.`,
    { status },
  );
}

/**
 * `InvalidRoleDefinitionId` (400): "The role definition ID '…' is not valid.", for a body's
 * `roleDefinitionId` and for a definition's own id in a path. Sources:
 * https://github.com/hashicorp/terraform-provider-azurerm/issues/8547 (an assignment's body),
 * https://github.com/hashicorp/terraform-provider-azurerm/pull/1827 (a DELETE of a definition).
 */
export function invalidRoleDefinitionId(id: string): AppError {
  return armError('InvalidRoleDefinitionId', `The role definition ID '${id}' is not valid.`);
}

/**
 * `InvalidRoleAssignmentId` (400). Source:
 * https://github.com/Azure/azure-service-operator/issues/2586 (a DELETE answered this way).
 */
export function invalidRoleAssignmentId(name: string): AppError {
  return armError(
    'InvalidRoleAssignmentId',
    `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`,
  );
}

/** `RoleAssignmentNotFound` (404). Source: terraform-azurerm-caf-enterprise-scale wiki. */
export function roleAssignmentNotFound(name: string): AppError {
  return notFound(`The role assignment '${name}' is not found.`, {
    wire: { arm: 'RoleAssignmentNotFound' },
  });
}

/**
 * A grant core refused (`grantRole`), in ARM's words; `tenantId` is the caller's directory,
 * which `PrincipalNotFound` names. Sources, one per answer:
 * - `InvalidRoleDefinitionId`: see {@link invalidRoleDefinitionId};
 * - `RoleDefinitionDoesNotExist` (400): see {@link roleDefinitionDoesNotExist};
 * - `InvalidPrincipalId`: https://github.com/Azure/azure-powershell/issues/16627;
 * - `PrincipalNotFound`: https://github.com/Azure/avdaccelerator/issues/99;
 * - `UnmatchedPrincipalType`, its typo and stray space kept: https://github.com/Azure/azure-dev/issues/5814;
 * - `InvalidRoleAssignmentRequest` for a condition: Tessera's text;
 * - `RoleAssignmentUpdateNotPermitted` (400, as deployments report it):
 *   https://github.com/Azure/Azure-Landing-Zones/issues/2040;
 * - `RoleAssignmentExists` (409): Azure-Samples/azure-search-openai-demo#1091.
 */
export function grantRefusal(problem: GrantProblem, tenantId: string, cause?: unknown): AppError {
  switch (problem.reason) {
    case 'invalid_role_definition_id':
      return invalidRoleDefinitionId(problem.roleDefinitionId);
    case 'role_definition_not_found':
      return roleDefinitionDoesNotExist(problem.roleDefinitionId, 400);
    case 'invalid_principal_id':
      return armError(
        'InvalidPrincipalId',
        `The Principal ID '${problem.principalId}' is not valid. Principal ID must be a GUID.`,
      );
    case 'principal_not_found':
      return armError(
        'PrincipalNotFound',
        `Principal ${problem.principalId.replaceAll('-', '')} does not exist in the directory ${tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
      );
    case 'principal_type_mismatch': {
      const given = JSON.stringify(problem.given).replaceAll('"', '');
      return armError(
        'UnmatchedPrincipalType',
        `The PrincipalId '${problem.principalId}' has type '${SERVICE_PRINCIPAL}' , which is different from specified PrinciaplType '${given}'.`,
      );
    }
    case 'condition_unsupported':
      return armError(
        'InvalidRoleAssignmentRequest',
        'Role assignment conditions are not supported by Tessera.',
      );
    case 'assignment_changed':
      return armError(
        'RoleAssignmentUpdateNotPermitted',
        'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.',
      );
    case 'assignment_exists':
      return conflict('The role assignment already exists.', {
        wire: { arm: 'RoleAssignmentExists' },
        cause,
      });
  }
}
