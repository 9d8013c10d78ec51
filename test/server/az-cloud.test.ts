// What `az cloud register` and az's login read: the cloud metadata document at the ARM root and the
// ADFS-style authority at `/adfs`, unauthenticated and in the shapes az, Terraform and MSAL ask for.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateSigningRequest } from '../../src/core/keys/x509.js';
import { type ArmHarness, startArm } from './arm-harness.js';

describe('the cloud az registers', () => {
  let h: ArmHarness;
  let app: { clientId: string; secret: string };

  beforeAll(async () => {
    h = await startArm();
    const { directory } = h.server.services;
    const principal = await directory.createPrincipal({
      tenantId: h.server.tenant.id,
      displayName: 'az-operator',
      type: 'Application',
    });
    const { secret } = await directory.addClientSecret(principal.objectId);
    app = { clientId: principal.appId, secret };
  });
  afterAll(async () => {
    await h.close();
  });

  const get = async (path: string) => {
    const response = await fetch(`${h.server.url}${path}`);
    return { status: response.status, body: await response.json() };
  };

  it('serves /metadata/endpoints without a token, in each shape by api-version', async () => {
    const base = `${h.server.url}/`;
    const legacy = await get('//metadata/endpoints?api-version=2015-01-01');
    expect(legacy).toEqual({
      status: 200,
      body: {
        galleryEndpoint: base,
        graphEndpoint: base,
        portalEndpoint: `${base}portal/`,
        authentication: {
          loginEndpoint: `${h.server.url}/adfs`,
          audiences: ['https://management.core.windows.net/', 'https://management.azure.com/'],
        },
      },
    });
    const current = await get('/metadata/endpoints?api-version=2022-09-01');
    expect(current.body).toMatchObject({
      name: 'Tessera',
      resourceManager: base,
      authentication: { loginEndpoint: `${h.server.url}/adfs`, identityProvider: 'ADFS' },
      suffixes: { keyVaultDns: `vault.localhost:${new URL(h.server.url).port}` },
    });
    for (const version of ['2019-05-01', '2020-06-01']) {
      expect((await get(`/metadata/endpoints?api-version=${version}`)).body).toEqual([
        current.body,
      ]);
    }
  });

  it("answers a missing or unknown api-version with ARM's errors", async () => {
    expect(await get('/metadata/endpoints')).toMatchObject({
      status: 400,
      body: { error: { code: 'MissingApiVersionParameter' } },
    });
    const unknown = await get('/metadata/endpoints?api-version=2021-01-01');
    expect(unknown).toMatchObject({
      status: 400,
      body: { error: { code: 'InvalidApiVersionParameter' } },
    });
    expect(JSON.stringify(unknown.body)).toContain(
      '2022-09-01,2019-05-01,2020-06-01,1.0,2015-01-01',
    );
  });

  it('serves the ADFS authority MSAL trusts without asking login.microsoftonline.com', async () => {
    const doc = await get('/adfs/.well-known/openid-configuration');
    expect(doc.status).toBe(200);
    expect(doc.body).toMatchObject({
      token_endpoint: `${h.server.url}/adfs/oauth2/token`,
      authorization_endpoint: `${h.server.url}/adfs/oauth2/authorize`,
      jwks_uri: `${h.server.url}/adfs/discovery/keys`,
    });
    const keys = await get('/adfs/discovery/keys');
    expect((keys.body as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
  });

  /** POSTs a form to the ADFS token endpoint as MSAL 1.21 does (client_info, claims). */
  const adfsToken = async (form: Record<string, string>) => {
    const response = await fetch(`${h.server.url}/adfs/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_info: '1',
        claims: '{"access_token": {"xms_cc": {"values": ["CP1"]}}}',
        scope: 'https://management.core.windows.net//.default',
        ...form,
      }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it("issues the client's token in its own tenant at /adfs, with a secret or a certificate", async () => {
    const bySecret = await adfsToken({ client_id: app.clientId, client_secret: app.secret });
    expect(bySecret.status).toBe(200);
    expect(typeof bySecret.body.expires_in).toBe('number');
    expect(bySecret.body).not.toHaveProperty('scope');
    expect(decodeJwt(bySecret.body.access_token as string)).toMatchObject({
      aud: 'https://management.core.windows.net/',
      appid: app.clientId,
      tid: h.server.tenant.id,
    });
    // A token for the first audience the metadata lists is one ARM accepts.
    const groups = await h.arm(
      'GET',
      `/subscriptions/${h.sub}/resourcegroups?api-version=2021-04-01`,
      {
        token: bySecret.body.access_token as string,
      },
    );
    expect(groups.status).toBe(200);

    const { directory } = h.server.services;
    const holder = await directory.createPrincipal({
      tenantId: h.server.tenant.id,
      displayName: 'az-cert',
      type: 'Application',
    });
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const csr = await createCertificateSigningRequest({ ...pair, commonName: 'az-cert' });
    const { credential } = await directory.issueCertificate(holder.objectId, csr, {});
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({
      aud: `${h.server.url}/adfs/oauth2/token`,
      iss: holder.appId,
      sub: holder.appId,
      jti: randomUUID(),
      iat: now,
      exp: now + 600,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', 'x5t#S256': credential.thumbprintSha256 })
      .sign(pair.privateKey);
    const byCertificate = await adfsToken({
      client_id: holder.appId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    expect(byCertificate.status).toBe(200);
    expect(decodeJwt(byCertificate.body.access_token as string).appid).toBe(holder.appId);
  });

  it("refuses a client the directory does not have as Entra does, naming 'adfs'", async () => {
    const unknown = randomUUID();
    const refused = await adfsToken({ client_id: unknown, client_secret: 'x' });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });
    expect(refused.body.error_description).toContain(
      `Application with identifier '${unknown}' was not found in the directory 'adfs'.`,
    );
  });
});
