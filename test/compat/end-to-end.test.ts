// Compatibility, end to end: the official clients, unmodified, against Tessera as a user runs it:
// `tessera server`, `tessera agent` and `tessera extension` as real processes on loopback ports,
// bootstrapped through the CLI and ARM. Each SDK runs in a child process of its own.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRemoteJWKSet, decodeJwt, type JWTPayload, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import type { ReportedError } from './client-kit.js';
import {
  type ClientOutput,
  FOREIGN_IDENTITY_ENV,
  GUID,
  killClients,
  runClient,
} from './harness.js';
import { imdsToken } from './imds-probe.js';
import { closeStarted, startTesseraProcesses, type TesseraProcesses } from './processes.js';
import { installedVersion } from './versions.js';

const IDENTITY = `@azure/identity ${installedVersion('@azure/identity')}`;
const MSAL = `@azure/msal-node ${installedVersion('@azure/msal-node')}`;
const ARM_MSI = `@azure/arm-msi ${installedVersion('@azure/arm-msi')}`;
const JOSE = `jose ${installedVersion('jose')}`;

const GROUP = 'e2e-rg';
const UAI_V = 'api-version=2023-01-31';
const VM_V = 'api-version=2024-07-01';
/** The VM with a system-assigned identity and one user-assigned identity (`uai-a`). */
const VM1_ADDRESS = '127.0.0.1';
/** The VM with two user-assigned identities (`uai-b`, `uai-c`) and no system-assigned one. */
const VM2_ADDRESS = '127.0.0.2';
/** IMDS's `resource` in the seed's curl command (with the slash) and in MSAL's scenarios. */
const ARM_RESOURCE = 'https://management.azure.com/';
const MSAL_RESOURCE = 'https://management.azure.com';

/** IMDS's token body members, in Azure's order (PROTOCOL.md 1.4). */
const IMDS_TOKEN_MEMBERS = [
  'access_token',
  'client_id',
  'expires_in',
  'expires_on',
  'ext_expires_in',
  'not_before',
  'resource',
  'token_type',
];
/** The extension's token body members (PROTOCOL.md section 3). */
const EXTENSION_TOKEN_MEMBERS = [
  'access_token',
  'refresh_token',
  'expires_in',
  'expires_on',
  'not_before',
  'resource',
  'token_type',
];

const run = promisify(execFile);

/** What the shell prints for `command` (as a user types it) and the HTTP status curl saw. */
async function curl(command: string): Promise<{ status: number; body: string }> {
  // `-s -w` only change what curl reports (no progress meter; the status on a last line).
  const { stdout } = await run('sh', ['-c', `${command} -s -w '\\n%{http_code}'`]);
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

/** An identity as ARM showed it when it was made. */
interface Identity {
  /** ARM id: the VM's for a system-assigned identity. */
  readonly id: string;
  readonly principalId: string;
  /** Unknown to ARM for a system-assigned identity. */
  readonly clientId?: string;
}

/** MSAL's `AuthenticationResult`, as the child printed it. */
interface MsalResult {
  accessToken: string;
  expiresOn: string;
  tokenType: string;
  fromCache: boolean;
  scopes: string[];
}
interface MsalResults {
  source: string;
  system: MsalResult;
  systemAgain: MsalResult;
  clientId: MsalResult;
}
interface IdentityResults {
  error: { value?: unknown; error?: ReportedError };
}
interface ArmResults {
  created: { id: string; name: string; principalId: string; clientId: string; tenantId: string };
  readerGot: { id: string };
  readerCreate: { value?: unknown; error?: ReportedError };
}

describe('compatibility: the official clients against real tessera server, agent and extension processes', () => {
  let tessera: TesseraProcesses | undefined;
  let extensionUrl: string;
  const identities = {} as Record<'system' | 'uaiA' | 'uaiB' | 'uaiC', Identity>;
  let vm1Id: string;
  let vm2Id: string;
  let discovery: { issuer: string; jwks_uri: string };
  let msal: ClientOutput<MsalResults>;
  let multiple: ClientOutput<IdentityResults>;
  let notFound: ClientOutput<IdentityResults>;
  let arm: ClientOutput<ArmResults>;

  const started = (): TesseraProcesses => {
    if (tessera === undefined) throw new Error('Tessera did not start');
    return tessera;
  };

  beforeAll(async () => {
    const t = await startTesseraProcesses('e2e-host');
    tessera = t;
    const groupPath = `${t.subscriptionPath}/resourceGroups/${GROUP}`;
    const put = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
      const reply = await t.arm('PUT', path, body);
      if (reply.status !== 201) {
        throw new Error(`PUT ${path}: ${String(reply.status)} ${JSON.stringify(reply.body)}`);
      }
      return reply.body as Record<string, unknown>;
    };
    await put(`${groupPath}?api-version=2021-04-01`, { location: 'westeurope' });
    for (const [key, name] of [
      ['uaiA', 'uai-a'],
      ['uaiB', 'uai-b'],
      ['uaiC', 'uai-c'],
    ] as const) {
      const body = await put(
        `${groupPath}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}?${UAI_V}`,
        { location: 'westeurope' },
      );
      const { principalId, clientId } = body.properties as {
        principalId: string;
        clientId: string;
      };
      identities[key] = { id: body.id as string, principalId, clientId };
    }
    const vm = (name: string, address: string, identity: unknown) =>
      put(`${groupPath}/providers/Microsoft.Compute/virtualMachines/${name}?${VM_V}`, {
        location: 'westeurope',
        identity,
        properties: { tessera: { hostId: t.hostId, privateIpAddresses: [address] } },
      });
    const vm1 = await vm('vm-one', VM1_ADDRESS, {
      type: 'SystemAssigned, UserAssigned',
      userAssignedIdentities: { [identities.uaiA.id]: {} },
    });
    vm1Id = vm1.id as string;
    identities.system = {
      id: vm1Id,
      principalId: (vm1.identity as { principalId: string }).principalId,
    };
    vm2Id = (
      await vm('vm-two', VM2_ADDRESS, {
        type: 'UserAssigned',
        userAssignedIdentities: { [identities.uaiB.id]: {}, [identities.uaiC.id]: {} },
      })
    ).id as string;

    // The VM's system identity may write in its group; uai-a may only read.
    for (const [role, principal] of [
      ['contributor', identities.system],
      ['reader', identities.uaiA],
    ] as const) {
      await put(
        `${groupPath}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}?api-version=2022-04-01`,
        {
          properties: {
            roleDefinitionId: `${t.subscriptionPath}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLE_IDS[role]}`,
            principalId: principal.principalId,
            principalType: 'ServicePrincipal',
          },
        },
      );
    }

    // The agent learns of the VMs from the server: wait until IMDS serves every identity.
    for (const [from, clientId] of [
      [VM1_ADDRESS, undefined],
      [VM1_ADDRESS, identities.uaiA.clientId],
      [VM2_ADDRESS, identities.uaiB.clientId],
      [VM2_ADDRESS, identities.uaiC.clientId],
    ] as const) {
      await imdsToken(t.imdsUrl, {
        from,
        resource: ARM_RESOURCE,
        ...(clientId === undefined ? {} : { selector: { client_id: clientId } }),
      });
    }

    extensionUrl = await t.startExtension();
    discovery = (await (
      await fetch(`${t.url}/${t.tenantId}/.well-known/openid-configuration`)
    ).json()) as typeof discovery;

    const clientEnv = { AZURE_POD_IDENTITY_AUTHORITY_HOST: t.imdsUrl };
    const options = { omitEnv: FOREIGN_IDENTITY_ENV };
    const identityClient = (scenario: string): Promise<ClientOutput<IdentityResults>> =>
      runClient<IdentityResults>(
        new URL('./e2e-identity-client.ts', import.meta.url),
        {
          ...clientEnv,
          TESSERA_COMPAT_SCENARIO: scenario,
          TESSERA_COMPAT_MULTI_VM_ADDRESS: VM2_ADDRESS,
          TESSERA_COMPAT_FOREIGN_CLIENT_ID: identities.uaiB.clientId ?? '',
        },
        options,
      );
    [msal, multiple, notFound, arm] = await Promise.all([
      runClient<MsalResults>(
        new URL('./e2e-msal-client.ts', import.meta.url),
        { ...clientEnv, TESSERA_COMPAT_UAI_CLIENT_ID: identities.uaiA.clientId ?? '' },
        options,
      ),
      identityClient('multiple'),
      identityClient('not-found'),
      runClient<ArmResults>(
        new URL('./e2e-arm-client.ts', import.meta.url),
        {
          ...clientEnv,
          // Only the CA and the IMDS: the child has no credential but the VM's identities.
          NODE_EXTRA_CA_CERTS: t.caFile,
          TESSERA_COMPAT_URL: t.httpsUrl,
          TESSERA_COMPAT_SUBSCRIPTION_ID: t.subscriptionId,
          TESSERA_COMPAT_RESOURCE_GROUP: GROUP,
          TESSERA_COMPAT_READER_CLIENT_ID: identities.uaiA.clientId ?? '',
        },
        options,
      ),
    ]);
  }, 120_000);

  afterAll(async () => {
    killClients();
    await closeStarted();
  }, 30_000);

  /** The seed's IMDS curl command (PROTOCOL.md 1), `extra` appended to the query. */
  const imdsCommand = (extra = '', flags = ' -H Metadata:true'): string =>
    `curl '${started().imdsUrl}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F${extra}'${flags}`;

  /** The claims of a token, checked against the JWKS named by the v1 discovery document. */
  const verify = async (token: string, audience: string): Promise<JWTPayload> => {
    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
    const { payload } = await jwtVerify(token, jwks, { issuer: discovery.issuer, audience });
    return payload;
  };

  /** What a token for `who` must say about it (PROTOCOL.md 5.2). */
  const claimsOf = (who: Identity): Record<string, unknown> => ({
    oid: who.principalId,
    sub: who.principalId,
    tid: started().tenantId,
    ...(who.clientId === undefined ? {} : { appid: who.clientId }),
  });

  it("curl: the seed's system-assigned command gets IMDS's token body, every value a string", async () => {
    const { status, body } = await curl(imdsCommand());
    expect(status).toBe(200);
    const parsed = JSON.parse(body) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(IMDS_TOKEN_MEMBERS);
    for (const value of Object.values(parsed)) expect(typeof value).toBe('string');
    const claims = decodeJwt(String(parsed.access_token));
    expect(parsed).toMatchObject({
      client_id: claims.appid,
      resource: ARM_RESOURCE,
      token_type: 'Bearer',
      expires_on: String(claims.exp),
      not_before: String(claims.nbf),
    });
    expect(claims).toMatchObject({ aud: ARM_RESOURCE, ...claimsOf(identities.system) });
    expect(claims.appid).toMatch(GUID);
    expect(String(claims.xms_mirid).toLowerCase()).toBe(vm1Id.toLowerCase());
  });

  it("curl: &client_id= gets the user-assigned identity's token", async () => {
    const { uaiA } = identities;
    const { status, body } = await curl(imdsCommand(`&client_id=${uaiA.clientId ?? ''}`));
    expect(status).toBe(200);
    const parsed = JSON.parse(body) as Record<string, string>;
    expect(parsed.client_id).toBe(uaiA.clientId);
    expect(decodeJwt(parsed.access_token ?? '')).toMatchObject(claimsOf(uaiA));
  });

  it("curl: without -H Metadata:true, IMDS's exact 400 body", async () => {
    expect(await curl(imdsCommand('', ''))).toEqual({
      status: 400,
      body: '{"error":"invalid_request","error_description":"Required metadata header not specified"}',
    });
  });

  it("curl: --interface of a VM with two user-assigned identities, none named, IMDS's exact 400 body", async () => {
    expect(await curl(`curl --interface ${VM2_ADDRESS} ${imdsCommand().slice(5)}`)).toEqual({
      status: 400,
      body: '{"error":"invalid_request","error_description":"Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request"}',
    });
  });

  it("curl: tessera extension, GET localhost:{port}/oauth2/token?resource= with Metadata: true, the extension's token body", async () => {
    const port = new URL(extensionUrl).port;
    const { status, body } = await curl(
      `curl 'http://localhost:${port}/oauth2/token?resource=https%3A%2F%2Fmanagement.azure.com%2F' -H Metadata:true`,
    );
    expect(status).toBe(200);
    const parsed = JSON.parse(body) as Record<string, string>;
    expect(Object.keys(parsed)).toEqual(EXTENSION_TOKEN_MEMBERS);
    expect(parsed).toMatchObject({ refresh_token: '', resource: ARM_RESOURCE });
    expect(decodeJwt(parsed.access_token ?? '')).toMatchObject({
      aud: ARM_RESOURCE,
      ...claimsOf(identities.system),
    });
  });

  it("curl: tessera extension, POST form --data resource=, the extension's token body", async () => {
    const port = new URL(extensionUrl).port;
    const { uaiA } = identities;
    const { status, body } = await curl(
      `curl http://localhost:${port}/oauth2/token --data "resource=https://management.azure.com/&client_id=${uaiA.clientId ?? ''}" -H Metadata:true`,
    );
    expect(status).toBe(200);
    const parsed = JSON.parse(body) as Record<string, string>;
    expect(Object.keys(parsed)).toEqual(EXTENSION_TOKEN_MEMBERS);
    expect(decodeJwt(parsed.access_token ?? '')).toMatchObject({
      aud: ARM_RESOURCE,
      ...claimsOf(uaiA),
    });
  });

  /** The message MSAL's ServerError for an IMDS error body becomes under @azure/identity. */
  const failed = (description: string): string =>
    `ManagedIdentityCredential: Authentication failed. Message invalid_request: Error(s): Not Available - Timestamp: Not Available - Description: ${description} - Correlation ID: Not Available - Trace ID: Not Available`;

  it(`${IDENTITY} ManagedIdentityCredential: a VM with two user-assigned identities and none named gets Azure's "Multiple user assigned identities exist" as CredentialUnavailableError`, () => {
    expect(multiple.ok).toBe(true);
    expect(multiple.results.error).toEqual({
      error: {
        name: 'CredentialUnavailableError',
        message: failed(
          'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request',
        ),
      },
    });
  });

  it(`${IDENTITY} ManagedIdentityCredential: a clientId not on the VM gets "Identity not found" as CredentialUnavailableError`, () => {
    expect(notFound.ok).toBe(true);
    expect(notFound.results.error).toEqual({
      error: { name: 'CredentialUnavailableError', message: failed('Identity not found') },
    });
  });

  it(`${MSAL} ManagedIdentityApplication: system-assigned acquireToken({resource}) gets the VM's token; the second call comes from MSAL's cache`, async () => {
    expect(msal.error).toBeUndefined();
    expect(msal.results.source).toBe('DefaultToImds');
    const { system, systemAgain } = msal.results;
    expect(system).toMatchObject({ tokenType: 'Bearer', fromCache: false });
    const claims = await verify(system?.accessToken ?? '', MSAL_RESOURCE);
    expect(claims).toMatchObject(claimsOf(identities.system));
    expect(String(claims.xms_mirid).toLowerCase()).toBe(vm1Id.toLowerCase());
    // MSAL read `expires_on` (CLIENTS.md 0.5): its expiry is the token's, give or take the second
    // between its request timestamp and its clock read (expiresOn = requestTime + expires_on - now).
    const expiresOn = Date.parse(system?.expiresOn ?? '') / 1000;
    expect(Math.abs(expiresOn - (claims.exp ?? 0))).toBeLessThanOrEqual(1);
    expect(systemAgain).toMatchObject({ accessToken: system?.accessToken, fromCache: true });
  });

  it(`${MSAL} ManagedIdentityApplication: userAssignedClientId gets that identity's token`, async () => {
    const claims = await verify(msal.results.clientId?.accessToken ?? '', MSAL_RESOURCE);
    expect(claims).toMatchObject(claimsOf(identities.uaiA));
    expect(String(claims.xms_mirid).toLowerCase()).toBe(identities.uaiA.id.toLowerCase());
    expect(String(claims.xms_az_rid).toLowerCase()).toBe(vm1Id.toLowerCase());
  });

  it(`${ARM_MSI} + ManagedIdentityCredential: the VM's identity, Contributor on its group, creates a user-assigned identity there over HTTPS`, () => {
    expect(arm.results.created).toMatchObject({
      id: `${started().subscriptionPath}/resourceGroups/${GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/made-by-vm`,
      name: 'made-by-vm',
      tenantId: started().tenantId,
      principalId: expect.stringMatching(GUID) as unknown,
      clientId: expect.stringMatching(GUID) as unknown,
    });
    expect(arm.requests[0]).toMatch(
      /^PUT \/subscriptions\/.*\/userAssignedIdentities\/made-by-vm\?api-version=2024-11-30 -> 201$/,
    );
  });

  it(`${ARM_MSI} + ManagedIdentityCredential: an identity with Reader reads it; its write is a RestError 403 AuthorizationFailed`, () => {
    expect(arm.ok).toBe(true);
    expect(arm.results.readerGot?.id).toBe(arm.results.created?.id);
    const { uaiA } = identities;
    expect(arm.results.readerCreate?.error).toMatchObject({
      name: 'RestError',
      statusCode: 403,
      code: 'AuthorizationFailed',
      message: expect.stringContaining(
        `'${uaiA.clientId ?? ''}' with object id '${uaiA.principalId}' does not have authorization to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/write'`,
      ) as unknown,
    });
  });

  it(`${JOSE} jwtVerify + createRemoteJWKSet (v1 discovery): a system-assigned IMDS token has the issuer, audience, oid, appid, tid and xms_mirid of the VM`, async () => {
    const { body } = await curl(imdsCommand());
    const { access_token: token, client_id: clientId } = JSON.parse(body) as Record<string, string>;
    const claims = await verify(token ?? '', ARM_RESOURCE);
    expect(claims.iss).toBe(`${started().url}/${started().tenantId}/`);
    expect(claims).toMatchObject({ ...claimsOf(identities.system), appid: clientId });
    expect(String(claims.xms_mirid).toLowerCase()).toBe(vm1Id.toLowerCase());
  });

  it(`${JOSE} jwtVerify + createRemoteJWKSet (v1 discovery): a user-assigned IMDS token has the identity's oid, appid, tid, xms_mirid and the VM's xms_az_rid`, async () => {
    const { uaiB } = identities;
    const { body } = await curl(
      `curl --interface ${VM2_ADDRESS} ${imdsCommand(`&client_id=${uaiB.clientId ?? ''}`).slice(5)}`,
    );
    const token = (JSON.parse(body) as Record<string, string>).access_token ?? '';
    const claims = await verify(token, ARM_RESOURCE);
    expect(claims).toMatchObject(claimsOf(uaiB));
    expect(String(claims.xms_mirid).toLowerCase()).toBe(uaiB.id.toLowerCase());
    expect(String(claims.xms_az_rid).toLowerCase()).toBe(vm2Id.toLowerCase());
  });
});
