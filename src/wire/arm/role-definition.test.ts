// Tests for reading a custom role's PUT body and wording custom-role refusals as ARM does.
import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';
import type { CustomRoleProblem } from '../../core/rbac/custom-roles.js';
import { CUSTOM_ROLE_LIMITS, customRoleRefusal, parseCustomRole } from './role-definition.js';

const ID = '88888888-0000-0000-0000-000000000001';
const SUB = '/subscriptions/00000000-0000-0000-0000-000000000000';
const READ = 'Microsoft.Compute/*/read';

/** The body az 2.45 sent in its `test_role_definition_scenario` recording, trimmed. */
const azBody = {
  properties: {
    roleName: 'cli-test-role',
    description: 'Can monitor compute',
    permissions: [
      {
        actions: [READ, 'Microsoft.Compute/virtualMachines/start/action'],
        dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*'],
        notDataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'],
      },
    ],
    assignableScopes: [SUB],
  },
};

const withProperties = (properties: Record<string, unknown>) => ({
  properties: { ...azBody.properties, ...properties },
});
const failure = (body: Record<string, unknown>) => armFailure(() => parseCustomRole(ID, body));

describe('parseCustomRole', () => {
  it("reads az's body: absent lists empty, scopes without a trailing slash", () => {
    expect(parseCustomRole(ID, azBody)).toEqual({
      roleName: 'cli-test-role',
      description: 'Can monitor compute',
      permissions: [{ ...azBody.properties.permissions[0], notActions: [] }],
      assignableScopes: [SUB],
    });
    const sparse = parseCustomRole(ID, {
      name: 'ignored',
      properties: {
        roleName: 'R',
        type: 'customrole',
        assignableScopes: [`${SUB}/resourceGroups/G/`],
      },
    });
    expect(sparse).toEqual({
      roleName: 'R',
      description: '',
      permissions: [],
      assignableScopes: [`${SUB}/resourceGroups/G`],
    });
  });

  it('answers each bad body with the captured code and text, or Tessera’s', () => {
    expect(failure(withProperties({ type: 'BuiltInRole' }))).toEqual({
      status: 400,
      code: 'InvalidRoleDefinitionType',
      message: `The role definition '${ID}' request is not valid. The Role definition type value 'BuiltInRole' is not supported. The supported values are 'CustomRole'.`,
    });
    expect(failure(withProperties({ roleName: ' ' }))).toEqual({
      status: 400,
      code: 'RoleDefinitionNameNullOrEmpty',
      message: 'A role definition must have a non-empty, unique name.',
    });
    expect(failure(withProperties({ assignableScopes: [] }))).toMatchObject({
      code: 'MissingAssignableScopes',
      message:
        'A role definition must have at least one assignable scope and all assignable scopes must be neither null nor empty.',
    });
    expect(failure(withProperties({ assignableScopes: [SUB, 'Invalid_Scope'] }))).toMatchObject({
      code: 'LinkedInvalidPropertyId',
      message: expect.stringContaining(
        "Property id 'Invalid_Scope' at path 'properties.assignableScopes[1]' is invalid.",
      ) as unknown,
    });
    const multiple = 'Microsoft.CostManagement/*/query/*';
    expect(
      failure(withProperties({ permissions: [{ notActions: [READ, multiple] }] })),
    ).toMatchObject({
      code: 'InvalidActionOrNotAction',
      message: `'${multiple}' contains multiple wildcards. Only one is allowed.`,
    });
    expect(failure(withProperties({ permissions: [{ dataActions: ['/x/read'] }] }))).toMatchObject({
      code: 'InvalidActionOrNotAction',
      message: "'/x/read' does not match any of the actions supported by the providers.",
    });
  });

  it('refuses what is not a custom role Azure would take, each with a 400', () => {
    const long = (n: number) => 'x'.repeat(n);
    const cases: [Record<string, unknown>, string][] = [
      [{ properties: 'role' }, 'InvalidRequestContent'],
      [{}, 'RoleDefinitionNameNullOrEmpty'],
      [withProperties({ roleName: 7 }), 'InvalidRequestContent'],
      [
        withProperties({ roleName: long(CUSTOM_ROLE_LIMITS.roleName + 1) }),
        'InvalidRoleDefinition',
      ],
      [withProperties({ description: long(2049) }), 'InvalidRoleDefinition'],
      [withProperties({ permissions: {} }), 'InvalidRequestContent'],
      [withProperties({ permissions: [{}, {}] }), 'InvalidRoleDefinition'],
      [withProperties({ permissions: ['*'] }), 'InvalidRequestContent'],
      [withProperties({ permissions: [{ actions: [7] }] }), 'InvalidRequestContent'],
      [withProperties({ permissions: [{ actions: [''] }] }), 'InvalidActionOrNotAction'],
      [withProperties({ permissions: [{ actions: ['read'] }] }), 'InvalidActionOrNotAction'],
      [withProperties({ permissions: [{ actions: ['a/ b'] }] }), 'InvalidActionOrNotAction'],
      [
        withProperties({ permissions: [{ actions: [`a/${long(512)}`] }] }),
        'InvalidActionOrNotAction',
      ],
      [
        withProperties({ permissions: [{ actions: Array<string>(1001).fill(READ) }] }),
        'InvalidRoleDefinition',
      ],
      [withProperties({ assignableScopes: SUB }), 'InvalidRequestContent'],
      [withProperties({ assignableScopes: [null] }), 'MissingAssignableScopes'],
      [withProperties({ assignableScopes: ['/'] }), 'LinkedInvalidPropertyId'],
      [
        withProperties({ assignableScopes: ['/subscriptions/not-a-guid'] }),
        'LinkedInvalidPropertyId',
      ],
      [
        withProperties({
          assignableScopes: ['/providers/Microsoft.Management/managementGroups/m'],
        }),
        'LinkedInvalidPropertyId',
      ],
      [withProperties({ assignableScopes: [`${SUB}/*`] }), 'InvalidAssignableScope'],
      [
        withProperties({ assignableScopes: [`${SUB}/resourceGroups/g/providers/A.B/c/d`] }),
        'InvalidAssignableScope',
      ],
      [
        withProperties({ assignableScopes: Array<string>(2001).fill(SUB) }),
        'InvalidAssignableScope',
      ],
    ];
    for (const [body, code] of cases) {
      expect([JSON.stringify(body).slice(0, 120), failure(body)]).toMatchObject([
        expect.any(String),
        { status: 400, code },
      ]);
    }
    // The bounds themselves are taken.
    const edge = withProperties({
      roleName: long(CUSTOM_ROLE_LIMITS.roleName),
      description: long(CUSTOM_ROLE_LIMITS.description),
      permissions: [{ actions: ['*', `a/${long(500)}`] }],
      assignableScopes: Array<string>(CUSTOM_ROLE_LIMITS.assignableScopes).fill(SUB),
    });
    expect(parseCustomRole(ID, edge).assignableScopes).toHaveLength(2000);
  });
});

describe('customRoleRefusal', () => {
  it('answers each refusal with its code and status', () => {
    const cases: [CustomRoleProblem, number, string][] = [
      [{ reason: 'built_in_role', id: ID, deleting: false }, 409, 'RoleDefinitionExists'],
      [{ reason: 'built_in_role', id: ID, deleting: true }, 400, 'CannotDeleteBuiltInRole'],
      [{ reason: 'scope_not_related', scope: SUB }, 400, 'InvalidRoleDefinitionScope'],
      [{ reason: 'role_name_taken', roleName: 'R' }, 409, 'RoleDefinitionWithSameNameExists'],
      [{ reason: 'limit_reached', limit: 5000 }, 400, 'RoleDefinitionLimitExceeded'],
      [{ reason: 'has_assignments', id: ID }, 409, 'RoleDefinitionHasAssignments'],
    ];
    for (const [problem, status, code] of cases) {
      const answer = armFailure(() => {
        throw customRoleRefusal(problem);
      });
      expect(answer).toMatchObject({ status, code });
    }
  });
});
