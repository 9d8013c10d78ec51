// Where the clients' credentials come from, and how tokens are reused per scope.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTokenProvider, loadCredentials, type ClientCredentials } from './credentials.js';
import type { HttpRequest, HttpSend } from './http.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-client-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TENANT = '3226ca18-6a50-434d-9133-3c4147a1e210';
const CLIENT = '993cb4ba-cc11-4e5f-bc26-9cd643e612fc';

describe('loadCredentials', () => {
  it('reads admin.json and the secret file it names, relative to itself, trimmed', async () => {
    await writeFile(
      join(dir, 'admin.json'),
      JSON.stringify({ tenantId: TENANT, clientId: CLIENT, secretFile: 'admin.secret' }),
    );
    await writeFile(join(dir, 'admin.secret'), 'abc~secret\n');
    await expect(loadCredentials({ dataDir: dir, env: {} })).resolves.toEqual({
      tenantId: TENANT,
      clientId: CLIENT,
      clientSecret: 'abc~secret',
      source: join(dir, 'admin.json'),
    });
  });

  it('prefers AZURE_* when set, and wants all three', async () => {
    const env = { AZURE_CLIENT_ID: CLIENT, AZURE_CLIENT_SECRET: 's', AZURE_TENANT_ID: TENANT };
    await expect(loadCredentials({ dataDir: dir, env })).resolves.toMatchObject({
      clientSecret: 's',
      source: 'environment',
    });
    await expect(
      loadCredentials({ dataDir: dir, env: { AZURE_CLIENT_ID: CLIENT, AZURE_TENANT_ID: TENANT } }),
    ).rejects.toMatchObject({
      code: 'CredentialUnavailable',
      message: expect.stringMatching(/^AZURE_CLIENT_SECRET not set/) as unknown,
    });
  });

  it('says which file is missing or malformed', async () => {
    await expect(loadCredentials({ dataDir: dir, env: {} })).rejects.toMatchObject({
      code: 'CredentialUnavailable',
      message: expect.stringContaining(`${join(dir, 'admin.json')} does not exist`) as unknown,
    });
    await writeFile(join(dir, 'admin.json'), '{"tenantId":"t"}');
    await expect(loadCredentials({ dataDir: dir, env: {} })).rejects.toThrow(/is not a login file/);
    await writeFile(
      join(dir, 'admin.json'),
      JSON.stringify({ tenantId: TENANT, clientId: CLIENT, secretFile: join(dir, 'gone') }),
    );
    await expect(loadCredentials({ dataDir: dir, env: {} })).rejects.toThrow(
      `cannot read the client secret file ${join(dir, 'gone')}: ENOENT`,
    );
  });
});

describe('createTokenProvider', () => {
  const credentials: ClientCredentials = {
    tenantId: TENANT,
    clientId: CLIENT,
    clientSecret: 'shh',
    source: 'test',
  };

  /** A token endpoint that counts requests and answers with tokens that live `expiresIn` seconds. */
  function endpoint(expiresIn: number, status = 200): { send: HttpSend; requests: HttpRequest[] } {
    const requests: HttpRequest[] = [];
    const send: HttpSend = (request) => {
      requests.push(request);
      const scope = new URLSearchParams(request.body).get('scope');
      const text =
        status === 200
          ? JSON.stringify({
              access_token: `token-${requests.length}-${scope ?? ''}`,
              expires_in: expiresIn,
            })
          : JSON.stringify({
              error: 'invalid_client',
              error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x',
            });
      return Promise.resolve({ status, headers: {}, text });
    };
    return { send, requests };
  }

  it('asks once per scope and again shortly before the token expires', async () => {
    let now = 0;
    const { send, requests } = endpoint(3600);
    const tokens = createTokenProvider({
      serverUrl: 'http://s',
      credentials,
      send,
      now: () => now,
    });
    expect(await tokens.getToken('a/.default')).toBe('token-1-a/.default');
    expect(await tokens.getToken('a/.default')).toBe('token-1-a/.default');
    expect(await tokens.getToken('b/.default')).toBe('token-2-b/.default');
    expect(requests[0]).toMatchObject({
      method: 'POST',
      url: `http://s/${TENANT}/oauth2/v2.0/token`,
    });
    expect(Object.fromEntries(new URLSearchParams(requests[0]?.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT,
      client_secret: 'shh',
      scope: 'a/.default',
    });
    now = 3600_000 - 5 * 60_000 - 1;
    expect(await tokens.getToken('a/.default')).toBe('token-1-a/.default');
    now += 1;
    expect(await tokens.getToken('a/.default')).toBe('token-3-a/.default');
  });

  it("turns the endpoint's error into its code and the description's first line, and retries later", async () => {
    const { send, requests } = endpoint(0, 401);
    const tokens = createTokenProvider({ serverUrl: 'http://s', credentials, send });
    await expect(tokens.getToken('a')).rejects.toMatchObject({
      code: 'invalid_client',
      status: 401,
      message: 'AADSTS7000215: Invalid client secret provided.',
    });
    await expect(tokens.getToken('a')).rejects.toThrow();
    expect(requests).toHaveLength(2);
  });
});
