// The agent API client against a scripted HTTP server: host assertions, error mapping, network failures.
import { generateKeyPairSync } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate, issueServerCertificate } from '../core/keys/x509.js';
import { createManualClock } from './clock.js';
import { AppError } from '../core/errors.js';
import { renderImdsError } from '../wire/errors/index.js';
import { renderOAuthError } from '../wire/errors/oauth.js';
import { ENTRA_ERRORS, type EntraErrorSpec } from '../wire/oauth/entra-errors.js';
import { createServerClient, type HostCredentials } from './server-client.js';
import { errorFromResponse } from './server-replies.js';

interface Scripted {
  status: number;
  body: string;
  headers?: Record<string, string>;
  /** Never answer (the request is held until the test ends). */
  hold?: boolean;
}

let server: Server;
let url: string;
const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
let next: Scripted = { status: 200, body: '{}' };
/** When set, the server drops a kept-alive connection as its next request arrives. */
let dropReused = false;
const requestsOn = new WeakMap<Socket, number>();
const held: ServerResponse[] = [];
let host: HostCredentials;
let hostPublic: ReturnType<typeof generateKeyPairSync>['publicKey'];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    const count = (requestsOn.get(req.socket) ?? 0) + 1;
    requestsOn.set(req.socket, count);
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (dropReused && count > 1) {
        dropReused = false;
        req.socket.destroy();
        return;
      }
      if (next.hold === true) {
        held.push(res);
        return;
      }
      res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
      res.end(next.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  hostPublic = publicKey;
  const cert = await createSelfSignedCertificate({
    privateKey,
    publicKey,
    commonName: 'host',
    notBefore: Date.UTC(2029, 0, 1),
    notAfter: Date.UTC(2031, 0, 1),
    isCa: false,
  });
  host = { hostId: 'host-1', privateKey, certificateDer: cert.der };
});
afterAll(async () => {
  for (const res of held) res.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const token = {
  accessToken: 'at',
  clientId: 'c',
  resource: 'r',
  expiresOn: 2,
  notBefore: 1,
};

describe('server client', () => {
  it('signs a host assertion (ES256, x5c, sub, aud, 5 minutes), reuses it, and re-signs it before it expires', async () => {
    const clock = createManualClock();
    const client = createServerClient({ serverUrl: `${url}/`, clock });
    client.useHost(host);
    next = { status: 200, body: JSON.stringify(token) };
    await client.token({ vmId: '/vm', clientId: 'x', resource: 'r' });
    await client.token({ vmId: '/vm', clientId: 'x', resource: 'r' });
    const [first, second] = seen.slice(-2).map((s) => s.headers.authorization ?? '');
    expect(seen.at(-1)?.url).toBe('/agent/v1/token');
    expect(first).toMatch(/^TesseraHost [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(second).toBe(first);
    const jws = (first ?? '').slice('TesseraHost '.length);
    await compactVerify(jws, hostPublic);
    expect(decodeProtectedHeader(jws)).toEqual({
      alg: 'ES256',
      x5c: [host.certificateDer.toString('base64')],
    });
    const claims = decodeJwt(jws);
    expect(claims).toMatchObject({ sub: 'host-1', aud: `${url}/agent/v1` });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
    expect(claims.iat).toBe(Math.floor(clock.now() / 1000));

    await clock.advance(241_000);
    await client.token({ vmId: '/vm', clientId: 'x', resource: 'r' });
    expect(seen.at(-1)?.headers.authorization).not.toBe(first);
    client.close();
  });

  it('sends the body and the query, and checks the answer has the contract shape', async () => {
    const client = createServerClient({ serverUrl: url, clock: createManualClock() });
    client.useHost(host);
    next = { status: 200, body: JSON.stringify({ position: 3, full: true, vms: [], removed: [] }) };
    expect(await client.syncVms(2, 30)).toEqual({ position: 3, full: true, vms: [], removed: [] });
    expect(seen.at(-1)?.url).toBe('/agent/v1/vms?after=2&wait=30');
    next = { status: 200, body: JSON.stringify({ position: 'x' }) };
    await expect(client.syncVms(2, 0)).rejects.toMatchObject({ code: 'ServiceUnavailable' });
    next = { status: 200, body: JSON.stringify(token) };
    await client.token({ vmId: '/vm', clientId: 'x', resource: 'r', peer: '10.0.0.4' });
    expect(JSON.parse(seen.at(-1)?.body ?? '')).toEqual({
      vmId: '/vm',
      clientId: 'x',
      resource: 'r',
      peer: '10.0.0.4',
    });
    expect(seen.at(-1)?.headers['content-type']).toBe('application/json');
    client.close();
  });

  it('turns error bodies into AppErrors: 4xx keeps status, code and target; 5xx is a retryable 503', async () => {
    const client = createServerClient({ serverUrl: url, clock: createManualClock() });
    client.useHost(host);
    next = {
      status: 403,
      body: JSON.stringify({
        error: { code: 'AuthorizationFailed', message: 'not here', target: 'clientId' },
      }),
    };
    await expect(client.certificate('p', { csr: 'csr' })).rejects.toMatchObject({
      code: 'Forbidden',
      status: 403,
      message: 'not here',
      target: 'clientId',
      wire: { arm: 'AuthorizationFailed' },
    });
    next = { status: 404, body: JSON.stringify({ error: { code: 'NotFound', message: 'no' } }) };
    await expect(client.renew('csr')).rejects.toMatchObject({ code: 'NotFound', status: 404 });
    next = { status: 503, body: 'busy', headers: { 'retry-after': '17' } };
    await expect(client.token({ vmId: 'v', clientId: 'a', resource: 'r' })).rejects.toMatchObject({
      code: 'ServiceUnavailable',
      status: 503,
      retryAfterSeconds: 17,
    });
    next = { status: 500, body: '<html>oops</html>' };
    await expect(client.token({ vmId: 'v', clientId: 'a', resource: 'r' })).rejects.toMatchObject({
      code: 'ServiceUnavailable',
      status: 503,
      retryAfterSeconds: 5,
    });
    client.close();
  });

  it('rebuilds an Entra refusal as the server raised it, so IMDS passes it on as Azure IMDS does', () => {
    const answer = (status: number, code: string, message: string) => {
      const error = errorFromResponse(
        status,
        JSON.stringify({ error: { code, message } }),
        undefined,
        5,
      );
      const rendered = renderImdsError(error);
      return { error, status: rendered.status, body: JSON.parse(rendered.body) as unknown };
    };
    const disabled = answer(
      400,
      'unauthorized_client',
      "AADSTS7000112: Application 'c1'(uai) is disabled.",
    );
    expect(disabled.error).toMatchObject({
      code: 'UnauthorizedClient',
      status: 400,
      message: "Application 'c1'(uai) is disabled.",
      errorCodes: [7000112],
    });
    expect(disabled.status).toBe(400);
    expect(disabled.body).toEqual({
      error: 'unauthorized_client',
      error_description: "AADSTS7000112: Application 'c1'(uai) is disabled.",
    });
    // The agent renews its identity certificate on this one: the wire code must survive.
    const unknownKey = answer(401, 'invalid_client', 'AADSTS700027: Client assertion failed.');
    expect(unknownKey.error).toMatchObject({ status: 401, wire: { arm: 'invalid_client' } });
    expect(unknownKey.body).toEqual({
      error: 'invalid_client',
      error_description: 'AADSTS700027: Client assertion failed.',
    });
    for (const [code, message] of [
      ['invalid_request', 'AADSTS50027: JWT token is invalid or malformed.'],
      ['invalid_tenant', "AADSTS90002: Tenant 't' not found."],
      ['invalid_resource', 'AADSTS500011: The resource principal named r was not found.'],
    ] as const) {
      const { status, body } = answer(400, code, message);
      expect(status).toBe(400);
      expect(body).toEqual({ error: code, error_description: message });
    }
    // Not Entra's: no AADSTS number, or not an OAuth error value.
    expect(answer(400, 'InvalidParameter', 'too long').error).toMatchObject({
      code: 'InvalidParameter',
    });
    expect(answer(400, 'unauthorized_client', 'no number').error).toMatchObject({
      code: 'InvalidRequest',
    });
  });

  it('hands IMDS every Entra refusal with Entra’s status, error and description', () => {
    // The agent API's contract (src/server/agent-api/token.ts): Entra's `error` as the code and
    // the first line of its `error_description` as the message, with Entra's status.
    const rows = new Map<string, EntraErrorSpec>();
    for (const spec of Object.values(ENTRA_ERRORS) as EntraErrorSpec[]) {
      rows.set(`${spec.code} ${spec.error} ${spec.status}`, spec);
    }
    expect(rows.size).toBeGreaterThan(7);
    for (const spec of rows.values()) {
      const raised = new AppError(spec.code, 'Entra said no.', {
        status: spec.status,
        errorCodes: [spec.aadsts],
        wire: { oauth: spec.error },
      });
      const entra = renderOAuthError(raised, { traceId: 't', correlationId: 'c', now: 0 });
      const { error, error_description: description } = JSON.parse(entra.body) as Record<
        string,
        string
      >;
      const firstLine = (description ?? '').split('\r\n')[0];
      const agentApiBody = JSON.stringify({ error: { code: error, message: firstLine } });
      const crossed = errorFromResponse(entra.status, agentApiBody, undefined, 5);
      const imds = renderImdsError(crossed);
      expect({ status: imds.status, body: JSON.parse(imds.body) as unknown }, spec.code).toEqual({
        status: entra.status,
        body: { error, error_description: firstLine },
      });
    }
  });

  it('times a call out on the agent’s clock, a long-poll’s wait included, as a retryable 503', async () => {
    const clock = createManualClock();
    const client = createServerClient({ serverUrl: url, clock, timeoutMs: 1_000 });
    client.useHost(host);
    next = { status: 200, body: '{}', hold: true };
    const before = seen.length;
    let settled = false;
    const poll = client.syncVms(0, 30).finally(() => {
      settled = true;
    });
    poll.catch(() => undefined);
    // The deadline is set once the request is on its way (after the host assertion is signed).
    while (seen.length === before) await new Promise((resolve) => setTimeout(resolve, 5));
    await clock.advance(30_999);
    expect(settled).toBe(false);
    await clock.advance(1);
    await expect(poll).rejects.toMatchObject({ code: 'ServiceUnavailable', status: 503 });

    const stop = new AbortController();
    const aborted = client.syncVms(0, 30, stop.signal);
    stop.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'Aborted' });
    client.close();
  });

  it('sends a call again when the server dropped the kept-alive connection it went out on', async () => {
    const client = createServerClient({ serverUrl: url, clock: createManualClock() });
    client.useHost(host);
    next = { status: 200, body: JSON.stringify(token) };
    await client.token({ vmId: '/vm', clientId: 'x', resource: 'r' });
    const before = seen.length;
    dropReused = true;
    expect(await client.token({ vmId: '/vm', clientId: 'x', resource: 'r' })).toEqual(token);
    expect(seen.slice(before).map((s) => s.url)).toEqual(['/agent/v1/token', '/agent/v1/token']);
    client.close();
  });

  it('reports a server that cannot be reached as ServiceUnavailable with Retry-After', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const durations: boolean[] = [];
    const client = createServerClient({
      serverUrl: `http://127.0.0.1:${closedPort}`,
      clock: createManualClock(),
      retryAfterSeconds: 3,
      onUpstream: (_route, _ms, ok) => durations.push(ok),
    });
    await expect(client.register({ joinToken: 'j'.repeat(20), csr: 'csr' })).rejects.toMatchObject({
      code: 'ServiceUnavailable',
      status: 503,
      retryAfterSeconds: 3,
    });
    expect(durations).toEqual([false]);
    client.close();
  });

  it('trusts the server through the configured CA over HTTPS, and refuses it without', async () => {
    const now = Date.now();
    const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ca = await createSelfSignedCertificate({
      ...caKeys,
      commonName: 'test server CA',
      notBefore: now - 60_000,
      notAfter: now + 86_400_000,
      isCa: true,
    });
    const serverKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cert = await issueServerCertificate({
      ca: { certificateDer: ca.der, privateKey: caKeys.privateKey },
      publicKey: serverKeys.publicKey,
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      notBefore: now - 60_000,
      notAfter: now + 86_400_000,
    });
    const tlsServer = createHttpsServer(
      { cert: cert.pem, key: serverKeys.privateKey.export({ format: 'pem', type: 'pkcs8' }) },
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'h', name: 'n', joinToken: 'j' }));
      },
    );
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    const tlsUrl = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
    try {
      const trusting = createServerClient({
        serverUrl: tlsUrl,
        caPem: ca.pem,
        clock: createManualClock(),
      });
      expect(await trusting.createHost('n', 'bearer')).toEqual({
        id: 'h',
        name: 'n',
        joinToken: 'j',
      });
      trusting.close();
      const doubting = createServerClient({ serverUrl: tlsUrl, clock: createManualClock() });
      await expect(doubting.createHost('n', 'bearer')).rejects.toMatchObject({
        code: 'ServiceUnavailable',
      });
      doubting.close();
    } finally {
      await new Promise((resolve) => tlsServer.close(resolve));
    }
  });
});
