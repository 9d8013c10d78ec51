// The setting of keyvault.test.ts: `tessera server` and `tessera agent` processes, a vault, a VM
// whose identities hold Key Vault roles on it, recording fronts for the vault and IMDS, and the
// SecretClient children's outputs.
import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import type { ReportedError } from './client-kit.js';
import { type ClientOutput, FOREIGN_IDENTITY_ENV, runClient } from './harness.js';
import { httpRequest, imdsToken } from './imds-probe.js';
import { clientCredentialsToken } from '../fixtures/admin.js';
import {
  assignRole,
  closeStarted,
  startTesseraAgent,
  startTesseraServer,
  type TesseraServer,
} from './processes.js';
import {
  type ReceivedRequest,
  type RecordingProxy,
  startRecordingProxy,
} from './recording-proxy.js';
import { closeAll } from './tessera-cli.js';

const CLIENT_SCRIPT = new URL('./keyvault-client.ts', import.meta.url);
const GROUP = 'kv-compat-rg';
/** The vault the children use. */
export const VAULT_NAME = 'compat-kv';
/** Tessera's default `server.keyVault.dnsSuffix`. */
export const DNS_SUFFIX = 'vault.localhost';
const VAULT_V = 'api-version=2023-07-01';
const VM_V = 'api-version=2024-07-01';
const UAI_V = 'api-version=2023-01-31';
/**
 * Where the children's hosts entry sends `{vault}.vault.localhost`: a TLS front with the
 * server's certificate, on the vault URI's port, that records each request and passes it on.
 */
const VAULT_FRONT_ADDRESS = '127.0.0.2';

/** The SDK's `SecretProperties` (dates as JSON strings), as far as the test reads it. */
export interface SdkProperties {
  vaultUrl: string;
  id?: string;
  name: string;
  version?: string;
  enabled?: boolean;
  contentType?: string;
  tags?: Record<string, string>;
  createdOn?: string;
  updatedOn?: string;
  recoveryLevel?: string;
  recoverableDays?: number;
  recoveryId?: string;
  deletedOn?: string;
  scheduledPurgeDate?: string;
}
/** The SDK's `KeyVaultSecret`. */
export interface SdkSecret {
  name: string;
  value?: string;
  properties: SdkProperties;
}
/** The SDK's `DeletedSecret`. */
export interface SdkDeletedSecret extends SdkSecret {
  recoveryId?: string;
  deletedOn?: string;
  scheduledPurgeDate?: string;
}
export type Outcome<T> = { value?: T; error?: ReportedError };

export interface OfficerResults {
  shared: SdkSecret;
  set: SdkSecret;
  rotated: SdkSecret;
  latest: SdkSecret;
  byVersion: SdkSecret;
  updated: SdkProperties;
  disabled: Outcome<SdkSecret>;
  listed: SdkProperties[];
  versions: SdkProperties[];
  deleted: SdkDeletedSecret;
  gotDeleted: SdkDeletedSecret;
  listedDeleted: SdkDeletedSecret[];
  whileDeleted: Outcome<SdkSecret>;
  setWhileDeleted: Outcome<SdkSecret>;
  recovered: SdkProperties;
  afterRecover: SdkSecret;
  deletedAgain: SdkDeletedSecret;
  purged: boolean;
  afterPurge: Outcome<SdkDeletedSecret>;
}
export interface UserResults {
  got: SdkSecret;
  setDenied: Outcome<SdkSecret>;
}
export interface ReaderResults {
  listed: SdkProperties[];
  getDenied: Outcome<SdkSecret>;
}
export interface NoneResults {
  getDenied: Outcome<SdkSecret>;
}

/** The roles the VM's identities hold on the vault, and which identity holds each. */
export type Role = 'officer' | 'user' | 'reader' | 'none';
export const ROLES: Readonly<Record<Role, keyof typeof BUILT_IN_ROLE_IDS | undefined>> = {
  officer: 'keyVaultSecretsOfficer',
  user: 'keyVaultSecretsUser',
  reader: 'keyVaultReader',
  none: undefined,
};

/** An identity of the VM: the system-assigned one for the officer, user-assigned otherwise. */
export interface Identity {
  principalId: string;
  /** Absent for the system-assigned identity (the credential then names none). */
  clientId?: string;
}

/** What {@link startKeyVaultScenario} started, for {@link closeKeyVaultScenario}. */
export interface KeyVaultResources {
  vaultProxy?: RecordingProxy;
  imdsProxy?: RecordingProxy;
}

/** The setting, and what each role's child printed. */
export interface KeyVaultScenario {
  readonly tessera: TesseraServer;
  readonly vaultId: string;
  /** The vault's `properties.vaultUri` as ARM gave it. */
  readonly vaultUri: string;
  readonly identities: Readonly<Record<Role, Identity>>;
  readonly officer: ClientOutput<OfficerResults>;
  readonly user: ClientOutput<UserResults>;
  readonly reader: ClientOutput<ReaderResults>;
  readonly none: ClientOutput<NoneResults>;
  /** The vault requests of the officer's child (it runs alone, before the others). */
  readonly officerWire: readonly ReceivedRequest[];
  /** Every vault request of every child, as the vault's front received it. */
  readonly vaultWire: readonly ReceivedRequest[];
  /** Every IMDS request of every child, as IMDS's front received it. */
  readonly imdsWire: readonly ReceivedRequest[];
}

/**
 * Starts the server and an agent, makes the vault, three user-assigned identities and a VM on the
 * agent's host with those and a system-assigned identity, gives the officer (system-assigned),
 * user and reader identities their Key Vault roles, waits until IMDS serves all four, and runs the
 * officer's child, then the other three at once. What it starts goes into `held` as it goes, so
 * {@link closeKeyVaultScenario} stops it all even when a step fails.
 */
export async function startKeyVaultScenario(held: KeyVaultResources): Promise<KeyVaultScenario> {
  const identities = {} as Record<Role, Identity>;
  const t = await startTesseraServer();
  const { subscriptionPath, arm, caFile } = t;
  const groupPath = `${subscriptionPath}/resourceGroups/${GROUP}`;
  expect(
    (await arm('PUT', `${groupPath}?api-version=2021-04-01`, { location: 'westeurope' })).status,
  ).toBe(201);

  const vault = await arm(
    'PUT',
    `${groupPath}/providers/Microsoft.KeyVault/vaults/${VAULT_NAME}?${VAULT_V}`,
    { location: 'westeurope' },
  );
  expect(vault.status).toBe(201);
  const vaultBody = vault.body as { id: string; properties: { vaultUri: string } };
  const vaultId = vaultBody.id;
  const vaultUri = vaultBody.properties.vaultUri;

  const agent = await startTesseraAgent(t, 'kv-compat-host');
  const { imdsUrl, hostId } = agent;
  const userAssigned: string[] = [];
  for (const role of ['user', 'reader', 'none'] as const) {
    const uai = await arm(
      'PUT',
      `${groupPath}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kv-${role}?${UAI_V}`,
      { location: 'westeurope' },
    );
    expect(uai.status).toBe(201);
    const body = uai.body as { id: string; properties: Required<Identity> };
    identities[role] = body.properties;
    userAssigned.push(body.id);
  }
  const vm = await arm(
    'PUT',
    `${groupPath}/providers/Microsoft.Compute/virtualMachines/vm-kv?${VM_V}`,
    {
      location: 'westeurope',
      identity: {
        type: 'SystemAssigned, UserAssigned',
        userAssignedIdentities: Object.fromEntries(userAssigned.map((id) => [id, {}])),
      },
      properties: { tessera: { hostId, privateIpAddresses: ['127.0.0.1'] } },
    },
  );
  expect(vm.status).toBe(201);
  identities.officer = {
    principalId: (vm.body as { identity: { principalId: string } }).identity.principalId,
  };

  for (const role of Object.keys(ROLES) as Role[]) {
    const builtIn = ROLES[role];
    if (builtIn === undefined) continue;
    const granted = await assignRole(t, {
      scope: vaultId,
      roleId: BUILT_IN_ROLE_IDS[builtIn],
      principalId: identities[role].principalId,
    });
    expect(granted.status).toBe(201);
  }

  // The agent learns of the VM from the server: wait until IMDS serves its four identities.
  await Promise.all(
    Object.values(identities).map(({ clientId }) =>
      imdsToken(imdsUrl, {
        from: '127.0.0.1',
        resource: 'https://management.azure.com',
        ...(clientId === undefined ? {} : { selector: { client_id: clientId } }),
      }),
    ),
  );

  const vaultPort = Number(new URL(vaultUri).port);
  const vaultProxy = await startRecordingProxy({
    target: `https://127.0.0.1:${String(vaultPort)}`,
    host: VAULT_FRONT_ADDRESS,
    port: vaultPort,
    tls: {
      cert: await readFile(t.tls.certFile, 'utf8'),
      key: await readFile(t.tls.keyFile, 'utf8'),
      ca: await readFile(caFile, 'utf8'),
    },
  });
  held.vaultProxy = vaultProxy;
  const imdsProxy = await startRecordingProxy({ target: imdsUrl, localAddress: '127.0.0.1' });
  held.imdsProxy = imdsProxy;
  const run = <Results>(role: Role) => {
    const { clientId } = identities[role];
    return runClient<Results>(
      CLIENT_SCRIPT,
      {
        // Only the CA: the children have no credential but the VM's identities.
        NODE_EXTRA_CA_CERTS: caFile,
        AZURE_POD_IDENTITY_AUTHORITY_HOST: imdsProxy.url,
        TESSERA_COMPAT_VAULT_URL: vaultUri,
        TESSERA_COMPAT_DNS_SUFFIX: DNS_SUFFIX,
        TESSERA_COMPAT_VAULT_ADDRESS: VAULT_FRONT_ADDRESS,
        TESSERA_COMPAT_ROLE: role,
        ...(clientId === undefined ? {} : { TESSERA_COMPAT_MI_CLIENT_ID: clientId }),
      },
      { omitEnv: FOREIGN_IDENTITY_ENV },
    );
  };
  // The officer writes the secret the other roles read, so it runs first and alone.
  const officer = await run<OfficerResults>('officer');
  const officerWire = [...vaultProxy.received];
  const [user, reader, none] = await Promise.all([
    run<UserResults>('user'),
    run<ReaderResults>('reader'),
    run<NoneResults>('none'),
  ]);
  return {
    tessera: t,
    vaultId,
    vaultUri,
    identities,
    officer,
    user,
    reader,
    none,
    officerWire,
    vaultWire: vaultProxy.received,
    imdsWire: imdsProxy.received,
  };
}

/** Stops the fronts, the agent and the server ({@link closeStarted}), each even if another fails. */
export function closeKeyVaultScenario(held: KeyVaultResources): Promise<void> {
  return closeAll(held.vaultProxy?.close, held.imdsProxy?.close, closeStarted);
}

/**
 * Makes vault `vault` in `group` on `server` with one secret: the administrator gives itself Key
 * Vault Secrets Officer on the vault and sets the secret over the data plane (plain HTTP, the
 * vault named by the Host header, as a TLS front would pass it on). Returns the vault's id and URI.
 */
export async function makeVaultWithSecret(
  server: TesseraServer,
  where: { readonly group: string; readonly vault: string },
  secret: {
    readonly name: string;
    readonly value: string;
    readonly contentType?: string;
    readonly tags?: Readonly<Record<string, string>>;
  },
): Promise<{ readonly id: string; readonly vaultUri: string }> {
  const made = await server.arm(
    'PUT',
    `${server.subscriptionPath}/resourceGroups/${where.group}/providers/Microsoft.KeyVault/vaults/${where.vault}?${VAULT_V}`,
    { location: 'westeurope' },
  );
  expect(made.status).toBe(201);
  const { id, properties } = made.body as { id: string; properties: { vaultUri: string } };
  const officer = await assignRole(server, {
    scope: id,
    roleId: BUILT_IN_ROLE_IDS.keyVaultSecretsOfficer,
    principalId: server.adminObjectId,
  });
  expect(officer.status).toBe(201);
  const token = await clientCredentialsToken(
    { url: server.url, tenant: { id: server.tenantId } },
    server.adminClientId,
    server.adminSecret,
    `https://${DNS_SUFFIX}/.default`,
  );
  const set = await httpRequest(`${server.url}/secrets/${secret.name}?api-version=7.4`, {
    method: 'PUT',
    headers: {
      host: new URL(properties.vaultUri).host,
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      value: secret.value,
      contentType: secret.contentType,
      tags: secret.tags,
    }),
  });
  expect(set.status, set.text).toBe(200);
  return { id, vaultUri: properties.vaultUri };
}
