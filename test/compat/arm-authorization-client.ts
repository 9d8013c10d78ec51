// Child process of arm-authorization.test.ts: the unmodified @azure/arm-authorization client, with
// @azure/identity's ClientSecretCredential, against Tessera over HTTPS; prints what each call
// returned as JSON.
//
// Inputs (client-kit.ts): TESSERA_COMPAT_{URL,TENANT_ID,CLIENT_ID,SECRET_FILE,SUBSCRIPTION_ID},
// TESSERA_COMPAT_SCOPE (an existing resource group's id), TESSERA_COMPAT_PRINCIPAL_ID (the
// principal to assign roles to) and TESSERA_COMPAT_ASSIGNMENT_{1,2} (GUIDs naming the Reader
// assignment, deleted at the end, and the Contributor one, kept).
import { AuthorizationManagementClient, type RoleDefinition } from '@azure/arm-authorization';
import { adminCredential, collect, input, outcomeOf, report, requestLog } from './client-kit.js';

const scopeId = input('SCOPE');
// The operations' path is `/{scope}/providers/…` with the scope inserted as is, so the scope goes
// without its leading '/', as in the SDK's samples (samples-dev/roleAssignmentsCreateSample.ts).
// The form its TSDoc shows, '/subscriptions/…', is sent as `//subscriptions/…` (leadingSlash),
// which ARM and Tessera accept too.
const scope = scopeId.replace(/^\//, '');
const principalId = input('PRINCIPAL_ID');
const readerAssignment = input('ASSIGNMENT_1');
const contributorAssignment = input('ASSIGNMENT_2');
const client = new AuthorizationManagementClient(
  await adminCredential(),
  input('SUBSCRIPTION_ID'),
  {
    endpoint: input('URL'),
    // Like arm-msi, it would otherwise ask for a token for `${endpoint}/.default`.
    credentialScopes: ['https://management.azure.com/.default'],
    additionalPolicies: [requestLog],
  },
);
const { roleAssignments, roleDefinitions } = client;

/** What the report keeps of a role definition. */
const pick = ({ id, name, roleName, roleType, assignableScopes }: RoleDefinition) => ({
  id,
  name,
  roleName,
  roleType,
  assignableScopes,
});

/** The id of the definition called `roleName` among those listed. */
const definitionNamed = (
  definitions: readonly { id?: string | undefined; roleName?: string | undefined }[],
  roleName: string,
): string => {
  const found = definitions.find((definition) => definition.roleName === roleName)?.id;
  if (found === undefined) throw new Error(`roleDefinitions.list found no '${roleName}'`);
  return found;
};

await report(async (step) => {
  const definitions = await step('definitions', () => collect(roleDefinitions.list(scope), pick));
  await step('readers', () =>
    collect(roleDefinitions.list(scope, { filter: "roleName eq 'Reader'" }), pick),
  );
  const assignment = (roleName: string) => ({
    roleDefinitionId: definitionNamed(definitions, roleName),
    principalId,
    principalType: 'ServicePrincipal' as const,
  });
  await step('created', () =>
    roleAssignments.create(scope, readerAssignment, assignment('Reader')),
  );
  await step('repeated', () =>
    roleAssignments.create(scope, readerAssignment, assignment('Reader')),
  );
  await step('kept', () =>
    roleAssignments.create(scope, contributorAssignment, assignment('Contributor')),
  );
  await step('inScope', () => collect(roleAssignments.listForScope(scope), (found) => found));
  await step('forPrincipal', () =>
    collect(
      roleAssignments.listForScope(scope, { filter: `principalId eq '${principalId}'` }),
      (found) => found.name,
    ),
  );
  await step('got', () => roleAssignments.get(scope, readerAssignment));
  await step('leadingSlash', () => outcomeOf(() => roleAssignments.get(scopeId, readerAssignment)));
  await step('deleted', () => roleAssignments.delete(scope, readerAssignment));
  await step('afterDelete', () => outcomeOf(() => roleAssignments.get(scope, readerAssignment)));
});
