// Workload identity federation at the token endpoint: a foreign issuer's token (oauth2-mock-server over HTTPS) exchanged for a user-assigned identity's token, and each refusal in Entra's words.
import { createServer, type Server } from 'node:https';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXCHANGE_AUDIENCE,
  type ForeignIssuer,
  startForeignIssuer,
} from '../fixtures/oidc-issuer.js';
import { type ArmHarness, startArm } from './arm-harness.js';

const V = 'api-version=2023-01-31';
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const SUBJECT = 'system:serviceaccount:apps:web';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface Identity {
  readonly id: string;
  readonly clientId: string;
  readonly principalId: string;
}

describe('token endpoint: workload identity federation', () => {
  let h: ArmHarness;
  let issuer: ForeignIssuer;
  /** An HTTPS server whose discovery document is far too large. */
  let bloated: Server;
  let bloatedUrl: string;
  let web: Identity;
  let bare: Identity;

  const identityPath = (name: string): string =>
    `/subscriptions/${h.sub}/resourceGroups/wi-rg/providers/${UAI}/${name}`;

  async function makeIdentity(name: string): Promise<Identity> {
    const made = await h.arm('PUT', `${identityPath(name)}?${V}`, {
      token: h.admin,
      body: { location: 'westeurope' },
    });
    expect(made.status).toBe(201);
    const properties = made.body?.properties as { clientId: string; principalId: string };
    return { id: made.body?.id as string, ...properties };
  }

  async function trust(identity: string, name: string, iss: string, subject = SUBJECT) {
    const put = await h.arm(
      'PUT',
      `${identityPath(identity)}/federatedIdentityCredentials/${name}?${V}`,
      {
        token: h.admin,
        body: { properties: { issuer: iss, subject, audiences: [EXCHANGE_AUDIENCE] } },
      },
    );
    expect(put.status).toBe(201);
  }

  /** POSTs the exchange to the v2 (or v1) token endpoint. */
  async function exchange(
    clientId: string,
    assertion: string,
    version: 'v1' | 'v2' = 'v2',
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const resource = 'https://vault.azure.net';
    const response = await fetch(
      `${h.server.url}/${h.server.tenant.id}/oauth2/${version === 'v2' ? 'v2.0/' : ''}token`,
      {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_assertion_type: JWT_BEARER,
          client_assertion: assertion,
          ...(version === 'v2' ? { scope: `${resource}/.default` } : { resource }),
        }),
      },
    );
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    issuer = await startForeignIssuer();
    bloated = createServer(
      {
        cert: await readFile(issuer.caFile.replace(/ca\.pem$/, 'server.pem')),
        key: await readFile(issuer.caFile.replace(/ca\.pem$/, 'server.key')),
      },
      (_request, response) => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ issuer: 'x', padding: 'p'.repeat(200_000) }));
      },
    );
    await new Promise<void>((resolve) => bloated.listen(0, '127.0.0.1', resolve));
    bloatedUrl = `https://127.0.0.1:${(bloated.address() as AddressInfo).port}`;
    h = await startArm({
      flags: {
        'server.federation.allowLoopbackIssuers': true,
        'server.federation.caFile': issuer.caFile,
      },
    });
    const group = await h.arm(
      'PUT',
      `/subscriptions/${h.sub}/resourceGroups/wi-rg?api-version=2021-04-01`,
      {
        token: h.admin,
        body: { location: 'westeurope' },
      },
    );
    expect(group.status).toBe(201);
    web = await makeIdentity('web');
    bare = await makeIdentity('bare');
    await trust('web', 'apps-web', issuer.url);
    await trust('web', 'case-test', issuer.url, 'system:serviceaccount:apps:Worker');
    await trust('web', 'gone-issuer', 'https://127.0.0.1:9/');
    await trust('web', 'bloated', bloatedUrl);
    await trust('web', 'metadata', 'https://169.254.169.254/issuer');
  });

  afterAll(async () => {
    await h.close();
    await issuer.close();
    await new Promise((resolve) => bloated.close(resolve));
  });

  it("mints the identity's token for a foreign token a credential trusts, on v2 and v1", async () => {
    const assertion = await issuer.token(SUBJECT);
    const v2 = await exchange(web.clientId, assertion);
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({ token_type: 'Bearer' });
    const claims = decodeJwt(v2.body.access_token as string);
    expect(claims).toMatchObject({
      aud: 'https://vault.azure.net',
      appid: web.clientId,
      appidacr: '2',
      oid: web.principalId,
      sub: web.principalId,
      xms_mirid: web.id,
      iss: `${h.server.url}/${h.server.tenant.id}/`,
    });
    // Entra has no replay check on a federated token: the same one works again.
    const v1 = await exchange(web.clientId, assertion, 'v1');
    expect(v1.status).toBe(200);
    expect(decodeJwt(v1.body.access_token as string).appid).toBe(web.clientId);

    const audit = await h.store.audit.list(
      { principalId: web.principalId, kind: 'token' },
      { limit: 5 },
    );
    const issued = audit.items.filter((event) => event.outcome === 'issued');
    expect(issued[0]?.details).toMatchObject({
      issuer: issuer.url,
      subject: SUBJECT,
      auth: 'assertion',
    });
  });

  /** A refusal: status, error, first AADSTS code, and the start of the description. */
  async function refused(clientId: string, assertion: string) {
    const { status, body } = await exchange(clientId, assertion);
    return {
      status,
      error: body.error,
      code: (body.error_codes as number[] | undefined)?.[0],
      text: String(body.error_description).split(/\s+Trace ID:/)[0],
    };
  }

  it('refuses each mismatch with the AADSTS error Entra gives, naming what was presented', async () => {
    const none = await refused(bare.clientId, await issuer.token(SUBJECT));
    expect(none).toMatchObject({ status: 401, error: 'invalid_client', code: 70021 });
    expect(none.text).toContain(
      `Assertion Issuer: '${issuer.url}'. Assertion Subject: '${SUBJECT}'. Assertion Audience: '${EXCHANGE_AUDIENCE}'.`,
    );
    const otherIssuer = await issuer.token(SUBJECT, {
      edit: (_header, payload) => {
        payload.iss = 'https://token.actions.githubusercontent.com';
      },
    });
    expect(await refused(web.clientId, otherIssuer)).toMatchObject({
      status: 401,
      code: 700211,
      text: expect.stringContaining(
        "presented assertion issuer 'https://token.actions.githubusercontent.com'",
      ) as unknown,
    });
    const audience = await refused(
      web.clientId,
      await issuer.token(SUBJECT, { audience: 'https://kubernetes.default.svc' }),
    );
    expect(audience).toMatchObject({ status: 401, code: 700212 });
    expect(audience.text).toContain("audience 'https://kubernetes.default.svc'");
    const subject = await refused(
      web.clientId,
      await issuer.token('system:serviceaccount:apps:db'),
    );
    expect(subject).toMatchObject({ status: 401, code: 700213 });
    const cased = await refused(
      web.clientId,
      await issuer.token('system:serviceaccount:apps:worker'),
    );
    expect(cased).toMatchObject({ status: 401, code: 7002138 });
    expect(cased.text).toContain('matches with case-insensitive comparison');
  });

  it('refuses an expired token, one living over 25 hours, and a bad signature', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await issuer.token(SUBJECT, {
      edit: (_header, payload) => {
        payload.iat = now - 7200;
        payload.nbf = now - 7200;
        payload.exp = now - 3600;
      },
    });
    const old = await refused(web.clientId, expired);
    expect(old).toMatchObject({ status: 401, error: 'invalid_client', code: 700024 });
    expect(old.text).toMatch(
      /^AADSTS700024: Client assertion is not within its valid time range\. Current time: \d{4}-\d\d-\d\dT[\d:.]{16}Z, assertion valid from /,
    );
    const long = await refused(web.clientId, await issuer.token(SUBJECT, { expiresIn: 26 * 3600 }));
    expect(long).toMatchObject({ status: 401, code: 70023 });
    expect(long.text).toMatch(
      /lifetime of less than or equal to 1\.01:00:00\. Token issued at \d+\. Token expires on \d+\./,
    );
    const [header, payload, signature] = (await issuer.token(SUBJECT)).split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const forged = Buffer.from(JSON.stringify({ ...claims, jti: 'forged' })).toString('base64url');
    const bad = await refused(web.clientId, `${header}.${forged}.${signature}`);
    expect(bad).toMatchObject({ status: 401, code: 50027 });
    expect(bad.text).toContain('failed signature verification');
  });

  it("refuses with AADSTS90061 when the issuer's keys cannot be had: unreachable, oversized, metadata address", async () => {
    for (const iss of ['https://127.0.0.1:9/', bloatedUrl, 'https://169.254.169.254/issuer']) {
      const token = await issuer.token(SUBJECT, {
        edit: (_header, payload) => {
          payload.iss = iss;
        },
      });
      expect(await refused(web.clientId, token)).toEqual({
        status: 400,
        error: 'invalid_request',
        code: 90061,
        text: 'AADSTS90061: Request to External OIDC endpoint failed.',
      });
    }
    // Why is for the operator: the audit row says what failed, the caller is told nothing more.
    // Repeated refusals of one reason are one row per window, showing the latest: write it now.
    await h.server.services.tokens.flushRefusals(true);
    const audit = await h.store.audit.list(
      { principalId: web.principalId, outcome: 'refused' },
      { limit: 50 },
    );
    const metadata = audit.items.find(
      (event) => event.details.issuer === 'https://169.254.169.254/issuer',
    );
    expect(String(metadata?.details.keys)).toMatch(/169\.254\.169\.254/);
  });
});

describe('token endpoint: federation outside development', () => {
  let h: ArmHarness;
  let issuer: ForeignIssuer;

  beforeAll(async () => {
    issuer = await startForeignIssuer();
    h = await startArm({ flags: { 'server.federation.caFile': issuer.caFile } });
  });
  afterAll(async () => {
    await h.close();
    await issuer.close();
  });

  it('never fetches from a loopback issuer, over https or http', async () => {
    const path = `/subscriptions/${h.sub}/resourceGroups/prod-rg`;
    expect(
      (
        await h.arm('PUT', `${path}?api-version=2021-04-01`, {
          token: h.admin,
          body: { location: 'westeurope' },
        })
      ).status,
    ).toBe(201);
    const made = await h.arm('PUT', `${path}/providers/${UAI}/api?${V}`, {
      token: h.admin,
      body: { location: 'westeurope' },
    });
    const clientId = (made.body?.properties as { clientId: string }).clientId;
    const plain = issuer.url.replace('https://', 'http://');
    for (const [name, iss] of [
      ['tls', issuer.url],
      ['plain', plain],
    ] as const) {
      const put = await h.arm(
        'PUT',
        `${path}/providers/${UAI}/api/federatedIdentityCredentials/${name}?${V}`,
        {
          token: h.admin,
          body: { properties: { issuer: iss, subject: SUBJECT, audiences: [EXCHANGE_AUDIENCE] } },
        },
      );
      expect(put.status).toBe(201);
      const token = await issuer.token(SUBJECT, {
        edit: (_header, payload) => {
          payload.iss = iss;
        },
      });
      const response = await fetch(`${h.server.url}/${h.server.tenant.id}/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_assertion_type: JWT_BEARER,
          client_assertion: token,
          scope: 'https://vault.azure.net/.default',
        }),
      });
      const body = (await response.json()) as { error_codes: number[] };
      expect([response.status, body.error_codes]).toEqual([400, [90061]]);
    }
  });
});
