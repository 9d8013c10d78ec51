// Compatibility: the real @azure/keyvault-secrets SecretClient, default options, in child
// processes on a vault's `vaultUri` over HTTPS, authenticated by ManagedIdentityCredential through
// a `tessera agent` process's IMDS, against a `tessera server` process: the Key Vault challenge,
// a secret's whole life, and what each built-in Key Vault role lets a VM's identity do. Recording
// fronts of the vault and IMDS show what the SDK sent on the wire (see keyvault-setup.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killClients } from './harness.js';
import {
  closeKeyVaultScenario,
  DNS_SUFFIX,
  type KeyVaultResources,
  type KeyVaultScenario,
  type Role,
  startKeyVaultScenario,
  VAULT_NAME,
} from './keyvault-setup.js';

const SDK = 'SecretClient 4.11.2';
/** What @azure/keyvault-secrets 4.11.2 sends as its data-plane api-version. */
const KV_API = 'api%2Dversion=2025-07-01';
/** A secret version as Key Vault writes it: 32 lower-case hex digits. */
const VERSION = /^[0-9a-f]{32}$/;
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe(`compatibility: @azure/keyvault-secrets ${SDK} with managed identities`, () => {
  const held: KeyVaultResources = {};
  let scenario: KeyVaultScenario | undefined;

  beforeAll(async () => {
    scenario = await startKeyVaultScenario(held);
  }, 120_000);

  afterAll(async () => {
    killClients();
    await closeKeyVaultScenario(held);
  }, 30_000);

  const started = (): KeyVaultScenario => {
    if (scenario === undefined) throw new Error('the Key Vault scenario did not start');
    return scenario;
  };
  /**
   * The challenge's resource, so the audience of vault tokens and what the SDK sends IMDS as
   * `resource`: the suffix with the vault URI's port (not 443), which the challenge names.
   */
  const vaultResource = (): string => `https://${DNS_SUFFIX}:${new URL(started().vaultUri).port}`;
  /** `https://compat-kv.vault.localhost:{port}`: the vault URL the SDK parses out of ids. */
  const vaultUrl = (): string => started().vaultUri.replace(/\/$/, '');
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
    const { principalId, clientId } = started().identities[role];
    const resource = `${started().vaultId}/secrets/${name}`.toLowerCase();
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
    first: started().officer.results.set?.properties.version ?? '',
    second: started().officer.results.rotated?.properties.version ?? '',
  });

  it(`${SDK}: ARM gives the vault a vaultUri of https://{name}.${DNS_SUFFIX}:{https port}/`, () => {
    const { httpsUrl } = started().tessera;
    expect(started().vaultUri).toBe(
      `https://${VAULT_NAME}.${DNS_SUFFIX}:${new URL(httpsUrl).port}/`,
    );
  });

  it(`${SDK}: every call of every role runs to the end (refusals are caught and reported)`, () => {
    for (const output of [started().officer, started().user, started().reader, started().none]) {
      expect(output.error).toBeUndefined();
      expect(output.ok).toBe(true);
    }
  });

  it(`${SDK}: default options follow Key Vault's challenge; the resource verifies against the vault's host`, () => {
    const port = new URL(started().vaultUri).port;
    const [challenged, answered, ...rest] = started().officerWire;
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
    const all = started().vaultWire;
    const unauthenticated = all.filter((r) => r.headers.authorization === undefined);
    expect(unauthenticated.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    for (const request of all) {
      expect(request.headers.host).toBe(`${VAULT_NAME}.${DNS_SUFFIX}:${port}`);
      expect(request.headers['user-agent']).toMatch(/^azsdk-js-keyvault-secrets\/4\.11\.2 /);
    }
  });

  it(`${SDK}: ManagedIdentityCredential asks the agent's IMDS once per identity for resource https://${DNS_SUFFIX}:{https port}`, () => {
    const asked = started().imdsWire.map((r) => {
      const query = new URL(r.url, 'http://imds').searchParams;
      return `${query.get('resource') ?? ''} ${query.get('client_id') ?? 'system'} ${String(r.status)}`;
    });
    const { user: u, reader: r, none: n } = started().identities;
    const resource = vaultResource();
    expect(asked.toSorted()).toEqual(
      [
        `${resource} system 200`,
        `${resource} ${u.clientId ?? ''} 200`,
        `${resource} ${r.clientId ?? ''} 200`,
        `${resource} ${n.clientId ?? ''} 200`,
      ].toSorted(),
    );
  });

  it(`${SDK}: Secrets Officer: the officer's calls send what the SDK documents, api-version 2025-07-01`, () => {
    const { first } = versions();
    const q = `?${KV_API}`;
    expect(started().officer.requests).toEqual([
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
    const { set, rotated, latest, byVersion } = started().officer.results;
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
    expect(started().officer.bodies[1]).toEqual({
      request: `PUT /secrets/db-password?${KV_API} -> 200`,
      body: { value: 's3cret', contentType: 'text/plain', tags: { env: 'dev' }, attributes: {} },
    });
  });

  it(`${SDK}: Secrets Officer: updateSecretProperties(enabled: false) returns properties; getSecret of that version is a 403 Forbidden`, () => {
    const { updated, disabled } = started().officer.results;
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
    const { listed } = started().officer.results;
    expect(listed?.toSorted((a, b) => a.name.localeCompare(b.name))).toEqual([
      { ...common, vaultUrl: vaultUrl(), id: secretId('app-config'), name: 'app-config' },
      { ...common, vaultUrl: vaultUrl(), id: secretId('db-password'), name: 'db-password' },
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/s3cret|rotated|shared-value|"value"/);
  });

  it(`${SDK}: Secrets Officer: listPropertiesOfSecretVersions gives every version, no values`, () => {
    const { first, second } = versions();
    const listed = started().officer.results.versions ?? [];
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
    const { deleted, gotDeleted, listedDeleted, whileDeleted, setWhileDeleted } =
      started().officer.results;
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
    const { recovered, afterRecover } = started().officer.results;
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
    const { deletedAgain, purged, afterPurge } = started().officer.results;
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
    const { got, setDenied } = started().user.results;
    const shared = started().officer.results.shared;
    expect(got).toEqual(shared);
    expect(got?.value).toBe('shared-value');
    expect(setDenied).toEqual({ error: refused('user', 'setSecret/action', 'app-config') });
    expect(started().user.requests).toEqual([
      `GET /secrets/app-config/?${KV_API} -> 200`,
      `PUT /secrets/app-config?${KV_API} -> 403`,
    ]);
  });

  it(`${SDK}: Key Vault Reader: listPropertiesOfSecrets works; getSecret is a RestError 403 Forbidden`, () => {
    const { listed, getDenied } = started().reader.results;
    // By then the officer had purged db-password: app-config alone is left.
    expect(listed).toEqual([
      { ...common, vaultUrl: vaultUrl(), id: secretId('app-config'), name: 'app-config' },
    ]);
    expect(getDenied).toEqual({ error: refused('reader', 'getSecret/action', 'app-config') });
  });

  it(`${SDK}: no role: getSecret is a RestError 403 Forbidden`, () => {
    expect(started().none.results.getDenied).toEqual({
      error: refused('none', 'getSecret/action', 'app-config'),
    });
    expect(started().none.requests).toEqual([`GET /secrets/app-config/?${KV_API} -> 403`]);
  });
});
