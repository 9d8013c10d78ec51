// The login surface end to end: real HTTP, real store, real keys; jose as the independent oracle.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessTokenVerifier, remoteJwksResolver } from '../../src/core/tokens/index.js';
import { storeTargets } from '../store/targets.js';
import {
  assertion,
  certifiedClient,
  type CertifiedClient,
  type LoginHarness,
  postToken,
  startLogin,
} from './login-harness.js';

const ARM = 'https://management.azure.com/';

describe.each(storeTargets())('login surface on $name', (target) => {
  let h: LoginHarness;
  let mi: CertifiedClient;

  beforeAll(async () => {
    h = await startLogin(target);
    mi = await certifiedClient(h);
  });
  afterAll(async () => {
    await h.close();
  });

  const form = async (client: CertifiedClient, extra: Record<string, string> = {}) => ({
    grant_type: 'client_credentials',
    client_id: client.principal.appId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await assertion(h, client),
    ...extra,
  });

  it('serves v1 and v2 discovery documents that point at its own endpoints', async () => {
    const v1 = (await (
      await fetch(`${h.url}/${h.tenant.id}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(v1.issuer).toBe(`${h.url}/${h.tenant.id}/`);
    expect(v1.token_endpoint).toBe(`${h.url}/${h.tenant.id}/oauth2/token`);
    expect(v1.jwks_uri).toBe(`${h.url}/${h.tenant.id}/discovery/keys`);
    const v2Response = await fetch(`${h.url}/${h.tenant.id}/v2.0/.well-known/openid-configuration`);
    const v2 = (await v2Response.json()) as Record<string, unknown>;
    expect(v2.token_endpoint).toBe(`${h.url}/${h.tenant.id}/oauth2/v2.0/token`);
    expect(v2.jwks_uri).toBe(`${h.url}/${h.tenant.id}/discovery/v2.0/keys`);
    const keys = await fetch(`${h.url}/common/discovery/keys`);
    expect(keys.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const jwks = (await keys.json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of jwks.keys) {
      expect(Object.keys(key)).toEqual(['kty', 'use', 'kid', 'x5t', 'n', 'e', 'x5c']);
      expect(key.kid).toBe(key.x5t);
    }
  });

  it('refuses discovery for a tenant it does not have, in the OAuth dialect', async () => {
    const response = await fetch(`${h.url}/${randomUUID()}/.well-known/openid-configuration`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.error).toBe('invalid_tenant');
    expect(body.error_codes).toEqual([90002]);
  });

  it('issues a v1 token with the certificate assertion, verifiable via discovery and JWKS', async () => {
    const { status, body, headers } = await postToken(h, 'v1', {
      ...(await form(mi)),
      resource: ARM,
    });
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toContain('no-store');
    expect(Object.keys(body)).toEqual([
      'token_type',
      'expires_in',
      'ext_expires_in',
      'expires_on',
      'not_before',
      'resource',
      'access_token',
    ]);
    expect(body).toMatchObject({ token_type: 'Bearer', resource: ARM, expires_in: '86700' });
    const token = body.access_token as string;

    const discovery = (await (
      await fetch(`${h.url}/${h.tenant.id}/.well-known/openid-configuration`)
    ).json()) as { jwks_uri: string; issuer: string };
    const { payload, protectedHeader } = await jwtVerify(
      token,
      createRemoteJWKSet(new URL(discovery.jwks_uri)),
      { issuer: discovery.issuer, audience: ARM, algorithms: ['RS256'] },
    );
    expect(protectedHeader).toMatchObject({ typ: 'JWT', alg: 'RS256' });
    expect(protectedHeader.kid).toBe(protectedHeader.x5t);
    expect(payload).toMatchObject({
      aud: ARM,
      appid: mi.principal.appId,
      appidacr: '2',
      idtyp: 'app',
      oid: mi.principal.objectId,
      sub: mi.principal.objectId,
      tid: h.tenant.id,
      ver: '1.0',
      xms_mirid: mi.principal.alternativeNames[0],
    });
    expect(payload.idp).toBe(payload.iss);
    expect(payload.iat).toBe(payload.nbf);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(86_700);
    expect(payload.uti).toMatch(/^[A-Za-z0-9_-]{22}$/);

    // Tessera's own verifier, as ARM and Key Vault use it, agrees through the published keys.
    const verifier = createAccessTokenVerifier({
      issuers: [discovery.issuer],
      audiences: [ARM],
      clock: h.clock,
      keys: remoteJwksResolver(new URL(discovery.jwks_uri)),
    });
    const verified = await verifier.verify(token);
    expect(verified.objectId).toBe(mi.principal.objectId);
    const [head, claims, signature] = token.split('.');
    const forged = Buffer.from(claims ?? '', 'base64url')
      .toString()
      .replace(ARM, 'https://vault.azure.net');
    await expect(
      verifier.verify(`${head}.${Buffer.from(forged).toString('base64url')}.${signature}`),
    ).rejects.toMatchObject({ code: 'InvalidToken', status: 401 });

    const audit = await h.store.audit.list({ principalId: mi.principal.objectId }, { limit: 10 });
    expect(audit.items.find((e) => e.tokenId === payload.uti)).toMatchObject({
      outcome: 'issued',
      resource: ARM,
    });
  });

  it('issues a v2 token for scope {resource}/.default with PS256 and ES256 assertions', async () => {
    const ec = await certifiedClient(h, 'ManagedIdentity', 'ec');
    for (const [client, alg] of [
      [mi, 'PS256'],
      [ec, 'ES256'],
    ] as const) {
      const { status, body } = await postToken(h, 'v2', {
        grant_type: 'client_credentials',
        client_id: client.principal.appId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(h, client, { alg }),
        scope: 'https://vault.azure.net/.default',
      });
      expect(status, JSON.stringify(body)).toBe(200);
      expect(Object.keys(body)).toEqual([
        'token_type',
        'expires_in',
        'ext_expires_in',
        'access_token',
      ]);
      expect(body.expires_in).toBe(86_700);
      expect(decodeJwt(body.access_token as string).aud).toBe('https://vault.azure.net');
    }
  });

  it('issues to an application with a client secret, in the body or with HTTP Basic', async () => {
    const app = await h.services.directory.createPrincipal({
      tenantId: h.tenant.id,
      displayName: 'ci-app',
      type: 'Application',
    });
    const { secret } = await h.services.directory.addClientSecret(app.objectId);
    const post = await postToken(h, 'v2', {
      grant_type: 'client_credentials',
      client_id: app.appId,
      client_secret: secret,
      scope: `${ARM}.default`,
    });
    expect(post.status).toBe(200);
    // The scope minus `/.default`, as Entra's v2 endpoint does for ARM.
    expect(decodeJwt(post.body.access_token as string)).toMatchObject({
      appidacr: '1',
      aud: 'https://management.azure.com',
    });
    const basic = Buffer.from(
      `${encodeURIComponent(app.appId)}:${encodeURIComponent(secret)}`,
    ).toString('base64');
    const viaBasic = await postToken(
      h,
      'v1',
      { grant_type: 'client_credentials', resource: ARM },
      { authorization: `Basic ${basic}` },
    );
    expect(viaBasic.status).toBe(200);
    const wrong = await postToken(h, 'v2', {
      grant_type: 'client_credentials',
      client_id: app.appId,
      client_secret: `${secret}x`,
      scope: `${ARM}.default`,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    expect(JSON.stringify(wrong.body)).not.toContain(secret);
  });

  describe('refuses forged and broken client assertions with the right OAuth error', () => {
    const cases: [string, () => Promise<Record<string, string>>, number, string, number][] = [
      [
        'wrong signature',
        async () =>
          form(mi, {
            client_assertion: await assertion(h, mi, {
              key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
            }),
          }),
        401,
        'invalid_client',
        700027,
      ],
      [
        'unknown x5t',
        async () =>
          form(mi, {
            client_assertion: await assertion(h, mi, {
              header: { x5t: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA' },
            }),
          }),
        401,
        'invalid_client',
        700027,
      ],
      [
        'expired',
        async () =>
          form(mi, {
            client_assertion: await assertion(h, mi, {
              claims: { nbf: nowS() - 3600, exp: nowS() - 1800 },
            }),
          }),
        401,
        'invalid_client',
        700024,
      ],
      [
        'nbf in the future',
        async () =>
          form(mi, {
            client_assertion: await assertion(h, mi, {
              claims: { nbf: nowS() + 3600, exp: nowS() + 3900 },
            }),
          }),
        401,
        'invalid_client',
        700024,
      ],
      [
        'wrong aud',
        async () =>
          form(mi, {
            client_assertion: await assertion(h, mi, {
              audience: 'https://login.microsoftonline.com/x/oauth2/v2.0/token',
            }),
          }),
        401,
        'invalid_client',
        700023,
      ],
      [
        'lifetime over 10 minutes',
        async () =>
          form(mi, {
            client_assertion: await assertion(h, mi, { claims: { exp: nowS() + 7200 } }),
          }),
        401,
        'invalid_client',
        50013,
      ],
      [
        'iss and sub another client',
        async () =>
          form(mi, {
            client_assertion: await assertion(h, mi, {
              claims: { iss: randomUUID(), sub: randomUUID() },
            }),
          }),
        401,
        'invalid_client',
        50048,
      ],
      [
        'iss and sub equal but not the client id',
        async () => {
          const other = randomUUID();
          return form(mi, {
            client_assertion: await assertion(h, mi, { claims: { iss: other, sub: other } }),
          });
        },
        401,
        'invalid_client',
        700021,
      ],
      [
        'alg HS256',
        async () =>
          form(mi, {
            client_assertion: `${b64({ alg: 'HS256', typ: 'JWT', x5t: mi.sha1 })}.${b64({ iss: mi.principal.appId })}.AAAA`,
          }),
        401,
        'invalid_client',
        5002738,
      ],
    ];
    const nowS = (): number => Math.floor(h.clock.now() / 1000);
    const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

    it.each(cases)('%s', async (_name, make, status, error, aadsts) => {
      const { status: got, body } = await postToken(h, 'v2', {
        ...(await make()),
        scope: `${ARM}.default`,
      });
      expect({ got, error: body.error, codes: body.error_codes }).toEqual({
        got: status,
        error,
        codes: [aadsts],
      });
      expect(body.error_description).toMatch(
        /^AADSTS\d+: .*\r\nTrace ID: .*\r\nCorrelation ID: .*\r\nTimestamp: /s,
      );
    });

    it('a replayed jti', async () => {
      const once = await form(mi, { scope: `${ARM}.default` });
      expect((await postToken(h, 'v2', once)).status).toBe(200);
      const again = await postToken(h, 'v2', once);
      expect(again.status).toBe(401);
      expect(again.body.error).toBe('invalid_client');
      const refused = await h.store.audit.list(
        { principalId: mi.principal.objectId, outcome: 'refused' },
        { limit: 50 },
      );
      expect(refused.items.some((e) => /replay|already been used/i.test(e.reason ?? ''))).toBe(
        true,
      );
    });

    it('a revoked certificate, a disabled principal, a secret on a managed identity', async () => {
      const revoked = await certifiedClient(h);
      await h.services.directory.revokeCredential(revoked.credentialId);
      const r1 = await postToken(h, 'v2', { ...(await form(revoked)), scope: `${ARM}.default` });
      expect([r1.status, r1.body.error]).toEqual([401, 'invalid_client']);

      const disabled = await certifiedClient(h);
      await h.services.directory.setEnabled(disabled.principal.objectId, false);
      const r2 = await postToken(h, 'v2', { ...(await form(disabled)), scope: `${ARM}.default` });
      expect([r2.status, r2.body.error]).toEqual([400, 'unauthorized_client']);

      const r3 = await postToken(h, 'v2', {
        grant_type: 'client_credentials',
        client_id: mi.principal.appId,
        client_secret: 'anything-at-all',
        scope: `${ARM}.default`,
      });
      expect([r3.status, r3.body.error]).toEqual([401, 'invalid_client']);
    });

    it('an expired certificate', async () => {
      const client = await certifiedClient(h);
      h.clock.advance(8 * 24 * 3600 * 1000); // past the 7-day certificate lifetime
      try {
        const r = await postToken(h, 'v2', { ...(await form(client)), scope: `${ARM}.default` });
        expect([r.status, r.body.error]).toEqual([401, 'invalid_client']);
      } finally {
        h.clock.advance(-8 * 24 * 3600 * 1000);
      }
    });
  });

  it('keeps old tokens verifiable across a rotation, and signs with the new key after it', async () => {
    const before = await postToken(h, 'v1', { ...(await form(mi)), resource: ARM });
    const oldToken = before.body.access_token as string;
    const oldKid = decodeProtectedHeader(oldToken).kid;
    await h.services.signingKeys.rotate();
    // Published a full cache period before it signs: the JWKS now holds both keys.
    const jwksUri = new URL(`${h.url}/${h.tenant.id}/discovery/keys`);
    const published = (await (await fetch(jwksUri)).json()) as { keys: { kid: string }[] };
    expect(published.keys.length).toBeGreaterThanOrEqual(2);
    const stillOld = await postToken(h, 'v1', { ...(await form(mi)), resource: ARM });
    expect(decodeProtectedHeader(stillOld.body.access_token as string).kid).toBe(oldKid);

    h.clock.advance(24 * 3600 * 1000 + 60_000); // past the publish lead: the new key signs
    const after = await postToken(h, 'v1', { ...(await form(mi)), resource: ARM });
    const newToken = after.body.access_token as string;
    expect(decodeProtectedHeader(newToken).kid).not.toBe(oldKid);
    const jwks = createRemoteJWKSet(jwksUri);
    const options = { audience: ARM, currentDate: new Date(h.clock.now()) };
    await expect(jwtVerify(oldToken, jwks, options)).resolves.toBeDefined();
    await expect(jwtVerify(newToken, jwks, options)).resolves.toBeDefined();
  });
});
