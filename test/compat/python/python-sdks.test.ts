// Compatibility: Debian's Python Azure SDKs (python3-azure, python3-azure-storage), unmodified,
// under Debian's /usr/bin/python3, against real `tessera server` and `tessera agent` processes:
// ManagedIdentityCredential with every selector through the agent's IMDS, SecretClient with
// default options on a vault, the management SDKs with ClientSecretCredential on ARM over HTTPS,
// BlobServiceClient on Azurite with Tessera's tokens, and workload identity through
// ManagedIdentityCredential's token exchange. Every script runs in its own process; tokens are
// verified here with jose against the issuing server's JWKS (see python-setup.ts).
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../../src/core/rbac/index.js';
import { GUID } from '../harness.js';
import { imdsToken } from '../imds-probe.js';
import { DNS_SUFFIX } from '../keyvault-setup.js';
import type { TesseraServer } from '../processes.js';
import {
  installedPythonSdks,
  PYTHON,
  PYTHON_SDKS,
  type PythonOutput,
  type PythonToken,
  sdk,
  skipWithoutPythonSdks,
} from './harness.js';
import {
  BLOB_CONTENT,
  closePythonScenario,
  type Identity,
  type MainInstallation,
  MGMT_GROUP,
  type PythonResources,
  type PythonScenario,
  type Ran,
  SECRET_NAME,
  SECRET_VALUE,
  startPythonScenario,
  type StorageResults,
  type StsInstallation,
  VAULT_NAME,
  VM_NAME,
} from './python-setup.js';

const ID = sdk('azure-identity');
const KV = sdk('azure-keyvault-secrets');
const RESOURCE = sdk('azure-mgmt-resource');
const MSI = sdk('azure-mgmt-msi');
const AUTHORIZATION = sdk('azure-mgmt-authorization');
const COMPUTE = sdk('azure-mgmt-compute');
const BLOB = sdk('azure-storage-blob');
/** What the SDKs send as `resource` for `<resource>/.default`. */
const MANAGEMENT = 'https://management.azure.com';
const STORAGE = 'https://storage.azure.com';
const IMDS_TOKEN = '/metadata/identity/oauth2/token?api-version=2018-02-01';

/** Which identity each user-assigned selector must name. */
const SELECTORS: readonly {
  readonly step: 'clientId' | 'objectId' | 'msiResId' | 'miResId';
  readonly credential: string;
  readonly identity: 'uai1' | 'uai2';
  readonly query: (identity: Identity) => string;
}[] = [
  {
    step: 'clientId',
    credential: 'ManagedIdentityCredential(client_id=…)',
    identity: 'uai1',
    query: (i) => `client_id=${i.clientId}`,
  },
  {
    step: 'objectId',
    credential: 'ManagedIdentityCredential(identity_config={"object_id": …})',
    identity: 'uai1',
    query: (i) => `object_id=${i.principalId}`,
  },
  {
    step: 'msiResId',
    credential: 'ManagedIdentityCredential(identity_config={"msi_res_id": …})',
    identity: 'uai2',
    query: (i) => `msi_res_id=${i.id}`,
  },
  {
    step: 'miResId',
    credential: 'ManagedIdentityCredential(identity_config={"mi_res_id": …})',
    identity: 'uai2',
    query: (i) => `mi_res_id=${i.id}`,
  },
];

/** `host:port` of a URL, as the scripts' request log names it. */
const hostOf = (url: string): string => new URL(url).host;

describe.skipIf(skipWithoutPythonSdks('test/compat/python'))(
  `compatibility: Debian's Python Azure SDKs (python3-azure, ${PYTHON}) against tessera server and agent processes`,
  () => {
    const held: PythonResources = {};
    let scenario: PythonScenario | undefined;

    beforeAll(async () => {
      scenario = await startPythonScenario(held);
    }, 120_000);

    afterAll(() => closePythonScenario(held), 30_000);

    const started = (): PythonScenario => {
      if (scenario === undefined) throw new Error('the Python scenario did not start');
      return scenario;
    };
    const main = (): MainInstallation => {
      const installation = started().main;
      if (installation === undefined) throw new Error('the default-issuer installation failed');
      return installation;
    };
    const sts = (): StsInstallation => {
      const installation = started().sts;
      if (installation === undefined) throw new Error('the sts-issuer installation failed');
      return installation;
    };
    /** A script's results once it ran every step; its failure, stderr included, otherwise. */
    const ran = <Results>(outcome: Ran<Results>): PythonOutput<Results>['results'] => {
      if ('failure' in outcome) throw outcome.failure;
      const { output } = outcome;
      expect(output.ok, `${JSON.stringify(output.error)}\n${output.stderr}`).toBe(true);
      return output.results;
    };
    const requestsOf = <Results>(outcome: Ran<Results>): readonly string[] =>
      'output' in outcome ? outcome.output.requests : [];

    /** `token` verified with `server`'s JWKS, its issuer from v1 discovery, for `audience`. */
    async function verified(
      server: TesseraServer,
      token: string | undefined,
      audience: string,
    ): Promise<JWTPayload> {
      const discovery = (await (
        await fetch(`${server.url}/${server.tenantId}/.well-known/openid-configuration`)
      ).json()) as { issuer: string; jwks_uri: string };
      const { payload } = await jwtVerify(
        token ?? '',
        createRemoteJWKSet(new URL(discovery.jwks_uri)),
        { issuer: discovery.issuer, audience },
      );
      return payload;
    }

    /** Checks a management token a credential of the VM got: the identity's, `exp` as read. */
    async function expectVmToken(
      got: PythonToken | undefined,
      name: 'system' | 'uai1' | 'uai2',
    ): Promise<void> {
      const { server, identities, vmId } = main();
      const payload = await verified(server, got?.token, MANAGEMENT);
      const identity = identities[name];
      expect(payload).toMatchObject({
        oid: identity.principalId,
        appid: identity.clientId,
        tid: server.tenantId,
      });
      expect(String(payload.xms_mirid).toLowerCase()).toBe(identity.id.toLowerCase());
      if (name !== 'system') {
        expect(String(payload.xms_az_rid).toLowerCase()).toBe(vmId.toLowerCase());
      }
      // The SDK read IMDS's `expires_on`: its expiry is the token's.
      expect(got?.expires_on).toBe(payload.exp);
    }

    it(`python3-azure: ${PYTHON} imports Debian's SDK packages at the versions these titles name`, async () => {
      expect(await installedPythonSdks()).toEqual(PYTHON_SDKS);
    });

    it(`${ID} ManagedIdentityCredential(): the VM's system-assigned token, verified with Tessera's JWKS; get_token again comes from the credential's cache`, async () => {
      const { system, systemAgain } = ran(started().managedIdentity);
      await expectVmToken(system, 'system');
      expect(systemAgain?.token).toBe(system?.token);
      // Cached as `request time + expires_in` (MSAL's TokenCache), not `expires_on`: a second
      // or two earlier when the answer took that long.
      expect(Math.abs((systemAgain?.expires_on ?? 0) - (system?.expires_on ?? 0))).toBeLessThan(10);
    });

    for (const { step, credential, identity } of SELECTORS) {
      it(`${ID} ${credential}: the user-assigned identity's token, verified, with its oid, appid, xms_mirid and the VM's xms_az_rid`, async () => {
        await expectVmToken(ran(started().managedIdentity)[step], identity);
      });
    }

    it(`${ID} ManagedIdentityCredential: one GET per credential to {AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token, api-version 2018-02-01, the selector as named`, () => {
      ran(started().managedIdentity);
      const { agent, identities } = main();
      const prefix = `GET ${hostOf(agent.imdsUrl)}${IMDS_TOKEN}&resource=${MANAGEMENT}`;
      expect(requestsOf(started().managedIdentity)).toEqual([
        // Once for the system-assigned identity: the second get_token is the cache's.
        `${prefix} -> 200`,
        ...SELECTORS.map(
          ({ identity, query }) => `${prefix}&${query(identities[identity])} -> 200`,
        ),
        `${prefix}&client_id=${identities.workload.clientId} -> 400`,
      ]);
    });

    it(`${ID} ManagedIdentityCredential(client_id=<not on the VM>): IMDS's 400 is CredentialUnavailableError "The requested identity has not been assigned to this resource."`, () => {
      expect(ran(started().managedIdentity).unknown).toEqual({
        error: {
          type: 'CredentialUnavailableError',
          message:
            'ManagedIdentityCredential authentication unavailable. The requested identity has not been assigned to this resource.',
        },
      });
    });

    it(`${KV} SecretClient, default options, ManagedIdentityCredential: the challenge's resource https://${DNS_SUFFIX}:{port} passes verification; get_secret reads it`, async () => {
      const { got } = ran(started().keyVault);
      const { vaultUri, agent, identities, server } = main();
      const vault = vaultUri.replace(/\/$/, '');
      const port = new URL(vaultUri).port;
      const resource = `https://${DNS_SUFFIX}:${port}`;
      expect(got).toEqual({
        name: SECRET_NAME,
        value: SECRET_VALUE,
        id: expect.stringMatching(
          new RegExp(`^${vault.replace(/[.]/g, '\\.')}/secrets/${SECRET_NAME}/[0-9a-f]{32}$`),
        ) as unknown,
        version: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown,
        vaultUrl: vault,
        enabled: true,
        contentType: 'text/plain',
        tags: { by: 'test' },
        recoveryLevel: 'Recoverable+Purgeable',
      });
      const secret = `GET ${hostOf(vaultUri)}/secrets/${SECRET_NAME}/?api-version=7.3`;
      const imds = `GET ${hostOf(agent.imdsUrl)}${IMDS_TOKEN}&resource=${resource}`;
      expect(requestsOf(started().keyVault)).toEqual([
        // The challenge: the first request goes without a token.
        `${secret} -> 401`,
        `${imds} -> 200`,
        `${secret} -> 200`,
        `PUT ${hostOf(vaultUri)}/secrets/${SECRET_NAME}?api-version=7.3 -> 403`,
        // The second client has the challenge from the SDK's process-wide cache: no 401.
        `${imds}&client_id=${identities.uai2.clientId} -> 200`,
        `${secret} -> 403`,
      ]);
      // What IMDS gave the SDK: the identity's token with the challenge's resource as audience.
      const { access_token } = await imdsToken(agent.imdsUrl, { from: '127.0.0.1', resource });
      expect((await verified(server, access_token, resource)).oid).toBe(
        identities.system.principalId,
      );
    });

    /** What Key Vault's RBAC refusal of `action` tells `identity`, as HttpResponseError shows it. */
    const refused = (identity: Identity, action: string) => ({
      error: {
        type: 'HttpResponseError',
        status: 403,
        message: expect.stringMatching(
          new RegExp(
            [
              '^\\(Forbidden\\) Caller is not authorized to perform action on resource\\.\r\n',
              `Caller: appid=${identity.clientId};oid=${identity.principalId};`,
              `Action: 'Microsoft\\.KeyVault/vaults/secrets/${action}'\r\n`,
              `Resource: '[^']*/vaults/${VAULT_NAME}/secrets/${SECRET_NAME}'\r\n`,
              '\nCode: Forbidden\n',
              'Inner error: \\{\n {4}"code": "ForbiddenByRbac"\n\\}$',
            ].join('(?:.|\r|\n)*'),
          ),
        ) as unknown,
      },
    });

    it(`${KV} Key Vault Secrets User: set_secret is HttpResponseError 403 (Forbidden), ForbiddenByRbac, naming setSecret/action`, () => {
      expect(ran(started().keyVault).setDenied).toEqual(
        refused(main().identities.system, 'setSecret/action'),
      );
    });

    it(`${KV} no role: get_secret is HttpResponseError 403 (Forbidden), ForbiddenByRbac, naming getSecret/action`, () => {
      expect(ran(started().keyVault).getDenied).toEqual(
        refused(main().identities.uai2, 'getSecret/action'),
      );
    });

    it(`${ID} ClientSecretCredential(authority=…, instance_discovery=False): v2 discovery, then one token for the management SDKs' default scope ${MANAGEMENT}/.default`, async () => {
      const { asked } = ran(started().management);
      const { server } = main();
      // Four clients, each asking once for the default scope (base_url does not change it).
      expect(asked?.map(({ scopes }) => scopes)).toEqual(
        Array.from({ length: 4 }, () => [`${MANAGEMENT}/.default`]),
      );
      const payload = await verified(server, asked?.[0]?.token, MANAGEMENT);
      expect(payload).toMatchObject({ appid: server.adminClientId, oid: server.adminObjectId });
      const host = hostOf(server.httpsUrl);
      expect(requestsOf(started().management).slice(0, 2)).toEqual([
        `GET ${host}/${server.tenantId}/v2.0/.well-known/openid-configuration -> 200`,
        `POST ${host}/${server.tenantId}/oauth2/v2.0/token -> 200`,
      ]);
      // One token for all four clients: MSAL's cache answered the other three.
      expect(new Set(asked?.map(({ token }) => token)).size).toBe(1);
    });

    /** The management script's ARM requests, `METHOD /subscriptions/… -> status`. */
    const armRequests = (): string[] => {
      const host = hostOf(main().server.httpsUrl);
      return requestsOf(started().management)
        .filter((line) => line.includes(` ${host}/subscriptions/`))
        .map((line) => line.replace(` ${host}`, ' '));
    };
    const sub = (): string => main().server.subscriptionPath;

    it(`${RESOURCE} resource_groups create_or_update, list, begin_delete and check_existence with base_url alone, api-version 2022-09-01`, () => {
      const { groupCreated, groups, groupDeleted, groupExists } = ran(started().management);
      expect(groupCreated).toMatchObject({
        name: MGMT_GROUP,
        type: 'Microsoft.Resources/resourceGroups',
        location: 'westeurope',
        tags: { suite: 'python' },
        properties: { provisioning_state: 'Succeeded' },
      });
      expect(String(groupCreated?.id).toLowerCase()).toBe(
        `${sub()}/resourcegroups/${MGMT_GROUP}`.toLowerCase(),
      );
      expect(groups).toEqual(expect.arrayContaining(['py-compat-rg', MGMT_GROUP]));
      expect(groupDeleted).toBeNull();
      expect(groupExists).toBe(false);
      const group = `${sub()}/resourcegroups/${MGMT_GROUP}?api-version=2022-09-01`;
      expect(armRequests().filter((line) => line.includes('/resourcegroups'))).toEqual([
        `PUT ${group} -> 201`,
        `GET ${sub()}/resourcegroups?api-version=2022-09-01 -> 200`,
        // ARM deletes at once: the SDK's poller takes the 200 as done.
        `DELETE ${group} -> 200`,
        `HEAD ${group} -> 404`,
      ]);
    });

    it(`${RESOURCE} resource_groups.create_or_update at …/resourcegroups/{name}: the group's id, and its resources' ids, have Azure's …/resourceGroups/{name}`, () => {
      const { groupCreated, identityCreated } = ran(started().management);
      expect(groupCreated?.id).toBe(`${sub()}/resourceGroups/${MGMT_GROUP}`);
      expect(identityCreated?.id).toBe(
        `${sub()}/resourceGroups/${MGMT_GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/py-uai`,
      );
    });

    it(`${MSI} user_assigned_identities create_or_update, get, list_by_resource_group, list_by_subscription and delete, api-version 2018-11-30; get after delete is ResourceNotFoundError`, () => {
      const results = ran(started().management);
      const { server } = main();
      const id = `${sub()}/resourceGroups/${MGMT_GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/py-uai`;
      expect(results.identityCreated).toMatchObject({
        name: 'py-uai',
        type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
        location: 'westeurope',
        tags: { a: 'b' },
        tenant_id: server.tenantId,
        principal_id: expect.stringMatching(GUID) as unknown,
        client_id: expect.stringMatching(GUID) as unknown,
      });
      expect(String(results.identityCreated?.id).toLowerCase()).toBe(id.toLowerCase());
      expect(results.identity).toEqual(results.identityCreated);
      expect(results.identitiesInGroup?.map((i) => i.toLowerCase())).toEqual([id.toLowerCase()]);
      expect(results.identitiesInSubscription?.map((i) => i.toLowerCase())).toEqual(
        expect.arrayContaining([id.toLowerCase(), main().identities.uai1.id.toLowerCase()]),
      );
      expect(results.identityDeleted).toBeNull();
      expect(results.identityAfterDelete).toEqual({
        error: {
          type: 'ResourceNotFoundError',
          status: 404,
          message: expect.stringMatching(
            /^\(ResourceNotFound\) The Resource 'Microsoft\.ManagedIdentity\/userAssignedIdentities\/py-uai' under resource group 'py-mgmt-rg' was not found\./,
          ) as unknown,
        },
      });
      const path = `${sub()}/resourceGroups/${MGMT_GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`;
      const v = 'api-version=2018-11-30';
      expect(armRequests().filter((line) => line.includes('Microsoft.ManagedIdentity'))).toEqual([
        `PUT ${path}/py-uai?${v} -> 201`,
        `GET ${path}/py-uai?${v} -> 200`,
        `GET ${path}?${v} -> 200`,
        `GET ${sub()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?${v} -> 200`,
        `DELETE ${path}/py-uai?${v} -> 200`,
        `GET ${path}/py-uai?${v} -> 404`,
      ]);
    });

    it(`${RESOURCE} resources.list_by_resource_group and resources.list: the new identity in its group; the VM, vault and identities in the subscription`, () => {
      const { resourcesInGroup, resources } = ran(started().management);
      const lower = (list: { id: string; type: string }[] | undefined) =>
        (list ?? []).map(({ id, type }) => `${type} ${id.toLowerCase()}`);
      const group = `${sub()}/resourcegroups/${MGMT_GROUP}`.toLowerCase();
      const identityType = 'Microsoft.ManagedIdentity/userAssignedIdentities';
      expect(lower(resourcesInGroup)).toEqual([
        `${identityType} ${group}/providers/${identityType.toLowerCase()}/py-uai`,
      ]);
      const { identities, vmId } = main();
      expect(lower(resources)).toEqual(
        expect.arrayContaining([
          `Microsoft.Compute/virtualMachines ${vmId.toLowerCase()}`,
          `Microsoft.KeyVault/vaults ${sub().toLowerCase()}/resourcegroups/py-compat-rg/providers/microsoft.keyvault/vaults/${VAULT_NAME}`,
          `${identityType} ${identities.uai1.id.toLowerCase()}`,
          `${identityType} ${group}/providers/${identityType.toLowerCase()}/py-uai`,
        ]),
      );
      expect(armRequests().filter((line) => /\/resources\?/.test(line))).toEqual([
        `GET ${sub()}/resourceGroups/${MGMT_GROUP}/resources?api-version=2022-09-01 -> 200`,
        `GET ${sub()}/resources?api-version=2022-09-01 -> 200`,
      ]);
    });

    it(`${AUTHORIZATION} role_assignments create (Reader on a group, for the new identity), list_for_resource_group, get, delete and list_for_scope(atScope()), api-version 2022-04-01`, () => {
      const results = ran(started().management);
      const { server } = main();
      const scope = `${sub()}/resourcegroups/${MGMT_GROUP}`;
      const assignment = {
        name: expect.stringMatching(GUID) as unknown,
        type: 'Microsoft.Authorization/roleAssignments',
        role_definition_id: `${sub()}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLE_IDS.reader}`,
        principal_id: results.identityCreated?.principal_id,
        principal_type: 'ServicePrincipal',
        created_by: server.adminObjectId,
      };
      expect(results.assignmentCreated).toMatchObject(assignment);
      expect(String(results.assignmentCreated?.scope).toLowerCase()).toBe(scope.toLowerCase());
      const name = String(results.assignmentCreated?.name);
      expect(String(results.assignmentCreated?.id).toLowerCase()).toBe(
        `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`.toLowerCase(),
      );
      expect(results.assignment).toEqual(results.assignmentCreated);
      expect(results.assignmentDeleted).toEqual(results.assignmentCreated);
      // At the group and above it: the administrator's Owner at the root, inherited.
      expect(results.assignmentsInGroup).toEqual(
        expect.arrayContaining([
          results.assignmentCreated,
          expect.objectContaining({ scope: '/', principal_id: server.adminObjectId }),
        ]),
      );
      expect(results.assignmentsAfterDelete).not.toContain(name);
      const path = `${sub()}/resourceGroups/${MGMT_GROUP}/providers/Microsoft.Authorization/roleAssignments`;
      const v = 'api-version=2022-04-01';
      expect(armRequests().filter((line) => line.includes('Microsoft.Authorization'))).toEqual([
        `PUT ${path}/${name}?${v} -> 201`,
        `GET ${path}?${v} -> 200`,
        `GET ${path}/${name}?${v} -> 200`,
        `DELETE ${path}/${name}?${v} -> 200`,
        `GET ${path}?$filter=atScope()&${v} -> 200`,
      ]);
    });

    it(`${COMPUTE} virtual_machines.get, api-version 2022-08-01: the VM with its system-assigned and user-assigned identities`, () => {
      const { vm } = ran(started().management);
      const { identities, vmId, server } = main();
      expect(vm).toMatchObject({
        id: vmId,
        name: VM_NAME,
        type: 'Microsoft.Compute/virtualMachines',
        provisioning_state: 'Succeeded',
        identity: {
          type: 'SystemAssigned, UserAssigned',
          principal_id: identities.system.principalId,
          tenant_id: server.tenantId,
          user_assigned_identities: {
            [identities.uai1.id]: {
              principal_id: identities.uai1.principalId,
              client_id: identities.uai1.clientId,
            },
            [identities.uai2.id]: {
              principal_id: identities.uai2.principalId,
              client_id: identities.uai2.clientId,
            },
          },
        },
      });
      expect(armRequests()).toContain(`GET ${vmId}?api-version=2022-08-01 -> 200`);
    });

    /** Checks a storage script: the token Azurite took, and each Blob call. */
    async function expectBlobCalls(
      outcome: Ran<StorageResults>,
      identity: { readonly appid: string; readonly oid: string },
    ): Promise<void> {
      const results = ran(outcome);
      const { server, azurite } = sts();
      const payload = await verified(server, results.token?.token, STORAGE);
      expect(payload).toMatchObject({
        iss: `https://sts.windows.net/${server.tenantId}/`,
        ...identity,
      });
      expect(results).toMatchObject({
        accountName: 'devstoreaccount1',
        containerCreated: true,
        uploaded: true,
        listed: ['hello.txt'],
        downloaded: BLOB_CONTENT,
        deleted: null,
        afterDelete: {
          error: { type: 'ResourceNotFoundError', status: 404, code: 'BlobNotFound' },
        },
        containerDeleted: null,
      });
      const container = ` ${hostOf(azurite.blobUrl)}${new URL(azurite.blobUrl).pathname}/py-`;
      const calls = requestsOf(outcome)
        .filter((line) => line.includes(container))
        .map((line) => line.replace(/ \S+\/py-(secret|managed)/, ' {container}'));
      expect(calls).toEqual([
        'PUT {container}?restype=container -> 201',
        'PUT {container}/hello.txt -> 201',
        'GET {container}?restype=container&comp=list -> 200',
        // download_blob asks for a range.
        'GET {container}/hello.txt -> 206',
        'DELETE {container}/hello.txt -> 202',
        'HEAD {container}/hello.txt -> 404',
        'DELETE {container}?restype=container -> 202',
      ]);
    }

    it(`${BLOB} BlobServiceClient + ClientSecretCredential: Azurite takes the administrator's token for ${STORAGE}; container create, upload, list, download, delete`, async () => {
      const { server } = sts();
      await expectBlobCalls(started().blobSecret, {
        appid: server.adminClientId,
        oid: server.adminObjectId,
      });
    });

    it(`${BLOB} BlobServiceClient + ManagedIdentityCredential: Azurite takes the VM's IMDS token for ${STORAGE}; the same calls`, async () => {
      const { system } = sts();
      await expectBlobCalls(started().blobManaged, {
        appid: system.clientId,
        oid: system.principalId,
      });
      expect(requestsOf(started().blobManaged)[0]).toBe(
        `GET ${hostOf(sts().agent.imdsUrl)}${IMDS_TOKEN}&resource=${STORAGE} -> 200`,
      );
    });

    it(`${ID} ManagedIdentityCredential(), workload identity variables: the token exchange at {AZURE_AUTHORITY_HOST}/{tenant}/oauth2/v2.0/token; SecretClient reads the secret with it`, async () => {
      const { token, value } = ran(started().workload);
      const { server, identities } = main();
      const payload = await verified(server, token?.token, MANAGEMENT);
      expect(payload).toMatchObject({
        appid: identities.workload.clientId,
        appidacr: '2',
        oid: identities.workload.principalId,
        tid: server.tenantId,
      });
      expect(String(payload.xms_mirid).toLowerCase()).toBe(identities.workload.id.toLowerCase());
      expect(value).toBe(SECRET_VALUE);
      const host = hostOf(server.httpsUrl);
      const tokenRequest = `POST ${host}/${server.tenantId}/oauth2/v2.0/token -> 200`;
      const secret = `GET ${hostOf(main().vaultUri)}/secrets/${SECRET_NAME}/?api-version=7.3`;
      // No discovery (its own client, not MSAL): the token endpoint for each scope.
      expect(requestsOf(started().workload)).toEqual([
        tokenRequest,
        `${secret} -> 401`,
        tokenRequest,
        `${secret} -> 200`,
      ]);
    });
  },
);
