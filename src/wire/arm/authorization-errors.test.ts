import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';
import type { GrantProblem } from '../../core/rbac/grant.js';
import { grantRefusal } from './authorization-errors.js';

const P = '3c7a0b52-8f0e-4a3b-9c1d-2e4f6a8b0c1d';
const answered = (problem: GrantProblem) =>
  armFailure(() => {
    throw grantRefusal(problem, 'tenant-1');
  });

describe('grantRefusal', () => {
  it('answers each refusal with ARM’s code and status', () => {
    const cases: [GrantProblem, number, string][] = [
      [
        { reason: 'invalid_role_definition_id', roleDefinitionId: 'x' },
        400,
        'InvalidRoleDefinitionId',
      ],
      [
        { reason: 'role_definition_not_found', roleDefinitionId: 'x' },
        400,
        'RoleDefinitionDoesNotExist',
      ],
      [{ reason: 'invalid_principal_id', principalId: 'x' }, 400, 'InvalidPrincipalId'],
      [{ reason: 'principal_not_found', principalId: P }, 400, 'PrincipalNotFound'],
      [{ reason: 'condition_unsupported' }, 400, 'InvalidRoleAssignmentRequest'],
      [{ reason: 'assignment_changed' }, 400, 'RoleAssignmentUpdateNotPermitted'],
      [{ reason: 'assignment_exists' }, 409, 'RoleAssignmentExists'],
    ];
    for (const [problem, status, code] of cases) {
      expect(answered(problem)).toMatchObject({ status, code });
    }
  });

  it('names the principal without hyphens and the directory, as ARM does', () => {
    expect(answered({ reason: 'principal_not_found', principalId: P }).message).toMatch(
      /^Principal 3c7a0b528f0e4a3b9c1d2e4f6a8b0c1d does not exist in the directory tenant-1\./,
    );
  });

  it('keeps ARM’s typo and the type as sent, quotes removed', () => {
    const problem: GrantProblem = {
      reason: 'principal_type_mismatch',
      principalId: P,
      given: 'User',
    };
    expect(answered(problem)).toMatchObject({
      code: 'UnmatchedPrincipalType',
      message: `The PrincipalId '${P}' has type 'ServicePrincipal' , which is different from specified PrinciaplType 'User'.`,
    });
  });
});
