// The setting of python-sdks.test.ts: two Tessera installations (server and agent processes), a
// VM with identities on each agent's host, a vault with a secret, a federated credential trusting
// a foreign issuer, Azurite; then every Python client script at once, each outcome kept apart so
// that one scenario's failure does not hide the others' results.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../../src/core/rbac/index.js';
import { type Azurite, startAzurite } from '../../fixtures/azurite.js';
import {
  EXCHANGE_AUDIENCE,
  type ForeignIssuer,
  startForeignIssuer,
} from '../../fixtures/oidc-issuer.js';
import { imdsToken } from '../imds-probe.js';
import { DNS_SUFFIX, makeVaultWithSecret } from '../keyvault-setup.js';
import {
  assignRole,
  closeStarted,
  startTesseraAgent,
  startTesseraServer,
  type TesseraAgent,
  type TesseraServer,
} from '../processes.js';
import { closeAll } from '../tessera-cli.js';
import {
  killPythonClients,
  type PythonOutcome,
  type PythonOutput,
  type PythonToken,
  runPython,
} from './harness.js';

/** The group of the VM, the vault and the identities (made through ARM before Python runs). */
export const GROUP = 'py-compat-rg';
/** The group the management script creates and deletes itself. */
export const MGMT_GROUP = 'py-mgmt-rg';
export const VM_NAME = 'vm-py';
export const VAULT_NAME = 'py-compat-kv';
export const SECRET_NAME = 'py-secret';
export const SECRET_VALUE = 'from-tessera-to-python';
export const BLOB_CONTENT = 'Hello from Python through Tessera and Azurite';
/** The subject of a Kubernetes service account `py` in namespace `apps`. */
export const SUBJECT = 'system:serviceaccount:apps:py';
/** The issuer setting `tessera up --storage-compatible-issuer` applies (Azurite needs it). */
export const STS_ISSUER = 'https://sts.windows.net/{tenantId}/';
const UAI_V = 'api-version=2023-01-31';
const VM_V = 'api-version=2024-07-01';

/** An identity as ARM and the directory know it; `id` is the VM's for a system-assigned one. */
export interface Identity {
  readonly id: string;
  readonly principalId: string;
  readonly clientId: string;
}

/** What managed_identity.py prints. */
export interface ManagedIdentityResults {
  system: PythonToken;
  systemAgain: PythonToken;
  clientId: PythonToken;
  objectId: PythonToken;
  msiResId: PythonToken;
  miResId: PythonToken;
  unknown: PythonOutcome<PythonToken>;
}
/** The KeyVaultSecret keyvault.py prints. */
export interface PySecret {
  name: string;
  value: string | null;
  id: string;
  version: string;
  vaultUrl: string;
  enabled: boolean | null;
  contentType: string | null;
  tags: Record<string, string> | null;
  recoveryLevel: string | null;
}
/** What keyvault.py prints. */
export interface KeyVaultResults {
  got: PySecret;
  setDenied: PythonOutcome<PySecret>;
  getDenied: PythonOutcome<PySecret>;
}
/** A management SDK model's `as_dict()`, as far as the test reads it. */
export type AsDict = Record<string, unknown>;
/** What management.py prints. */
export interface ManagementResults {
  groupCreated: AsDict;
  groups: string[];
  identityCreated: AsDict;
  identity: AsDict;
  identitiesInGroup: string[];
  identitiesInSubscription: string[];
  resourcesInGroup: { id: string; type: string }[];
  resources: { id: string; type: string }[];
  assignmentCreated: AsDict;
  assignmentsInGroup: AsDict[];
  assignment: AsDict;
  assignmentDeleted: AsDict;
  assignmentsAfterDelete: string[];
  vm: AsDict;
  identityDeleted: null;
  identityAfterDelete: PythonOutcome<AsDict>;
  groupDeleted: null;
  groupExists: boolean;
  /** Each token the clients asked the credential for. */
  asked: { scopes: string[]; token: string }[];
}
/** What storage.py prints. */
export interface StorageResults {
  token: PythonToken;
  accountName: string;
  containerCreated: boolean;
  uploaded: boolean;
  listed: string[];
  downloaded: string;
  deleted: null;
  afterDelete: PythonOutcome<string>;
  containerDeleted: null;
}
/** What workload_identity.py prints. */
export interface WorkloadResults {
  token: PythonToken;
  value: string;
}

/** A script's output, or why it has none (its installation did not start, it printed nothing). */
export type Ran<Results> =
  { readonly output: PythonOutput<Results> } | { readonly failure: unknown };

/** The installation with the default issuer: IMDS, Key Vault, ARM and workload identity. */
export interface MainInstallation {
  readonly server: TesseraServer;
  readonly agent: TesseraAgent;
  readonly vmId: string;
  readonly identities: Readonly<Record<'system' | 'uai1' | 'uai2' | 'workload', Identity>>;
  readonly vaultUri: string;
  /** The foreign token the workload script's AZURE_FEDERATED_TOKEN_FILE holds. */
  readonly foreignToken: string;
}

/** The installation with Microsoft's v1 issuer, whose storage tokens Azurite takes. */
export interface StsInstallation {
  readonly server: TesseraServer;
  readonly agent: TesseraAgent;
  readonly system: Identity;
  readonly azurite: Azurite;
}

/** Everything the suite reads. */
export interface PythonScenario {
  readonly main: MainInstallation | undefined;
  readonly sts: StsInstallation | undefined;
  readonly managedIdentity: Ran<ManagedIdentityResults>;
  readonly keyVault: Ran<KeyVaultResults>;
  readonly management: Ran<ManagementResults>;
  readonly workload: Ran<WorkloadResults>;
  readonly blobSecret: Ran<StorageResults>;
  readonly blobManaged: Ran<StorageResults>;
}

/** What {@link startPythonScenario} started besides servers and agents ({@link closeStarted}). */
export interface PythonResources {
  home?: string;
  issuer?: ForeignIssuer;
  azurite?: Azurite;
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

/** Makes user-assigned identity `name` in {@link GROUP}. */
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

/**
 * Places VM `name` on the agent's host at 127.0.0.1 with a system-assigned identity and
 * `userAssigned`; resolves with its id and system-assigned principal once IMDS serves it (ARM
 * does not show a system-assigned identity's client id; IMDS's token body does).
 */
async function placeVm(
  server: TesseraServer,
  agent: TesseraAgent,
  name: string,
  userAssigned: readonly Identity[],
  resource: string,
): Promise<{ vmId: string; system: Identity }> {
  const vm = await server.arm(
    'PUT',
    `${server.subscriptionPath}/resourceGroups/${GROUP}/providers/Microsoft.Compute/virtualMachines/${name}?${VM_V}`,
    {
      location: 'westeurope',
      identity:
        userAssigned.length === 0
          ? { type: 'SystemAssigned' }
          : {
              type: 'SystemAssigned, UserAssigned',
              userAssignedIdentities: Object.fromEntries(userAssigned.map(({ id }) => [id, {}])),
            },
      properties: { tessera: { hostId: agent.hostId, privateIpAddresses: ['127.0.0.1'] } },
    },
  );
  expect(vm.status).toBe(201);
  const body = vm.body as { id: string; identity: { principalId: string } };
  // The agent learns of the VM from the server: wait until IMDS serves each of its identities.
  const ask = (selector?: Record<string, string>) =>
    imdsToken(agent.imdsUrl, {
      from: '127.0.0.1',
      resource,
      ...(selector === undefined ? {} : { selector }),
    });
  const [system] = await Promise.all([
    ask(),
    ...userAssigned.map(({ clientId }) => ask({ client_id: clientId })),
  ]);
  return {
    vmId: body.id,
    system: { id: body.id, principalId: body.identity.principalId, clientId: system.client_id },
  };
}

/**
 * The default-issuer installation: a VM with a system-assigned identity (Key Vault Secrets User
 * on the vault) and two user-assigned ones (no role), and a user-assigned identity trusting the
 * foreign issuer's service account {@link SUBJECT} (Key Vault Secrets User too).
 */
async function startMain(held: PythonResources, home: string): Promise<MainInstallation> {
  const issuer = await startForeignIssuer();
  held.issuer = issuer;
  const server = await startTesseraServer({
    settings: [
      'server.federation.allowLoopbackIssuers=true',
      `server.federation.caFile=${issuer.caFile}`,
    ],
  });
  await makeGroup(server);
  const agent = await startTesseraAgent(server, 'py-compat-host');
  const uai1 = await makeIdentity(server, 'py-uai1');
  const uai2 = await makeIdentity(server, 'py-uai2');
  const workload = await makeIdentity(server, 'py-workload');
  const { vmId, system } = await placeVm(
    server,
    agent,
    VM_NAME,
    [uai1, uai2],
    'https://management.azure.com',
  );
  const vault = await makeVaultWithSecret(
    server,
    { group: GROUP, vault: VAULT_NAME },
    { name: SECRET_NAME, value: SECRET_VALUE, contentType: 'text/plain', tags: { by: 'test' } },
  );
  for (const principalId of [system.principalId, workload.principalId]) {
    const granted = await assignRole(server, {
      scope: vault.id,
      roleId: BUILT_IN_ROLE_IDS.keyVaultSecretsUser,
      principalId,
    });
    expect(granted.status).toBe(201);
  }
  const fic = await server.arm(
    'PUT',
    `${workload.id}/federatedIdentityCredentials/apps-py?${UAI_V}`,
    { properties: { issuer: issuer.url, subject: SUBJECT, audiences: [EXCHANGE_AUDIENCE] } },
  );
  expect(fic.status).toBe(201);
  // What the kubelet projects into the pod: the service account's token, in a file.
  const foreignToken = await issuer.token(SUBJECT);
  await writeFile(join(home, 'azure-identity-token'), foreignToken);
  return {
    server,
    agent,
    vmId,
    identities: { system, uai1, uai2, workload },
    vaultUri: vault.vaultUri,
    foreignToken,
  };
}

/** The installation Azurite trusts: a VM with a system-assigned identity, and Azurite itself. */
async function startSts(held: PythonResources): Promise<StsInstallation> {
  const server = await startTesseraServer({ settings: [`server.tokens.issuer=${STS_ISSUER}`] });
  const placing = async () => {
    await makeGroup(server);
    const agent = await startTesseraAgent(server, 'py-blob-host');
    const { system } = await placeVm(server, agent, 'vm-blob', [], 'https://storage.azure.com');
    return { agent, system };
  };
  // Both run to their end, so that `held` has Azurite before a failure is reported. Azurite is
  // served with the server's own certificate, as `tessera up` prints its command.
  const [azurite, placed] = await Promise.allSettled([
    startAzurite({ tls: { ...server.tls, caFile: server.caFile } }).then(
      (started) => (held.azurite = started),
    ),
    placing(),
  ]);
  if (azurite.status === 'rejected') throw azurite.reason;
  if (placed.status === 'rejected') throw placed.reason;
  return { server, ...placed.value, azurite: azurite.value };
}

/** `run()`'s output, or its failure, never a rejection. */
async function settle<Results>(run: () => Promise<PythonOutput<Results>>): Promise<Ran<Results>> {
  try {
    return { output: await run() };
  } catch (failure) {
    return { failure };
  }
}

/** The script's {@link Ran} when `installation` started, else that installation's failure. */
function whenStarted<T, Results>(
  installation: PromiseSettledResult<T>,
  run: (started: T) => Promise<PythonOutput<Results>>,
): Promise<Ran<Results>> {
  if (installation.status === 'rejected')
    return Promise.resolve({ failure: installation.reason as unknown });
  return settle(() => run(installation.value));
}

/** The variables of a script on the main installation signed in as its administrator. */
function adminEnv(server: TesseraServer): Record<string, string> {
  return {
    REQUESTS_CA_BUNDLE: server.caFile,
    TESSERA_COMPAT_URL: server.httpsUrl,
    TESSERA_COMPAT_TENANT_ID: server.tenantId,
    TESSERA_COMPAT_CLIENT_ID: server.adminClientId,
    TESSERA_COMPAT_SECRET_FILE: server.clientEnv.TESSERA_COMPAT_SECRET_FILE ?? '',
    TESSERA_COMPAT_SUBSCRIPTION_ID: server.subscriptionId,
  };
}

/**
 * Starts both installations side by side, then runs every script at once (each in its own
 * process with only the variables it needs). What it starts goes into `held` as it goes, so
 * {@link closePythonScenario} removes it all even when a step fails.
 */
export async function startPythonScenario(held: PythonResources): Promise<PythonScenario> {
  const home = await mkdtemp(join(tmpdir(), 'tessera-compat-python-'));
  held.home = home;
  const [main, sts] = await Promise.allSettled([startMain(held, home), startSts(held)]);
  const run = <Results>(script: string, env: Record<string, string>) =>
    runPython<Results>(script, home, env);
  const storage = (credential: 'secret' | 'managed') =>
    whenStarted(sts, ({ server, agent, azurite }) =>
      run<StorageResults>('storage.py', {
        // Each credential has only what it reads: the administrator's secret, or the IMDS.
        ...(credential === 'secret'
          ? adminEnv(server)
          : {
              REQUESTS_CA_BUNDLE: server.caFile,
              AZURE_POD_IDENTITY_AUTHORITY_HOST: agent.imdsUrl,
            }),
        TESSERA_COMPAT_CREDENTIAL: credential,
        TESSERA_COMPAT_BLOB_URL: azurite.blobUrl,
        TESSERA_COMPAT_CONTAINER: `py-${credential}`,
        TESSERA_COMPAT_CONTENT: BLOB_CONTENT,
      }),
    );
  const [managedIdentity, keyVault, management, workload, blobSecret, blobManaged] =
    await Promise.all([
      whenStarted(main, ({ agent, identities }) =>
        run<ManagedIdentityResults>('managed_identity.py', {
          AZURE_POD_IDENTITY_AUTHORITY_HOST: agent.imdsUrl,
          TESSERA_COMPAT_UAI1_CLIENT_ID: identities.uai1.clientId,
          TESSERA_COMPAT_UAI1_OBJECT_ID: identities.uai1.principalId,
          TESSERA_COMPAT_UAI2_RESOURCE_ID: identities.uai2.id,
          TESSERA_COMPAT_UNKNOWN_CLIENT_ID: identities.workload.clientId,
        }),
      ),
      whenStarted(main, ({ server, agent, identities, vaultUri }) =>
        run<KeyVaultResults>('keyvault.py', {
          AZURE_POD_IDENTITY_AUTHORITY_HOST: agent.imdsUrl,
          REQUESTS_CA_BUNDLE: server.caFile,
          TESSERA_COMPAT_VAULT_URL: vaultUri,
          TESSERA_COMPAT_DNS_SUFFIX: DNS_SUFFIX,
          TESSERA_COMPAT_SECRET: SECRET_NAME,
          TESSERA_COMPAT_NO_ROLE_CLIENT_ID: identities.uai2.clientId,
        }),
      ),
      whenStarted(main, ({ server }) =>
        run<ManagementResults>('management.py', {
          ...adminEnv(server),
          TESSERA_COMPAT_GROUP: MGMT_GROUP,
          TESSERA_COMPAT_VM_GROUP: GROUP,
          TESSERA_COMPAT_VM: VM_NAME,
          TESSERA_COMPAT_READER_ROLE_ID: BUILT_IN_ROLE_IDS.reader,
        }),
      ),
      whenStarted(main, ({ server, identities, vaultUri }) =>
        run<WorkloadResults>('workload_identity.py', {
          // What the azure-workload-identity webhook sets (the authority with its trailing slash).
          AZURE_AUTHORITY_HOST: `${server.httpsUrl}/`,
          AZURE_TENANT_ID: server.tenantId,
          AZURE_CLIENT_ID: identities.workload.clientId,
          AZURE_FEDERATED_TOKEN_FILE: join(home, 'azure-identity-token'),
          REQUESTS_CA_BUNDLE: server.caFile,
          TESSERA_COMPAT_VAULT_URL: vaultUri,
          TESSERA_COMPAT_DNS_SUFFIX: DNS_SUFFIX,
          TESSERA_COMPAT_SECRET: SECRET_NAME,
        }),
      ),
      storage('secret'),
      storage('managed'),
    ]);
  return {
    main: main.status === 'fulfilled' ? main.value : undefined,
    sts: sts.status === 'fulfilled' ? sts.value : undefined,
    managedIdentity,
    keyVault,
    management,
    workload,
    blobSecret,
    blobManaged,
  };
}

/** Kills the scripts, stops Azurite, the issuer, the agents and servers, removes the directory. */
export function closePythonScenario(held: PythonResources): Promise<void> {
  killPythonClients();
  const { azurite, issuer, home } = held;
  return closeAll(
    azurite === undefined ? undefined : () => azurite.close(),
    issuer === undefined ? undefined : () => issuer.close(),
    closeStarted,
    home === undefined ? undefined : () => rm(home, { recursive: true, force: true }),
  );
}
