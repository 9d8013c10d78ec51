// IMDS token success: Azure's body, a countdown for cached tokens, default identities, selectors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  imds,
  LIFETIME,
  startImds,
  tokenPath,
  UAI1,
  UAI2,
  UAI3,
  VM1,
  VM1_SYSTEM,
  type Harness,
} from './imds-harness.js';

const ORDER = [
  'access_token',
  'client_id',
  'expires_in',
  'expires_on',
  'ext_expires_in',
  'not_before',
  'resource',
  'token_type',
];

async function token(
  h: Harness,
  path: string,
  from = '127.0.0.1',
): Promise<Record<string, unknown>> {
  const answer = await imds(h.server.url, path, { from });
  expect(answer.status, answer.text).toBe(200);
  return JSON.parse(answer.text) as Record<string, unknown>;
}

describe('IMDS token endpoint', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startImds();
  });
  afterAll(async () => {
    await h.server.close();
  });

  it('answers with every member a string, in Azure’s order, as JSON', async () => {
    const answer = await imds(h.server.url, tokenPath());
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = JSON.parse(answer.text) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(ORDER);
    for (const key of ORDER) expect(typeof body[key], key).toBe('string');
    const issued = h.backend.issuedAt;
    expect(body).toMatchObject({
      client_id: VM1_SYSTEM.clientId,
      expires_on: String(issued + LIFETIME),
      ext_expires_in: '86399',
      not_before: String(issued),
      resource: 'https://management.azure.com/',
      token_type: 'Bearer',
    });
    // The harness clock stands 600 s after issue.
    expect(body.expires_in).toBe(String(LIFETIME - 600));
    expect(String(body.access_token)).toMatch(/^eyJ/);
  });

  it('counts expires_in down for the cached token', async () => {
    const first = await token(h, tokenPath('', 'https%3A%2F%2Fvault.azure.net'));
    h.clock.ms += 10_000;
    const second = await token(h, tokenPath('', 'https%3A%2F%2Fvault.azure.net'));
    expect(second.access_token).toBe(first.access_token);
    expect(Number(first.expires_in) - Number(second.expires_in)).toBe(10);
    expect(second.expires_on).toBe(first.expires_on);
    h.clock.ms += LIFETIME * 1000;
    const expired = await token(h, tokenPath('', 'https%3A%2F%2Fvault.azure.net'));
    expect(expired.expires_in).toBe('0');
    h.clock.ms -= (LIFETIME + 10) * 1000;
  });

  it('echoes the resource verbatim and asks the backend for exactly that resource', async () => {
    const body = await token(h, tokenPath('', 'api%3A%2F%2FMy-App%2F.default%20x'));
    expect(body.resource).toBe('api://My-App/.default x');
    expect(h.backend.calls.at(-1)).toMatchObject({ resource: 'api://My-App/.default x' });
  });

  it('accepts the paths MSAL and the SDKs send', async () => {
    const query = tokenPath().slice('/metadata/identity/oauth2/token'.length);
    for (const path of [
      '/metadata/identity/oauth2/token/',
      '//metadata/identity/oauth2/token/',
      '/Metadata/identity/oauth2/token',
      '/METADATA/identity/oauth2/token/',
    ]) {
      const body = await token(h, path + query);
      expect(body.client_id, path).toBe(VM1_SYSTEM.clientId);
    }
  });

  it('passes bypass_cache=true through', async () => {
    await token(h, tokenPath('&bypass_cache=true'));
    expect(h.backend.calls.at(-1)).toMatchObject({ bypassCache: true });
    await token(h, tokenPath());
    expect(h.backend.calls.at(-1)).toMatchObject({ bypassCache: false });
  });

  it('ignores parameters it does not know (authority, format)', async () => {
    const body = await token(h, tokenPath('&authority=https%3A%2F%2Flogin.example&format=json'));
    expect(body.client_id).toBe(VM1_SYSTEM.clientId);
  });

  describe('default identity (PROTOCOL 1.3)', () => {
    it('uses the system-assigned identity when there is one', async () => {
      expect((await token(h, tokenPath(), '127.0.0.1')).client_id).toBe(VM1_SYSTEM.clientId);
    });
    it('uses the only user-assigned identity when there is no system-assigned one', async () => {
      expect((await token(h, tokenPath(), '127.0.0.3')).client_id).toBe(UAI3.clientId);
    });
    it('refuses to guess between several user-assigned identities', async () => {
      const answer = await imds(h.server.url, tokenPath(), { from: '127.0.0.2' });
      expect(answer.status).toBe(400);
      expect(answer.text).toContain('Multiple user assigned identities exist');
    });
  });

  describe('selectors', () => {
    const cases: readonly (readonly [string, string, string])[] = [
      ['client_id', `&client_id=${UAI1.clientId}`, UAI1.clientId],
      ['client_id in upper case', `&client_id=${UAI1.clientId.toUpperCase()}`, UAI1.clientId],
      ['object_id', `&object_id=${UAI1.principalId}`, UAI1.clientId],
      ['msi_res_id', `&msi_res_id=${encodeURIComponent(UAI1.resourceId)}`, UAI1.clientId],
      [
        'msi_res_id in another case (resourceGroups)',
        `&msi_res_id=${encodeURIComponent(UAI1.resourceId.replace('resourcegroups', 'resourceGroups').toUpperCase())}`,
        UAI1.clientId,
      ],
      ['mi_res_id', `&mi_res_id=${encodeURIComponent(UAI1.resourceId)}`, UAI1.clientId],
      [
        'the system identity by client_id',
        `&client_id=${VM1_SYSTEM.clientId}`,
        VM1_SYSTEM.clientId,
      ],
      [
        'the system identity by the VM id',
        `&msi_res_id=${encodeURIComponent(VM1.id)}`,
        VM1_SYSTEM.clientId,
      ],
      [
        'an empty selector counts as absent',
        `&client_id=&object_id=${UAI1.principalId}`,
        UAI1.clientId,
      ],
    ];
    it.each(cases)('%s', async (_name, extra, clientId) => {
      const body = await token(h, tokenPath(extra));
      expect(body.client_id).toBe(clientId);
      expect(h.backend.calls.at(-1)).toMatchObject({ vm: 'vm1', clientId });
    });

    it('picks among several user-assigned identities', async () => {
      for (const identity of [UAI2, UAI3]) {
        const body = await token(h, tokenPath(`&client_id=${identity.clientId}`), '127.0.0.2');
        expect(body.client_id).toBe(identity.clientId);
      }
    });
  });

  it('identifies VMs by source address only, never by headers', async () => {
    const answer = await imds(h.server.url, tokenPath(), {
      from: '127.0.0.9',
      headers: { 'X-Real-IP': '127.0.0.1', Forwarded: 'for=127.0.0.1' },
    });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('unauthorized_client');
  });
});
