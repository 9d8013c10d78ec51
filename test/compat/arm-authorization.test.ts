// Compatibility: the real @azure/arm-authorization client (classic AutoRest, @azure/core-client)
// with @azure/identity's ClientSecretCredential, run in a child process against a real `tessera
// server` process over HTTPS: role definitions listed, role assignments created, listed, read,
// deleted.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS, BUILT_IN_ROLES } from '../../src/core/rbac/index.js';
import type { ReportedError } from './client-kit.js';
import { type ClientOutput, killClients, runClient } from './harness.js';
import { closeStarted, startTesseraServer, type TesseraServer } from './processes.js';

const CLIENT_SCRIPT = new URL('./arm-authorization-client.ts', import.meta.url);
const GROUP = 'authorization-rg';
const ASSIGNMENTS = 'Microsoft.Authorization/roleAssignments';
/** What @azure/arm-authorization 9.0.0 sends for role assignments and role definitions. */
const AUTHORIZATION_API_VERSION = '2022-04-01';

/** The SDK's `RoleDefinition`, as the client reports it. */
interface SdkDefinition {
  id: string;
  name: string;
  roleName: string;
  roleType: string;
  assignableScopes: string[];
}

/** The SDK's `RoleAssignment` model, as far as the test reads it. */
interface SdkAssignment {
  id: string;
  name: string;
  type: string;
  scope: string;
  roleDefinitionId: string;
  principalId: string;
  principalType: string;
  createdOn?: string;
}

interface Results {
  definitions: SdkDefinition[];
  readers: SdkDefinition[];
  created: SdkAssignment;
  repeated: SdkAssignment;
  kept: SdkAssignment;
  inScope: SdkAssignment[];
  forPrincipal: string[];
  got: SdkAssignment;
  leadingSlash: { value?: SdkAssignment; error?: ReportedError };
  deleted: SdkAssignment;
  afterDelete: { value?: unknown; error?: ReportedError };
}

describe('compatibility: @azure/arm-authorization role assignments over HTTPS', () => {
  let tessera: TesseraServer | undefined;
  let output: ClientOutput<Results>;
  /** The user-assigned identity's principal, which the client assigns roles to. */
  let principalId: string;
  const readerAssignment = randomUUID();
  const contributorAssignment = randomUUID();

  beforeAll(async () => {
    tessera = await startTesseraServer();
    const groupPath = `${tessera.subscriptionPath}/resourceGroups/${GROUP}`;
    const group = await tessera.arm('PUT', `${groupPath}?api-version=2021-04-01`, {
      location: 'westeurope',
    });
    expect(group.status).toBe(201);
    const uai = await tessera.arm(
      'PUT',
      `${groupPath}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/reader?api-version=2024-11-30`,
      { location: 'westeurope' },
    );
    expect(uai.status).toBe(201);
    principalId = (uai.body as { properties: { principalId: string } }).properties.principalId;
    output = await runClient<Results>(CLIENT_SCRIPT, {
      ...tessera.clientEnv,
      TESSERA_COMPAT_SCOPE: groupPath,
      TESSERA_COMPAT_PRINCIPAL_ID: principalId,
      TESSERA_COMPAT_ASSIGNMENT_1: readerAssignment,
      TESSERA_COMPAT_ASSIGNMENT_2: contributorAssignment,
    });
  }, 120_000);

  afterAll(async () => {
    killClients();
    await closeStarted();
  }, 30_000);

  const started = (): TesseraServer => {
    if (tessera === undefined) throw new Error('Tessera did not start');
    return tessera;
  };
  const scope = (): string => `${started().subscriptionPath}/resourceGroups/${GROUP}`;
  const definitionId = (guid: string): string =>
    `${started().subscriptionPath}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
  const expectedAssignment = (name: string, role: string) => ({
    id: `${scope()}/providers/${ASSIGNMENTS}/${name}`,
    name,
    type: ASSIGNMENTS,
    scope: scope(),
    roleDefinitionId: definitionId(role),
    principalId,
    principalType: 'ServicePrincipal',
  });

  it(`runs every call to the end, each with api-version ${AUTHORIZATION_API_VERSION}`, () => {
    expect(output.error).toBeUndefined();
    expect(output.ok).toBe(true);
    const query = `api-version=${AUTHORIZATION_API_VERSION}`;
    const at = `${scope()}/providers/Microsoft.Authorization`;
    expect(output.requests).toEqual([
      `GET ${at}/roleDefinitions?${query} -> 200`,
      `GET ${at}/roleDefinitions?${query}&$filter=roleName%20eq%20%27Reader%27 -> 200`,
      `PUT ${at}/roleAssignments/${readerAssignment}?${query} -> 201`,
      `PUT ${at}/roleAssignments/${readerAssignment}?${query} -> 200`,
      `PUT ${at}/roleAssignments/${contributorAssignment}?${query} -> 201`,
      `GET ${at}/roleAssignments?${query} -> 200`,
      `GET ${at}/roleAssignments?${query}&$filter=principalId%20eq%20%27${principalId}%27 -> 200`,
      `GET ${at}/roleAssignments/${readerAssignment}?${query} -> 200`,
      `GET /${at}/roleAssignments/${readerAssignment}?${query} -> 200`,
      `DELETE ${at}/roleAssignments/${readerAssignment}?${query} -> 200`,
      `GET ${at}/roleAssignments/${readerAssignment}?${query} -> 404`,
    ]);
  });

  it('roleDefinitions.list shows every built-in role, Reader and Contributor among them', () => {
    const { definitions, readers } = output.results;
    expect(definitions?.map((d) => d.name).toSorted()).toEqual(
      BUILT_IN_ROLES.map((d) => d.id).toSorted(),
    );
    const reader = {
      id: definitionId(BUILT_IN_ROLE_IDS.reader),
      name: BUILT_IN_ROLE_IDS.reader,
      roleName: 'Reader',
      roleType: 'BuiltInRole',
      assignableScopes: ['/'],
    };
    expect(definitions).toContainEqual(reader);
    expect(definitions).toContainEqual({
      ...reader,
      id: definitionId(BUILT_IN_ROLE_IDS.contributor),
      name: BUILT_IN_ROLE_IDS.contributor,
      roleName: 'Contributor',
    });
    expect(readers).toEqual([reader]);
  });

  it('roleAssignments.create assigns the role to the principal at the group, once', () => {
    const { created, repeated } = output.results;
    expect(created).toMatchObject(expectedAssignment(readerAssignment, BUILT_IN_ROLE_IDS.reader));
    expect(Number.isNaN(Date.parse(created?.createdOn ?? ''))).toBe(false);
    expect(repeated).toEqual(created);
    expect(output.results.kept).toMatchObject(
      expectedAssignment(contributorAssignment, BUILT_IN_ROLE_IDS.contributor),
    );
  });

  it('listForScope shows the assignments at and above the group; the filter keeps one principal', () => {
    const { inScope, forPrincipal } = output.results;
    const names = inScope?.map((a) => a.name);
    expect(names).toHaveLength(3);
    expect(names).toEqual(expect.arrayContaining([readerAssignment, contributorAssignment]));
    // The third is the administrator's Owner at the root, which the client authenticated as.
    const owner = BUILT_IN_ROLE_IDS.owner;
    expect(inScope).toContainEqual(
      expect.objectContaining({
        scope: '/',
        principalId: started().adminObjectId,
        // Rendered in the tenant form, as the assignment sits at the root.
        roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${owner}`,
      }),
    );
    expect(forPrincipal?.toSorted()).toEqual([readerAssignment, contributorAssignment].toSorted());
  });

  it('get returns the assignment; delete returns it and removes it from the store', async () => {
    const { arm } = started();
    const { created, got, deleted, afterDelete } = output.results;
    expect(got).toEqual(created);
    expect(deleted).toEqual(created);
    expect(afterDelete?.error).toMatchObject({
      name: 'RestError',
      code: 'RoleAssignmentNotFound',
      statusCode: 404,
    });
    // What ARM holds afterwards, read apart from the SDK.
    const at = (name: string): string =>
      `${scope()}/providers/${ASSIGNMENTS}/${name}?api-version=${AUTHORIZATION_API_VERSION}`;
    expect((await arm('GET', at(readerAssignment))).status).toBe(404);
    expect(await arm('GET', at(contributorAssignment))).toMatchObject({
      status: 200,
      body: {
        properties: {
          scope: scope(),
          roleDefinitionId: definitionId(BUILT_IN_ROLE_IDS.contributor),
          principalId,
          principalType: 'ServicePrincipal',
          createdBy: started().adminObjectId,
        },
      },
    });
  });

  // The scope as the SDK's TSDoc writes it ('/subscriptions/…') reaches the server as
  // `//subscriptions/…`. ARM accepts that (Microsoft's REST examples send
  // `https://management.azure.com//Subscriptions/…`, MicrosoftDocs/azure-docs
  // articles/backup/backup-azure-arm-userestapi-backupazurevms.md), and so does Tessera.
  it('get accepts the scope with its leading slash (sent as //subscriptions/…)', () => {
    expect(output.results.leadingSlash?.value).toEqual(output.results.got);
  });
});
