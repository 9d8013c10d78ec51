// Compatibility: workload identity federation against real `tessera server` processes. The
// unmodified @azure/identity credentials, in child processes with the variables the
// azure-workload-identity webhook sets in a pod, trade a foreign issuer's token
// (oauth2-mock-server over HTTPS) for a user-assigned identity's token, and SecretClient reads a
// secret with it; and one Tessera installation's IMDS token is trusted by another installation.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import {
  EXCHANGE_AUDIENCE,
  type ForeignIssuer,
  startForeignIssuer,
} from '../fixtures/oidc-issuer.js';
import type { ReportedError } from './client-kit.js';
import {
  type ClientOutput,
  FOREIGN_IDENTITY_ENV,
  GUID,
  killClients,
  runClient,
} from './harness.js';
import { imdsToken } from './imds-probe.js';
import { DNS_SUFFIX, makeVaultWithSecret } from './keyvault-setup.js';
import {
  assignRole,
  closeStarted,
  startTesseraAgent,
  startTesseraServer,
  type TesseraServer,
} from './processes.js';
import { closeAll } from './tessera-cli.js';
import { installedVersion } from './versions.js';

const IDENTITY = `@azure/identity ${installedVersion('@azure/identity')}`;
const SECRETS = `@azure/keyvault-secrets ${installedVersion('@azure/keyvault-secrets')}`;
const CLIENT_SCRIPT = new URL('./workload-identity-client.ts', import.meta.url);

const GROUP = 'wi-compat-rg';
const UAI_V = 'api-version=2023-01-31';
const VM_V = 'api-version=2024-07-01';
/** The subject a Kubernetes service account `web` in namespace `apps` has in its tokens. */
const SUBJECT = 'system:serviceaccount:apps:web';
const VAULT_NAME = 'wi-compat-kv';
const SECRET_NAME = 'app-secret';
const SECRET_VALUE = 'federated-value';
/** The audience of vault tokens for the server's default dnsSuffix. */
const VAULT_RESOURCE = `https://${DNS_SUFFIX}`;
/** What @azure/keyvault-secrets 4.11.2 sends as its data-plane api-version. */
const KV_API = 'api%2Dversion=2025-07-01';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** {@link GUID} without its anchors, to match inside a line. */
const GUID_TEXT = GUID.source.slice(1, -1);

/** A user-assigned identity as ARM showed it when it was made. */
interface Identity {
  readonly id: string;
  readonly principalId: string;
  readonly clientId: string;
}

/** A vault token a credential got, and the secret SecretClient read with that credential. */
interface TokenAndSecret {
  token: string;
  value?: string;
}
interface Results {
  workload: TokenAndSecret;
  managed: TokenAndSecret;
  default: TokenAndSecret;
  discovering: { value?: unknown; error?: ReportedError };
  defaultNoDiscovery: TokenAndSecret;
}
type Child = 'workload' | 'default' | 'no-discovery';

/** A token endpoint's answer. */
interface TokenAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Makes user-assigned identity `name` in resource group {@link GROUP} on `server`. */
async function makeIdentity(server: TesseraServer, name: string): Promise<Identity> {
  const made = await server.arm(
    'PUT',
    `${server.subscriptionPath}/resourceGroups/${GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}?${UAI_V}`,
    { location: 'westeurope' },
  );
  expect(made.status).toBe(201);
  const body = made.body as { id: string; properties: { principalId: string; clientId: string } };
  return { id: body.id, ...body.properties };
}

/** Makes resource group {@link GROUP} on `server`. */
async function makeGroup(server: TesseraServer): Promise<void> {
  const group = await server.arm(
    'PUT',
    `${server.subscriptionPath}/resourceGroups/${GROUP}?api-version=2021-04-01`,
    { location: 'westeurope' },
  );
  expect(group.status).toBe(201);
}

/** Adds federated identity credential `name` (`issuer`, `subject`) to `identity` on `server`. */
async function trust(
  server: TesseraServer,
  identity: Identity,
  name: string,
  credential: { readonly issuer: string; readonly subject: string },
): Promise<void> {
  const put = await server.arm(
    'PUT',
    `${identity.id}/federatedIdentityCredentials/${name}?${UAI_V}`,
    { properties: { ...credential, audiences: [EXCHANGE_AUDIENCE] } },
  );
  expect(put.status).toBe(201);
}

/** POSTs a federated exchange to `server`'s v2 token endpoint with plain `fetch`. */
async function exchange(
  server: TesseraServer,
  clientId: string,
  assertion: string,
): Promise<TokenAnswer> {
  const response = await fetch(`${server.url}/${server.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion,
      scope: 'https://management.azure.com/.default',
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The v1 discovery document's `issuer` of `server`: what its tokens' `iss` is. */
async function issuerOf(server: TesseraServer): Promise<string> {
  const response = await fetch(`${server.url}/${server.tenantId}/.well-known/openid-configuration`);
  return ((await response.json()) as { issuer: string }).issuer;
}

describe('compatibility: workload identity federation against tessera server processes', () => {
  let foreign: ForeignIssuer | undefined;
  let tokenDir: string | undefined;
  /** The installation whose identity trusts the foreign issuer. */
  let tessera: TesseraServer | undefined;
  let web: Identity;
  /** The foreign token the children's AZURE_FEDERATED_TOKEN_FILE holds. */
  let foreignToken: string;
  let vaultUri: string;
  const outputs = {} as Record<Child, ClientOutput<Results>>;

  /** Installation A, whose VM's IMDS token is the assertion, and B, which trusts A. */
  let installationA: TesseraServer | undefined;
  let installationB: TesseraServer | undefined;
  /** A's IMDS token for api://AzureADTokenExchange, of A's user-assigned identity. */
  let assertionA: string;
  let identityA: Identity;
  let trustingA: Identity;
  let trustingOther: Identity;
  let answers: { readonly trusted: TokenAnswer; readonly otherSubject: TokenAnswer };

  /** Scenario 1: a foreign issuer, a server trusting it, and the SDK children. */
  async function startWorkloadScenario(): Promise<void> {
    const issuer = await startForeignIssuer();
    foreign = issuer;
    const t = await startTesseraServer({
      settings: [
        'server.federation.allowLoopbackIssuers=true',
        `server.federation.caFile=${issuer.caFile}`,
      ],
    });
    tessera = t;
    await makeGroup(t);
    web = await makeIdentity(t, 'wi-web');
    await trust(t, web, 'apps-web', { issuer: issuer.url, subject: SUBJECT });
    const vault = await makeVaultWithSecret(
      t,
      { group: GROUP, vault: VAULT_NAME },
      { name: SECRET_NAME, value: SECRET_VALUE },
    );
    vaultUri = vault.vaultUri;
    const granted = await assignRole(t, {
      scope: vault.id,
      roleId: BUILT_IN_ROLE_IDS.keyVaultSecretsUser,
      principalId: web.principalId,
    });
    expect(granted.status).toBe(201);

    // What the kubelet projects into the pod: the service account's token, in a file.
    tokenDir = await mkdtemp(join(tmpdir(), 'tessera-compat-wi-'));
    const tokenFile = join(tokenDir, 'azure-identity-token');
    foreignToken = await issuer.token(SUBJECT);
    await writeFile(tokenFile, foreignToken);
    const env = (credentials: Child): Record<string, string> => ({
      // What the azure-workload-identity webhook sets (the authority with its trailing slash).
      AZURE_TENANT_ID: t.tenantId,
      AZURE_CLIENT_ID: web.clientId,
      AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      AZURE_AUTHORITY_HOST: `${t.httpsUrl}/`,
      NODE_EXTRA_CA_CERTS: t.caFile,
      TESSERA_COMPAT_VAULT_URL: vaultUri,
      TESSERA_COMPAT_SECRET: SECRET_NAME,
      TESSERA_COMPAT_DNS_SUFFIX: DNS_SUFFIX,
      TESSERA_COMPAT_CREDENTIALS: credentials,
    });
    const children = ['workload', 'default', 'no-discovery'] as const;
    const done = await Promise.all(
      children.map((child) =>
        runClient<Results>(CLIENT_SCRIPT, env(child), { omitEnv: FOREIGN_IDENTITY_ENV }),
      ),
    );
    children.forEach((child, i) => {
      outputs[child] = done[i]!;
    });
  }

  /** Scenario 2: installation B trusts installation A's IMDS tokens. */
  async function startCrossInstallation(): Promise<void> {
    const [a, b] = await Promise.all([
      startTesseraServer(),
      startTesseraServer({ settings: ['server.federation.allowLoopbackIssuers=true'] }),
    ]);
    installationA = a;
    installationB = b;
    await Promise.all([makeGroup(a), makeGroup(b)]);
    const agent = await startTesseraAgent(a, 'wi-compat-host');
    identityA = await makeIdentity(a, 'a-workload');
    const vm = await a.arm(
      'PUT',
      `${a.subscriptionPath}/resourceGroups/${GROUP}/providers/Microsoft.Compute/virtualMachines/vm-wi?${VM_V}`,
      {
        location: 'westeurope',
        identity: { type: 'UserAssigned', userAssignedIdentities: { [identityA.id]: {} } },
        properties: { tessera: { hostId: agent.hostId, privateIpAddresses: ['127.0.0.1'] } },
      },
    );
    expect(vm.status).toBe(201);
    assertionA = (
      await imdsToken(agent.imdsUrl, {
        from: '127.0.0.1',
        resource: EXCHANGE_AUDIENCE,
        selector: { client_id: identityA.clientId },
      })
    ).access_token;

    trustingA = await makeIdentity(b, 'b-trusts-a');
    trustingOther = await makeIdentity(b, 'b-trusts-other');
    const { iss, sub } = decodeJwt(assertionA);
    await trust(b, trustingA, 'installation-a', { issuer: String(iss), subject: String(sub) });
    await trust(b, trustingOther, 'installation-a', {
      issuer: String(iss),
      subject: crypto.randomUUID(),
    });
    const [trusted, otherSubject] = await Promise.all([
      exchange(b, trustingA.clientId, assertionA),
      exchange(b, trustingOther.clientId, assertionA),
    ]);
    answers = { trusted, otherSubject };
  }

  beforeAll(async () => {
    // Both run to their end before a failure is reported, so afterAll finds all they started.
    const settled = await Promise.allSettled([startWorkloadScenario(), startCrossInstallation()]);
    for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
  }, 120_000);

  afterAll(async () => {
    killClients();
    const issuer = foreign;
    const dir = tokenDir;
    await closeAll(
      closeStarted,
      issuer === undefined ? undefined : () => issuer.close(),
      dir === undefined ? undefined : () => rm(dir, { recursive: true, force: true }),
    );
  }, 30_000);

  const started = (): TesseraServer => {
    if (tessera === undefined) throw new Error('the workload identity scenario did not start');
    return tessera;
  };

  /** Checks a vault token a credential got: the identity's, minted from a federated credential. */
  async function expectIdentityToken(token: string | undefined): Promise<void> {
    const t = started();
    const jwks = createRemoteJWKSet(new URL(`${t.url}/${t.tenantId}/discovery/keys`));
    const { payload } = await jwtVerify(token ?? '', jwks, {
      audience: VAULT_RESOURCE,
      issuer: await issuerOf(t),
    });
    expect(payload).toMatchObject({
      appid: web.clientId,
      appidacr: '2',
      oid: web.principalId,
      sub: web.principalId,
      tid: t.tenantId,
      idtyp: 'app',
    });
    expect(String(payload.xms_mirid).toLowerCase()).toBe(web.id.toLowerCase());
  }

  /** What a workload credential sends Tessera for a token: discovery, then the token endpoint. */
  const tokenRequests = (): unknown[] => {
    const tenant = started().tenantId;
    return [
      `GET /${tenant}/v2.0/.well-known/openid-configuration -> 200`,
      expect.stringMatching(
        new RegExp(`^POST /${tenant}/oauth2/v2\\.0/token\\?client-request-id=${GUID_TEXT} -> 200$`),
      ),
    ];
  };
  const secretRequest = `GET /secrets/${SECRET_NAME}/?${KV_API} -> 200`;
  /** MSAL's instance discovery at login.microsoftonline.com, refused (the child has no Internet). */
  const instanceDiscovery = (): string => {
    const { httpsUrl, tenantId } = started();
    return `GET /common/discovery/instance?api-version=1.1&authorization_endpoint=${httpsUrl}/${tenantId}/oauth2/v2.0/authorize -> RestError`;
  };

  it(`${IDENTITY}: every child process runs to the end`, () => {
    for (const output of Object.values(outputs)) {
      expect(output.error).toBeUndefined();
      expect(output.ok).toBe(true);
    }
  });

  it(`${IDENTITY} WorkloadIdentityCredential({disableInstanceDiscovery: true}) with the webhook's variables gets the identity's vault token: appid, appidacr 2, aud`, async () => {
    await expectIdentityToken(outputs.workload.results.workload?.token);
    // The exchange Entra documents: client credentials, the file's token as the assertion (and
    // MSAL's telemetry fields).
    const [sent] = outputs.workload.bodies;
    expect(sent?.request).toMatch(/^POST .+\/oauth2\/v2\.0\/token\?/);
    expect(Object.fromEntries(new URLSearchParams(String(sent?.body)))).toMatchObject({
      client_id: web.clientId,
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: foreignToken,
      scope: `${VAULT_RESOURCE}/.default`,
    });
  });

  it(`${SECRETS} with that WorkloadIdentityCredential reads the secret; the credential asked Tessera's discovery and token endpoint only`, () => {
    expect(outputs.workload.results.workload?.value).toBe(SECRET_VALUE);
    // getToken, then SecretClient's own (CAE-enabled, a second MSAL application), then the read.
    expect(outputs.workload.requests.slice(0, 5)).toEqual([
      ...tokenRequests(),
      ...tokenRequests(),
      secretRequest,
    ]);
  });

  it(`${IDENTITY} ManagedIdentityCredential() takes its token-exchange branch from the variables: the identity's token, and the secret`, async () => {
    await expectIdentityToken(outputs.workload.results.managed?.token);
    expect(outputs.workload.results.managed?.value).toBe(SECRET_VALUE);
    // Its own workload credential has no request log: only the secret's read shows.
    expect(outputs.workload.requests.slice(5)).toEqual([secretRequest]);
  });

  it(`${IDENTITY} WorkloadIdentityCredential() without disableInstanceDiscovery asks login.microsoftonline.com and fails offline as CredentialUnavailableError`, () => {
    // Microsoft's instance discovery, about the authority the webhook's variable gives (its
    // trailing slash joined once); offline it fails, after the SDK's retries.
    const [asked] = outputs['no-discovery'].requests;
    expect(asked).toBe(instanceDiscovery());
    expect(outputs['no-discovery'].results.discovering).toEqual({
      error: {
        name: 'CredentialUnavailableError',
        message: expect.stringMatching(/^endpoints_resolution_error/) as unknown,
      },
    });
  });

  it(`${IDENTITY} DefaultAzureCredential() offline: its WorkloadIdentityCredential fails instance discovery, ManagedIdentityCredential's exchange gets the token; the secret is read`, async () => {
    await expectIdentityToken(outputs.default.results.default?.token);
    expect(outputs.default.results.default?.value).toBe(SECRET_VALUE);
    // Both getToken calls (the test's and SecretClient's) meet discovery's failure first; what
    // ManagedIdentityCredential then sends is not logged (it does not pass the policy on).
    expect(outputs.default.requests).toEqual([
      instanceDiscovery(),
      instanceDiscovery(),
      secretRequest,
    ]);
  });

  it(`${IDENTITY} DefaultAzureCredential({disableInstanceDiscovery: true}): its WorkloadIdentityCredential gets the token from Tessera alone; the secret is read`, async () => {
    await expectIdentityToken(outputs['no-discovery'].results.defaultNoDiscovery?.token);
    expect(outputs['no-discovery'].results.defaultNoDiscovery?.value).toBe(SECRET_VALUE);
    expect(outputs['no-discovery'].requests.slice(1)).toEqual([
      ...tokenRequests(),
      ...tokenRequests(),
      secretRequest,
    ]);
  });

  it("fetch: installation A's IMDS token for api://AzureADTokenExchange, trusted by installation B, is exchanged for B's identity's token", async () => {
    const a = installationA!;
    const b = installationB!;
    expect(decodeJwt(assertionA)).toMatchObject({
      aud: EXCHANGE_AUDIENCE,
      iss: await issuerOf(a),
      sub: identityA.principalId,
      appid: identityA.clientId,
    });
    const { status, body } = answers.trusted;
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.token_type).toBe('Bearer');
    const jwks = createRemoteJWKSet(new URL(`${b.url}/${b.tenantId}/discovery/keys`));
    const { payload } = await jwtVerify(String(body.access_token), jwks, {
      audience: 'https://management.azure.com',
      issuer: await issuerOf(b),
    });
    expect(payload).toMatchObject({
      appid: trustingA.clientId,
      appidacr: '2',
      oid: trustingA.principalId,
      tid: b.tenantId,
    });
  });

  it('fetch: installation B refuses the same token with AADSTS700213 when its credential names another subject', () => {
    const { status, body } = answers.otherSubject;
    expect(status).toBe(401);
    expect(body).toMatchObject({ error: 'invalid_client', error_codes: [700213] });
    expect(String(body.error_description)).toMatch(/^AADSTS700213: /);
  });
});
