// Key Vault data plane: every bad request gets Key Vault's error and changes nothing; RBAC data actions decide the rest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KV_V, type KvHarness, type KvResult, startKeyVault } from './keyvault-harness.js';

const error = (answer: KvResult) => answer.body?.error as Record<string, unknown> | undefined;

describe('Key Vault data plane: bad input and access', () => {
  let h: KvHarness;
  let officer: string;
  beforeAll(async () => {
    h = await startKeyVault();
    officer = h.officer.token;
    const stable = await h.kv('PUT', `/secrets/stable?${KV_V}`, {
      token: officer,
      body: { value: 'unchanged', tags: { keep: 'me' } },
    });
    expect(stable.status).toBe(200);
  });
  afterAll(async () => {
    await h.close();
  });

  /** Everything a bad request could have touched. */
  const state = async () => ({
    versions: (await h.kv('GET', `/secrets/stable/versions?${KV_V}`, { token: officer })).body,
    secrets: (await h.kv('GET', `/secrets?${KV_V}`, { token: officer })).body?.value,
    deleted: (await h.kv('GET', `/deletedsecrets?${KV_V}`, { token: officer })).body?.value,
  });

  const tags16 = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`t${i}`, 'v']));
  const unknownVersion = '0123456789abcdef0123456789abcdef';
  const cases: [string, string, string, unknown, number, Record<string, unknown>][] = [
    [
      'an invalid name',
      'PUT',
      `/secrets/bad_name?${KV_V}`,
      { value: 'x' },
      400,
      {
        code: 'BadParameter',
        message: 'The request URI contains an invalid name: bad_name',
      },
    ],
    [
      'a name over 127 characters',
      'PUT',
      `/secrets/${'n'.repeat(128)}?${KV_V}`,
      { value: 'x' },
      400,
      {
        code: 'BadParameter',
        message: `The request URI contains an invalid name: ${'n'.repeat(128)}`,
      },
    ],
    [
      'a value over 25,600 characters',
      'PUT',
      `/secrets/stable?${KV_V}`,
      { value: 'v'.repeat(25_601) },
      400,
      {
        code: 'BadParameter',
        message: 'Secret is beyond the maximum permitted length of 25600 characters.',
        innererror: { code: 'SecretTooLarge' },
      },
    ],
    [
      'no value',
      'PUT',
      `/secrets/stable?${KV_V}`,
      { contentType: 'x' },
      400,
      { code: 'BadParameter' },
    ],
    [
      'a value that is not a string',
      'PUT',
      `/secrets/stable?${KV_V}`,
      { value: 42 },
      400,
      { code: 'BadParameter' },
    ],
    [
      'a body that is not JSON',
      'PUT',
      `/secrets/stable?${KV_V}`,
      '{"value":',
      400,
      { code: 'BadParameter' },
    ],
    [
      'an exp that is not a unix time',
      'PUT',
      `/secrets/stable?${KV_V}`,
      { value: 'x', attributes: { exp: 'soon' } },
      400,
      {
        code: 'BadParameter',
      },
    ],
    [
      'nbf after exp',
      'PATCH',
      `/secrets/stable?${KV_V}`,
      { attributes: { nbf: 2_000_000_000, exp: 1_000_000_000 } },
      400,
      {
        code: 'BadParameter',
      },
    ],
    [
      '16 tags',
      'PATCH',
      `/secrets/stable?${KV_V}`,
      { tags: tags16 },
      400,
      {
        code: 'BadParameter',
        message: 'Property has invalid value\r\n',
      },
    ],
    [
      'a value in an update',
      'PATCH',
      `/secrets/stable?${KV_V}`,
      { value: 'sneaky' },
      400,
      { code: 'BadParameter' },
    ],
    [
      'an unknown version',
      'GET',
      `/secrets/stable/${unknownVersion}?${KV_V}`,
      undefined,
      404,
      {
        code: 'SecretNotFound',
        message: `A secret with (name/id) stable/${unknownVersion} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      },
    ],
    [
      'an update of an unknown version',
      'PATCH',
      `/secrets/stable/${unknownVersion}?${KV_V}`,
      { tags: {} },
      404,
      {
        code: 'SecretNotFound',
      },
    ],
    ['no api-version', 'GET', '/secrets/stable', undefined, 400, { code: 'BadParameter' }],
    [
      'an unknown api-version',
      'PUT',
      '/secrets/stable?api-version=1.0',
      { value: 'x' },
      400,
      {
        code: 'BadParameter',
        message:
          'The specified version (1.0) is not recognized. Consider using the latest supported version (2025-07-01).',
      },
    ],
    [
      'maxresults 0',
      'GET',
      `/secrets?${KV_V}&maxresults=0`,
      undefined,
      400,
      { code: 'BadParameter' },
    ],
    [
      'maxresults 26',
      'GET',
      `/secrets?${KV_V}&maxresults=26`,
      undefined,
      400,
      { code: 'BadParameter' },
    ],
    [
      'a malformed $skiptoken',
      'GET',
      `/secrets?${KV_V}&$skiptoken=%%%`,
      undefined,
      400,
      { code: 'BadParameter' },
    ],
    [
      'a recover of a secret that is not deleted',
      'POST',
      `/deletedsecrets/stable/recover?${KV_V}`,
      undefined,
      404,
      {
        code: 'SecretNotFound',
      },
    ],
    [
      'a purge of a secret that is not deleted',
      'DELETE',
      `/deletedsecrets/stable?${KV_V}`,
      undefined,
      404,
      {
        code: 'SecretNotFound',
        message: 'Deleted Secret not found: stable',
      },
    ],
    [
      'a delete of a missing secret',
      'DELETE',
      `/secrets/missing?${KV_V}`,
      undefined,
      404,
      { code: 'SecretNotFound' },
    ],
    [
      'an operation vaults do not have',
      'GET',
      `/keys?${KV_V}`,
      undefined,
      400,
      { code: 'BadParameter' },
    ],
  ];

  it.each(cases)(
    "refuses %s with Key Vault's error and changes nothing",
    async (_what, method, path, body, status, expected) => {
      const before = await state();
      const answer = await h.kv(method, path, { token: officer, body });
      expect(answer.status).toBe(status);
      expect(error(answer)).toMatchObject(expected);
      expect(answer.headers['x-ms-error-code']).toBe(expected.code);
      expect(await state()).toEqual(before);
    },
  );

  it('answers a host that names no vault with 404, before asking for a token', async () => {
    const answer = await h.kv('GET', `/secrets/stable?${KV_V}`, { vault: 'no-such-vault' });
    expect(answer.status).toBe(404);
    expect(error(answer)?.code).toBe('VaultNotFound');
  });

  it('refuses a token for another audience and a token that is not one, with the challenge', async () => {
    const management = await h.kv('GET', `/secrets/stable?${KV_V}`, { token: h.admin });
    expect(management.status).toBe(401);
    const port = new URL(h.server.url).port;
    expect(error(management)).toEqual({
      code: 'Unauthorized',
      message: `AKV10022: Invalid audience. Expected https://vault.localhost:${port}, found: https://management.azure.com.`,
    });
    expect(management.headers['www-authenticate']).toContain(
      `resource="https://vault.localhost:${port}"`,
    );
    const garbage = await h.kv('GET', `/secrets/stable?${KV_V}`, { token: 'not.a.token' });
    expect([garbage.status, error(garbage)?.code]).toEqual([401, 'Unauthorized']);
  });

  it('lets Key Vault Secrets User read values but not write, Reader list but not read, and no role nothing', async () => {
    const user = await h.newKvClient('kv-user');
    await h.grant(user.objectId, 'keyVaultSecretsUser', h.vault.id);
    const reader = await h.newKvClient('kv-reader');
    await h.grant(reader.objectId, 'keyVaultReader', h.vault.id);
    const nobody = await h.newKvClient('kv-nobody');

    const read = await h.kv('GET', `/secrets/stable?${KV_V}`, { token: user.token });
    expect([read.status, read.body?.value]).toEqual([200, 'unchanged']);
    expect(read.headers['x-ms-keyvault-rbac-assignment-id']).toMatch(/^[0-9a-f-]{36}$/);
    const write = await h.kv('PUT', `/secrets/stable?${KV_V}`, {
      token: user.token,
      body: { value: 'no' },
    });
    expect(write.status).toBe(403);
    expect(error(write)?.innererror).toEqual({ code: 'ForbiddenByRbac' });
    const message = String(error(write)?.message);
    expect(message.split('\r\n')).toEqual([
      'Caller is not authorized to perform action on resource.',
      'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.',
      expect.stringMatching(
        new RegExp(`^Caller: appid=[0-9a-f-]{36};oid=${user.objectId};iss=`),
      ) as unknown,
      "Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'",
      `Resource: '${h.vault.id.toLowerCase()}/secrets/stable'`,
      'Assignment: (not found)',
      'DenyAssignmentId: null',
      'DecisionReason: null ',
      'Vault: vault-one;location=westeurope',
      '',
    ]);

    const listed = await h.kv('GET', `/secrets?${KV_V}`, { token: reader.token });
    expect(listed.status).toBe(200);
    expect((await h.kv('GET', `/secrets/stable?${KV_V}`, { token: reader.token })).status).toBe(
      403,
    );
    for (const [method, path] of [
      ['GET', '/secrets/stable'],
      ['GET', '/secrets'],
    ] as const) {
      const refused = await h.kv(method, `${path}?${KV_V}`, { token: nobody.token });
      expect([refused.status, error(refused)?.code]).toEqual([403, 'Forbidden']);
    }
  });

  it('honours a role assigned on one secret for that secret only', async () => {
    const scoped = await h.newKvClient('kv-scoped');
    await h.kv('PUT', `/secrets/other?${KV_V}`, { token: officer, body: { value: 'other' } });
    await h.grant(scoped.objectId, 'keyVaultSecretsUser', `${h.vault.id}/secrets/stable`);
    expect((await h.kv('GET', `/secrets/stable?${KV_V}`, { token: scoped.token })).status).toBe(
      200,
    );
    expect((await h.kv('GET', `/secrets/other?${KV_V}`, { token: scoped.token })).status).toBe(403);
  });

  it('forgets the secrets of a deleted vault: a vault made again under the name starts empty', async () => {
    const path = await h.createVault('short-lived');
    const client = await h.newKvClient('kv-short');
    await h.grant(client.objectId, 'keyVaultSecretsOfficer', path);
    const set = await h.kv('PUT', `/secrets/gone?${KV_V}`, {
      vault: 'short-lived',
      token: client.token,
      body: { value: 'bye' },
    });
    expect(set.status).toBe(200);
    expect(
      (await h.arm('DELETE', `${path}?api-version=2023-07-01`, { token: h.admin })).status,
    ).toBe(200);
    const noVault = await h.kv('GET', `/secrets/gone?${KV_V}`, {
      vault: 'short-lived',
      token: client.token,
    });
    expect(noVault.status).toBe(404);
    await h.createVault('short-lived');
    // The role assignment outlived the vault (as in Azure) and applies to the new one.
    const empty = await h.kv('GET', `/secrets/gone?${KV_V}`, {
      vault: 'short-lived',
      token: client.token,
    });
    expect([empty.status, error(empty)?.code]).toEqual([404, 'SecretNotFound']);
  });
});
