// Compatibility: the real @azure/keyvault-secrets SecretClient, default options, in child
// processes on a vault's `vaultUri` over HTTPS, authenticated by ManagedIdentityCredential through
// a Tessera agent's IMDS: the Key Vault challenge, a secret's whole life, and what each built-in
// Key Vault role lets a VM's identity do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import type { ReportedError } from './client-kit.js';
import {
  type ClientOutput,
  type CompatAgent,
  type CompatTessera,
  FOREIGN_IDENTITY_ENV,
  killClients,
  recordRequests,
  type ReceivedRequest,
  type RequestRecorder,
  runClient,
  startCompatAgent,
  startCompatTessera,
  until,
} from './harness.js';

const CLIENT_SCRIPT = new URL('./keyvault-client.ts', import.meta.url);
const SDK = 'SecretClient 4.11.2';
const GROUP = 'kv-compat-rg';
const VAULT_NAME = 'compat-kv';
/** Tessera's default `server.keyVault.dnsSuffix`. */
const DNS_SUFFIX = 'vault.localhost';
/** The audience of vault tokens, and what the SDK sends IMDS as `resource` for the challenge. */
const VAULT_RESOURCE = `https://${DNS_SUFFIX}`;
/** What @azure/keyvault-secrets 4.11.2 sends as its data-plane api-version. */
const KV_API = 'api%2Dversion=2025-07-01';
const VAULT_V = 'api-version=2023-07-01';
const VM_V = 'api-version=2024-07-01';
const UAI_V = 'api-version=2023-01-31';
/** A secret version as Key Vault writes it: 32 lower-case hex digits. */
const VERSION = /^[0-9a-f]{32}$/;
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The SDK's `SecretProperties` (dates as JSON strings), as far as the test reads it. */
interface SdkProperties {
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
interface SdkSecret {
  name: string;
  value?: string;
  properties: SdkProperties;
}
/** The SDK's `DeletedSecret`. */
interface SdkDeletedSecret extends SdkSecret {
  recoveryId?: string;
  deletedOn?: string;
  scheduledPurgeDate?: string;
}
type Outcome<T> = { value?: T; error?: ReportedError };

interface OfficerResults {
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
interface UserResults {
  got: SdkSecret;
  setDenied: Outcome<SdkSecret>;
}
interface ReaderResults {
  listed: SdkProperties[];
  getDenied: Outcome<SdkSecret>;
}
interface NoneResults {
  getDenied: Outcome<SdkSecret>;
}

/** The roles the VM's identities hold on the vault, and which identity holds each. */
type Role = 'officer' | 'user' | 'reader' | 'none';
const ROLES: Readonly<Record<Role, keyof typeof BUILT_IN_ROLE_IDS | undefined>> = {
  officer: 'keyVaultSecretsOfficer',
  user: 'keyVaultSecretsUser',
  reader: 'keyVaultReader',
  none: undefined,
};

/** An identity of the VM: the system-assigned one for the officer, user-assigned otherwise. */
interface Identity {
  principalId: string;
  /** Absent for the system-assigned identity (the credential then names none). */
  clientId?: string;
}

describe(`compatibility: @azure/keyvault-secrets ${SDK} with managed identities`, () => {
  let tessera: CompatTessera | undefined;
  let agent: CompatAgent | undefined;
  let vaultRecorder: RequestRecorder | undefined;
  let imdsRecorder: RequestRecorder | undefined;
  let vaultId: string;
  let vaultUri: string;
  /** The vault requests of the officer's child (it runs alone, before the others). */
  let officerWire: readonly ReceivedRequest[] = [];
  const identities = {} as Record<Role, Identity>;
  let officer: ClientOutput<OfficerResults>;
  let user: ClientOutput<UserResults>;
  let reader: ClientOutput<ReaderResults>;
  let none: ClientOutput<NoneResults>;

  beforeAll(async () => {
    const compat = await startCompatTessera();
    tessera = compat;
    const { subscriptionPath, clientEnv } = compat;
    const caCerts = clientEnv.NODE_EXTRA_CA_CERTS;
    if (caCerts === undefined) throw new Error('Tessera started without its local CA');
    const arm: CompatTessera['arm'] = (method, path, body) => compat.arm(method, path, body);
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
    vaultId = vaultBody.id;
    vaultUri = vaultBody.properties.vaultUri;

    agent = await startCompatAgent(compat, 'kv-compat-host');
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
        properties: { tessera: { hostId: agent.hostId, privateIpAddresses: ['127.0.0.1'] } },
      },
    );
    expect(vm.status).toBe(201);
    identities.officer = {
      principalId: (vm.body as { identity: { principalId: string } }).identity.principalId,
    };

    for (const role of Object.keys(ROLES) as Role[]) {
      const builtIn = ROLES[role];
      if (builtIn === undefined) continue;
      const granted = await arm(
        'PUT',
        `${vaultId}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}?api-version=2022-04-01`,
        {
          properties: {
            roleDefinitionId: `${subscriptionPath}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLE_IDS[builtIn]}`,
            principalId: identities[role].principalId,
          },
        },
      );
      expect(granted.status).toBe(201);
    }

    const { runtime } = agent;
    await until('the VM and its four identities on the agent', () =>
      runtime.agent.backend.vmFor('127.0.0.1')?.identities.length === 4 ? true : undefined,
    );

    vaultRecorder = recordRequests(Number(new URL(vaultUri).port));
    imdsRecorder = recordRequests(Number(new URL(runtime.imdsUrl).port));
    const run = <Results>(role: Role) => {
      const { clientId } = identities[role];
      return runClient<Results>(
        CLIENT_SCRIPT,
        {
          // Only the CA: the children have no credential but the VM's identities.
          NODE_EXTRA_CA_CERTS: caCerts,
          AZURE_POD_IDENTITY_AUTHORITY_HOST: runtime.imdsUrl,
          TESSERA_COMPAT_VAULT_URL: vaultUri,
          TESSERA_COMPAT_DNS_SUFFIX: DNS_SUFFIX,
          TESSERA_COMPAT_ROLE: role,
          ...(clientId === undefined ? {} : { TESSERA_COMPAT_MI_CLIENT_ID: clientId }),
        },
        { omitEnv: FOREIGN_IDENTITY_ENV },
      );
    };
    // The officer writes the secret the other roles read, so it runs first and alone.
    officer = await run<OfficerResults>('officer');
    officerWire = [...vaultRecorder.received];
    [user, reader, none] = await Promise.all([
      run<UserResults>('user'),
      run<ReaderResults>('reader'),
      run<NoneResults>('none'),
    ]);
  }, 90_000);

  afterAll(async () => {
    killClients();
    vaultRecorder?.stop();
    imdsRecorder?.stop();
    try {
      await agent?.close();
    } finally {
      await tessera?.close();
    }
  });

  const started = (): CompatTessera => {
    if (tessera === undefined) throw new Error('Tessera did not start');
    return tessera;
  };
  /** `https://compat-kv.vault.localhost:{port}`: the vault URL the SDK parses out of ids. */
  const vaultUrl = (): string => vaultUri.replace(/\/$/, '');
  const secretId = (name: string, version?: string): string =>
    `${vaultUrl()}/secrets/${name}${version === undefined ? '' : `/${version}`}`;
  /** The properties every secret answer carries with Tessera's default 90 days of retention. */
  const common = {
    enabled: true,
    recoverableDays: 90,
    recoveryLevel: 'Recoverable+Purgeable',
    createdOn: expect.stringMatching(ISO_DATE) as unknown,
    updatedOn: expect.stringMatching(ISO_DATE) as unknown,
  };
  /** What a RestError for an RBAC refusal of `action` on secret `name` shows `role`'s caller. */
  const refused = (role: Exclude<Role, 'officer'>, action: string, name: string) => {
    const { principalId, clientId } = identities[role];
    const resource = `${vaultId}/secrets/${name}`.toLowerCase();
    return {
      name: 'RestError',
      statusCode: 403,
      code: 'Forbidden',
      message: expect.stringMatching(
        new RegExp(
          [
            '^Caller is not authorized to perform action on resource\\.\r\n',
            `Caller: appid=${clientId ?? ''};oid=${principalId};`,
            `Action: 'Microsoft\\.KeyVault/vaults/secrets/${action}'\r\n`,
            `Resource: '${resource.replace(/[.]/g, '\\.')}'\r\n`,
          ].join('(?:.|\r\n)*'),
        ),
      ) as unknown,
    };
  };
  /** The first version the officer set, and the one that replaced it. */
  const versions = () => ({
    first: officer.results.set?.properties.version ?? '',
    second: officer.results.rotated?.properties.version ?? '',
  });

  it(`${SDK}: ARM gives the vault a vaultUri of https://{name}.${DNS_SUFFIX}:{https port}/`, () => {
    const { httpsUrl } = started().server;
    expect(vaultUri).toBe(`https://${VAULT_NAME}.${DNS_SUFFIX}:${new URL(httpsUrl ?? '').port}/`);
  });

  it(`${SDK}: every call of every role runs to the end (refusals are caught and reported)`, () => {
    for (const output of [officer, user, reader, none]) {
      expect(output.error).toBeUndefined();
      expect(output.ok).toBe(true);
    }
  });

  it(`${SDK}: default options follow Key Vault's challenge; the resource verifies against the vault's host`, () => {
    const port = new URL(vaultUri).port;
    const [challenged, answered, ...rest] = officerWire;
    // The first request goes without a token and with its body withheld (CLIENTS.md section 3).
    expect(challenged).toMatchObject({
      method: 'PUT',
      url: `/secrets/app-config?${KV_API}`,
      status: 401,
    });
    expect(challenged?.headers.authorization).toBeUndefined();
    expect(challenged?.headers['content-length']).toBe('0');
    // The same request again, with a token from IMDS for the challenge's resource, and the body.
    expect(answered).toMatchObject({ method: 'PUT', url: challenged?.url, status: 200 });
    expect(answered?.headers.authorization).toMatch(/^Bearer ey/);
    expect(answered?.headers['x-ms-client-request-id']).toBe(
      challenged?.headers['x-ms-client-request-id'],
    );
    expect(Number(answered?.headers['content-length'])).toBeGreaterThan(0);
    // Then every request carries the token: one challenge per client.
    expect(rest.length).toBeGreaterThan(10);
    for (const request of rest) expect(request.headers.authorization).toMatch(/^Bearer ey/);
    // Each of the four clients was challenged once, and only then.
    const all = vaultRecorder?.received ?? [];
    const unauthenticated = all.filter((r) => r.headers.authorization === undefined);
    expect(unauthenticated.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    for (const request of all) {
      expect(request.headers.host).toBe(`${VAULT_NAME}.${DNS_SUFFIX}:${port}`);
      expect(request.headers['user-agent']).toMatch(/^azsdk-js-keyvault-secrets\/4\.11\.2 /);
    }
  });

  it(`${SDK}: ManagedIdentityCredential asks the agent's IMDS once per identity for resource ${VAULT_RESOURCE}`, () => {
    const asked = (imdsRecorder?.received ?? []).map((r) => {
      const query = new URL(r.url, 'http://imds').searchParams;
      return `${query.get('resource') ?? ''} ${query.get('client_id') ?? 'system'} ${String(r.status)}`;
    });
    const { user: u, reader: r, none: n } = identities;
    expect(asked.toSorted()).toEqual(
      [
        `${VAULT_RESOURCE} system 200`,
        `${VAULT_RESOURCE} ${u.clientId ?? ''} 200`,
        `${VAULT_RESOURCE} ${r.clientId ?? ''} 200`,
        `${VAULT_RESOURCE} ${n.clientId ?? ''} 200`,
      ].toSorted(),
    );
  });

  it(`${SDK}: Secrets Officer: the officer's calls send what the SDK documents, api-version 2025-07-01`, () => {
    const { first } = versions();
    const q = `?${KV_API}`;
    expect(officer.requests).toEqual([
      `PUT /secrets/app-config${q} -> 200`,
      `PUT /secrets/db-password${q} -> 200`,
      `PUT /secrets/db-password${q} -> 200`,
      `GET /secrets/db-password/${q} -> 200`,
      `GET /secrets/db-password/${first}${q} -> 200`,
      `PATCH /secrets/db-password/${first}${q} -> 200`,
      `GET /secrets/db-password/${first}${q} -> 403`,
      `GET /secrets${q} -> 200`,
      `GET /secrets/db-password/versions${q} -> 200`,
      // beginDeleteSecret: the delete, then one poll of the deleted secret.
      `DELETE /secrets/db-password${q} -> 200`,
      `GET /deletedsecrets/db-password${q} -> 200`,
      `GET /deletedsecrets/db-password${q} -> 200`,
      `GET /deletedsecrets${q} -> 200`,
      `GET /secrets/db-password/${q} -> 404`,
      `PUT /secrets/db-password${q} -> 409`,
      // beginRecoverDeletedSecret: a look for the secret, the recover, one poll of the secret.
      `GET /secrets/db-password/${q} -> 404`,
      `POST /deletedsecrets/db-password/recover${q} -> 200`,
      `GET /secrets/db-password/${q} -> 200`,
      `GET /secrets/db-password/${q} -> 200`,
      `DELETE /secrets/db-password${q} -> 200`,
      `GET /deletedsecrets/db-password${q} -> 200`,
      `DELETE /deletedsecrets/db-password${q} -> 204`,
      `GET /deletedsecrets/db-password${q} -> 404`,
    ]);
  });

  it(`${SDK}: Secrets Officer: setSecret returns the value and properties, getSecret the latest or a given version`, () => {
    const { set, rotated, latest, byVersion } = officer.results;
    const { first, second } = versions();
    expect(first).toMatch(VERSION);
    expect(second).toMatch(VERSION);
    expect(second).not.toBe(first);
    const firstVersion = {
      name: 'db-password',
      value: 's3cret',
      properties: {
        ...common,
        vaultUrl: vaultUrl(),
        id: secretId('db-password', first),
        name: 'db-password',
        version: first,
        contentType: 'text/plain',
        tags: { env: 'dev' },
      },
    };
    expect(set).toEqual(firstVersion);
    const secondVersion = {
      name: 'db-password',
      value: 'rotated',
      properties: {
        ...common,
        vaultUrl: vaultUrl(),
        id: secretId('db-password', second),
        name: 'db-password',
        version: second,
      },
    };
    expect(rotated).toEqual(secondVersion);
    expect(latest).toEqual(secondVersion);
    expect(byVersion).toEqual(firstVersion);
    expect(officer.bodies[1]).toEqual({
      request: `PUT /secrets/db-password?${KV_API} -> 200`,
      body: { value: 's3cret', contentType: 'text/plain', tags: { env: 'dev' }, attributes: {} },
    });
  });

  it(`${SDK}: Secrets Officer: updateSecretProperties(enabled: false) returns properties; getSecret of that version is a 403 Forbidden`, () => {
    const { updated, disabled } = officer.results;
    const { first } = versions();
    expect(updated).toEqual({
      ...common,
      enabled: false,
      vaultUrl: vaultUrl(),
      id: secretId('db-password', first),
      name: 'db-password',
      version: first,
      contentType: 'text/plain',
      tags: { env: 'old' },
    });
    expect(updated).not.toHaveProperty('value');
    expect(disabled).toEqual({
      error: {
        name: 'RestError',
        statusCode: 403,
        code: 'Forbidden',
        message: 'Operation get is not allowed on a disabled secret.',
      },
    });
  });

  it(`${SDK}: Secrets Officer: listPropertiesOfSecrets gives each secret's latest properties, no values`, () => {
    const { listed } = officer.results;
    expect(listed?.toSorted((a, b) => a.name.localeCompare(b.name))).toEqual([
      { ...common, vaultUrl: vaultUrl(), id: secretId('app-config'), name: 'app-config' },
      { ...common, vaultUrl: vaultUrl(), id: secretId('db-password'), name: 'db-password' },
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/s3cret|rotated|shared-value|"value"/);
  });

  it(`${SDK}: Secrets Officer: listPropertiesOfSecretVersions gives every version, no values`, () => {
    const { first, second } = versions();
    const listed = officer.results.versions ?? [];
    const byVersion = new Map(listed.map((p) => [p.version, p]));
    expect(listed).toHaveLength(2);
    expect(byVersion.get(first)).toEqual({
      ...common,
      enabled: false,
      vaultUrl: vaultUrl(),
      id: secretId('db-password', first),
      name: 'db-password',
      version: first,
      contentType: 'text/plain',
      tags: { env: 'old' },
    });
    expect(byVersion.get(second)).toEqual({
      ...common,
      vaultUrl: vaultUrl(),
      id: secretId('db-password', second),
      name: 'db-password',
      version: second,
    });
    expect(JSON.stringify(listed)).not.toMatch(/s3cret|rotated|"value"/);
  });

  it(`${SDK}: Secrets Officer: beginDeleteSecret completes; getDeletedSecret and listDeletedSecrets show the deletion`, () => {
    const { deleted, gotDeleted, listedDeleted, whileDeleted, setWhileDeleted } = officer.results;
    const { second } = versions();
    const recoveryId = `${vaultUrl()}/deletedsecrets/db-password`;
    const deletedOn = deleted?.deletedOn ?? '';
    expect(deletedOn).toMatch(ISO_DATE);
    // Purged after Tessera's default retention of 90 days.
    expect(Date.parse(deleted?.scheduledPurgeDate ?? '') - Date.parse(deletedOn)).toBe(
      90 * 24 * 3600 * 1000,
    );
    const deletion = { recoveryId, deletedOn, scheduledPurgeDate: deleted?.scheduledPurgeDate };
    const expected = {
      name: 'db-password',
      ...deletion,
      properties: {
        ...common,
        ...deletion,
        vaultUrl: vaultUrl(),
        id: secretId('db-password', second),
        name: 'db-password',
        version: second,
      },
    };
    expect(deleted).toEqual(expected);
    expect(gotDeleted).toEqual(expected);
    // A deleted-secret item names the secret, not a version.
    expect(listedDeleted).toEqual([
      {
        name: 'db-password',
        ...deletion,
        properties: {
          ...common,
          ...deletion,
          vaultUrl: vaultUrl(),
          id: secretId('db-password'),
          name: 'db-password',
        },
      },
    ]);
    expect(whileDeleted).toEqual({
      error: {
        name: 'RestError',
        statusCode: 404,
        code: 'SecretNotFound',
        message:
          'A secret with (name/id) db-password was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182',
      },
    });
    expect(setWhileDeleted).toEqual({
      error: {
        name: 'RestError',
        statusCode: 409,
        code: 'Conflict',
        message:
          'Secret db-password is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.',
      },
    });
  });

  it(`${SDK}: Secrets Officer: beginRecoverDeletedSecret completes and the latest value is back`, () => {
    const { recovered, afterRecover } = officer.results;
    const { second } = versions();
    const properties = {
      ...common,
      vaultUrl: vaultUrl(),
      id: secretId('db-password', second),
      name: 'db-password',
      version: second,
    };
    expect(recovered).toEqual(properties);
    expect(afterRecover).toEqual({ name: 'db-password', value: 'rotated', properties });
  });

  it(`${SDK}: Secrets Officer: deleted again and purgeDeletedSecret, the secret is gone for good`, () => {
    const { deletedAgain, purged, afterPurge } = officer.results;
    expect(deletedAgain?.recoveryId).toBe(`${vaultUrl()}/deletedsecrets/db-password`);
    expect(purged).toBe(true);
    expect(afterPurge).toEqual({
      error: {
        name: 'RestError',
        statusCode: 404,
        code: 'SecretNotFound',
        message: 'Deleted Secret not found: db-password',
      },
    });
  });

  it(`${SDK}: Secrets User: getSecret returns the value; setSecret is a RestError 403 Forbidden`, () => {
    const { got, setDenied } = user.results;
    const shared = officer.results.shared;
    expect(got).toEqual(shared);
    expect(got?.value).toBe('shared-value');
    expect(setDenied).toEqual({ error: refused('user', 'setSecret/action', 'app-config') });
    expect(user.requests).toEqual([
      `GET /secrets/app-config/?${KV_API} -> 200`,
      `PUT /secrets/app-config?${KV_API} -> 403`,
    ]);
  });

  it(`${SDK}: Key Vault Reader: listPropertiesOfSecrets works; getSecret is a RestError 403 Forbidden`, () => {
    const { listed, getDenied } = reader.results;
    // By then the officer had purged db-password: app-config alone is left.
    expect(listed).toEqual([
      { ...common, vaultUrl: vaultUrl(), id: secretId('app-config'), name: 'app-config' },
    ]);
    expect(getDenied).toEqual({ error: refused('reader', 'getSecret/action', 'app-config') });
  });

  it(`${SDK}: no role: getSecret is a RestError 403 Forbidden`, () => {
    expect(none.results.getDenied).toEqual({
      error: refused('none', 'getSecret/action', 'app-config'),
    });
    expect(none.requests).toEqual([`GET /secrets/app-config/?${KV_API} -> 403`]);
  });
});
