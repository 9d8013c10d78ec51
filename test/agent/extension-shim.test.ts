// `tessera extension`: the legacy localhost:50342 endpoint in front of a real IMDS server, as old scripts call it.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExtensionShim, type ExtensionShim } from '../../src/agent/extension/shim.js';
import { createAgentMetrics, type AgentMetrics } from '../../src/agent/metrics.js';
import { AppError } from '../../src/core/errors.js';
import {
  entraInvalidResource,
  imds,
  LIFETIME,
  ManualClock,
  startImds,
  UAI1,
  UAI2,
  UAI3,
  VM1,
  VM1_SYSTEM,
  VM2,
  VM3,
  type Answer,
  type Call,
  type Harness,
} from './imds-harness.js';

const ARM = 'https://management.azure.com/';
const ARM_QUERY = 'resource=https%3A%2F%2Fmanagement.azure.com%2F';
const METADATA_ERROR =
  '{"error":"bad_request_102","error_description":"Required metadata header not specified"}';

/** One request to the shim on its own connection (Metadata: true unless `bare`). */
const call = (baseUrl: string, path: string, options: Call = {}): Promise<Answer> =>
  imds(baseUrl, path, options);

/** A POST with a form body, as `curl --data` sends it. */
const form = (body: string, headers: Record<string, string> = {}): Call => ({
  method: 'POST',
  body,
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
});

/** The test backend's access token for (identity, resource). */
const accessToken = (clientId: string, resource: string): string =>
  `eyJ0eXAiOiJKV1QifQ.${Buffer.from(`${clientId} ${resource}`).toString('base64url')}.sig`;

/** A log sink that keeps what the shim logs. */
function captureLog(): {
  warns: Record<string, unknown>[];
  errors: Record<string, unknown>[];
  logger: { warn(d: object, m: string): void; error(d: object, m: string): void };
} {
  const warns: Record<string, unknown>[] = [];
  const errors: Record<string, unknown>[] = [];
  return {
    warns,
    errors,
    logger: {
      warn: (d, m) => warns.push({ ...d, msg: m }),
      error: (d, m) => errors.push({ ...d, msg: m }),
    },
  };
}

/** The legacy counter of one VM (0 when the series does not exist yet). */
async function legacyCount(metrics: AgentMetrics, vmId: string): Promise<number> {
  const series = `tessera_agent_imds_legacy_extension_requests_total{vm="${vmId}"} `;
  const line = (await metrics.render()).split('\n').find((l) => l.startsWith(series));
  return line === undefined ? 0 : Number(line.slice(series.length));
}

describe('tessera extension against a real IMDS', () => {
  let metrics: AgentMetrics;
  let h: Harness;
  const log = captureLog();
  let vm1: ExtensionShim;
  let vm2: ExtensionShim;
  let vm4: ExtensionShim;

  beforeAll(async () => {
    metrics = createAgentMetrics({ defaultMetrics: false });
    h = await startImds({ metrics });
    const shim = (localAddress: string): Promise<ExtensionShim> =>
      createExtensionShim({ imdsUrl: h.server.url, port: 0, localAddress, logger: log.logger });
    [vm1, vm2, vm4] = await Promise.all([shim('127.0.0.1'), shim('127.0.0.2'), shim('127.0.0.4')]);
  });
  afterAll(async () => {
    await Promise.all([vm1.close(), vm2.close(), vm4.close()]);
    await h.server.close();
  });

  it("answers GET /oauth2/token?resource= in the extension's documented shape", async () => {
    const answer = await call(vm1.url, `/oauth2/token?${ARM_QUERY}`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.headers.warning).toMatch(/^299 tessera ".*deprecated.*"$/);
    const issuedAt = h.backend.issuedAt;
    // The how-to's sample response: these members, in this order, every value a string.
    expect(answer.text).toBe(
      JSON.stringify({
        access_token: accessToken(VM1_SYSTEM.clientId, ARM),
        refresh_token: '',
        expires_in: String(LIFETIME - 600),
        expires_on: String(issuedAt + LIFETIME),
        not_before: String(issuedAt),
        resource: ARM,
        token_type: 'Bearer',
      }),
    );
    expect(h.backend.calls.at(-1)).toEqual({
      vm: 'vm1',
      clientId: VM1_SYSTEM.clientId,
      resource: ARM,
      bypassCache: false,
      // The shim calls IMDS from the VM's address: the audit trail names the VM's.
      peer: '127.0.0.1',
    });
  });

  it('answers the POST form variant (curl --data, msrestazure)', async () => {
    const posted = await call(
      vm1.url,
      '/oauth2/token',
      form(`resource=https://vault.azure.net&client_id=${UAI1.clientId}`),
    );
    expect(posted.status).toBe(200);
    const body = JSON.parse(posted.text) as Record<string, string>;
    expect(body.access_token).toBe(accessToken(UAI1.clientId, 'https://vault.azure.net'));
    expect(body.refresh_token).toBe('');
    expect(body.resource).toBe('https://vault.azure.net');
    expect(h.backend.calls.at(-1)?.clientId).toBe(UAI1.clientId);

    // Old scripts also send `authority` in the body; it is not forwarded, and not refused.
    const withAuthority = await call(
      vm1.url,
      '/oauth2/token',
      form(`resource=${encodeURIComponent(ARM)}&authority=https://login.microsoftonline.com/x`),
    );
    expect(withAuthority.status).toBe(200);
    // A POST with the parameters in the query string and no body works too.
    const queryOnly = await call(vm1.url, `/oauth2/token?${ARM_QUERY}`, { method: 'POST' });
    expect(queryOnly.status).toBe(200);
    expect(JSON.parse(queryOnly.text)).toMatchObject({ resource: ARM, refresh_token: '' });
  });

  it('refuses a request without exactly one `Metadata: true`, before asking IMDS', async () => {
    const before = h.backend.calls.length;
    const cases: Answer[] = [
      await call(vm1.url, `/oauth2/token?${ARM_QUERY}`, { bare: true }),
      await call(vm1.url, `/oauth2/token?${ARM_QUERY}`, {
        bare: true,
        headers: { Metadata: 'True' },
      }),
      await call(vm1.url, '/oauth2/token', { ...form(ARM_QUERY), bare: true }),
    ];
    for (const answer of cases) {
      expect(answer.status).toBe(400);
      expect(answer.text).toBe(METADATA_ERROR);
    }
    expect(h.backend.calls.length).toBe(before);
  });

  it('forwards client_id, object_id and msi_res_id to IMDS', async () => {
    const token = async (selector: string): Promise<string | undefined> => {
      const answer = await call(vm2.url, `/oauth2/token?${ARM_QUERY}&${selector}`);
      expect(answer.status).toBe(200);
      return h.backend.calls.at(-1)?.clientId;
    };
    expect(await token(`client_id=${UAI2.clientId}`)).toBe(UAI2.clientId);
    expect(await token(`object_id=${UAI3.principalId}`)).toBe(UAI3.clientId);
    expect(await token(`msi_res_id=${encodeURIComponent(UAI2.resourceId)}`)).toBe(UAI2.clientId);
    const posted = await call(
      vm2.url,
      '/oauth2/token',
      form(`${ARM_QUERY}&object_id=${UAI2.principalId}`),
    );
    expect(posted.status).toBe(200);
    expect(h.backend.calls.at(-1)?.clientId).toBe(UAI2.clientId);
    expect(h.backend.calls.at(-1)?.vm).toBe('vm2');
  });

  it("passes IMDS's errors on unchanged: status, error, error_description", async () => {
    // Each pair: the shim's request and the equivalent direct IMDS request, from the same VM.
    const pairs: [ExtensionShim, string, string, string][] = [
      [vm2, '', '127.0.0.2', 'several user-assigned identities, no selector'],
      [vm4, '', '127.0.0.4', 'a VM without identities'],
      [vm1, '&client_id=00000000-0000-4000-8000-00000000dead', '127.0.0.1', 'unknown client_id'],
      [
        vm1,
        `&client_id=${UAI1.clientId}&object_id=${UAI1.principalId}`,
        '127.0.0.1',
        'two selectors',
      ],
    ];
    for (const [shim, extra, from, what] of pairs) {
      const legacy = await call(shim.url, `/oauth2/token?${ARM_QUERY}${extra}`);
      const direct = await imds(
        h.server.url,
        `/metadata/identity/oauth2/token?api-version=2018-02-01&${ARM_QUERY}${extra}`,
        { from },
      );
      expect(direct.status, what).toBe(400);
      expect({ status: legacy.status, text: legacy.text }, what).toEqual({
        status: direct.status,
        text: direct.text,
      });
    }
    const noResource = await call(vm1.url, '/oauth2/token', form('resource='));
    expect(noResource.status).toBe(400);
    expect(noResource.text).toBe(
      '{"error":"invalid_request","error_description":"Required query variable \'resource\' is missing"}',
    );
    const multiple = await call(vm2.url, `/oauth2/token?${ARM_QUERY}`);
    expect(JSON.parse(multiple.text)).toEqual({
      error: 'invalid_request',
      error_description:
        'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request',
    });
  });

  it('passes Entra errors and retryable failures on, with Retry-After', async () => {
    try {
      h.backend.failWith = entraInvalidResource();
      const entra = await call(vm1.url, '/oauth2/token?resource=https%3A%2F%2Funknown.example');
      expect(entra.status).toBe(400);
      expect(JSON.parse(entra.text)).toEqual({
        error: 'invalid_resource',
        error_description:
          'AADSTS500011: The resource principal named https://unknown.example was not found in the tenant named Tessera.',
      });

      h.backend.failWith = new AppError('ServiceUnavailable', 'The server is unreachable.', {
        status: 503,
        expose: true,
        retryAfterSeconds: 7,
      });
      const outage = await call(vm1.url, `/oauth2/token?${ARM_QUERY}`);
      expect(outage.status).toBe(503);
      expect(outage.headers['retry-after']).toBe('7');
      expect(JSON.parse(outage.text)).toEqual({
        error: 'service_unavailable',
        error_description: 'The server is unreachable.',
      });
    } finally {
      h.backend.failWith = undefined;
    }
  });

  it('refuses other paths with unknown_source and other methods with 405', async () => {
    const path = await call(vm1.url, `/metadata/identity/oauth2/token?${ARM_QUERY}`);
    expect(path.status).toBe(401);
    expect(path.text).toBe(
      '{"error":"unknown_source","error_description":"Unknown Source /metadata/identity/oauth2/token"}',
    );
    const put = await call(vm1.url, `/oauth2/token?${ARM_QUERY}`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, POST');
    expect(JSON.parse(put.text)).toMatchObject({ error: 'method_not_allowed' });
    const trailing = await call(vm1.url, `/OAuth2/Token/?${ARM_QUERY}`);
    expect(trailing.status).toBe(200);
  });

  it('refuses repeated, malformed and non-form parameters with invalid_request', async () => {
    const before = h.backend.calls.length;
    const answers = [
      await call(vm1.url, `/oauth2/token?${ARM_QUERY}&${ARM_QUERY}`),
      await call(vm1.url, '/oauth2/token?resource=%E0%A4%A'),
      await call(vm1.url, `/oauth2/token?${ARM_QUERY}`, form(ARM_QUERY)),
      await call(vm1.url, '/oauth2/token', {
        method: 'POST',
        body: JSON.stringify({ resource: ARM }),
        headers: { 'Content-Type': 'application/json' },
      }),
      await call(vm1.url, '/oauth2/token', form(`resource=${'a'.repeat(20_000)}`)),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.text)).toMatchObject({ error: 'invalid_request' });
    }
    expect(h.backend.calls.length).toBe(before);
  });

  it('makes the agent count legacy calls per VM, by the VM the request comes from', async () => {
    const before = {
      vm1: await legacyCount(metrics, VM1.id),
      vm2: await legacyCount(metrics, VM2.id),
      vm3: await legacyCount(metrics, VM3.id),
    };
    await call(vm1.url, `/oauth2/token?${ARM_QUERY}`);
    await call(vm1.url, '/oauth2/token', form(ARM_QUERY));
    // Refused by IMDS ("Identity not found"), still a legacy call from vm1.
    await call(vm1.url, `/oauth2/token?${ARM_QUERY}&client_id=${UAI2.clientId}`);
    // Refused by the shim itself: never reaches IMDS, not counted.
    await call(vm1.url, `/oauth2/token?${ARM_QUERY}`, { bare: true });
    await call(vm2.url, `/oauth2/token?${ARM_QUERY}&client_id=${UAI2.clientId}`);
    await call(vm2.url, `/oauth2/token?${ARM_QUERY}&client_id=${UAI3.clientId}`);
    // Direct IMDS calls count only with the shim's mark, and for the VM of the socket.
    await imds(h.server.url, `/metadata/identity/oauth2/token?api-version=2018-02-01&${ARM_QUERY}`);
    await imds(
      h.server.url,
      `/metadata/identity/oauth2/token?api-version=2018-02-01&${ARM_QUERY}`,
      { from: '127.0.0.3', headers: { 'X-Tessera-Legacy-Extension': '1' } },
    );
    expect(await legacyCount(metrics, VM1.id)).toBe(before.vm1 + 3);
    expect(await legacyCount(metrics, VM2.id)).toBe(before.vm2 + 2);
    expect(await legacyCount(metrics, VM3.id)).toBe(before.vm3 + 1);
  });

  it('never logs a token', () => {
    expect(JSON.stringify([...log.warns, ...log.errors])).not.toContain('eyJ');
  });
});

describe('tessera extension: forwarding and failures', () => {
  let upstream: Server;
  let upstreamUrl: string;
  const seen: { url: string; headers: IncomingHttpHeaders; address: string }[] = [];
  /** What the recording IMDS answers next. */
  let reply: { status: number; body: string } = { status: 200, body: '' };

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      seen.push({
        url: req.url ?? '',
        headers: req.headers,
        address: req.socket.remoteAddress ?? '',
      });
      res.writeHead(reply.status, { 'Content-Type': 'application/json' }).end(reply.body);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${String((upstream.address() as AddressInfo).port)}`;
  });
  afterAll(async () => {
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('sends one IMDS request per call, with api-version, Metadata and the legacy mark only', async () => {
    reply = {
      status: 200,
      // IMDS numbers may come as JSON numbers from an older IMDS: the shim still sends strings.
      body: '{"access_token":"abc","client_id":"c","expires_in":3599,"expires_on":1506484173,"ext_expires_in":"86399","not_before":"1506480273","resource":"https://x/","token_type":"Bearer"}',
    };
    const shim = await createExtensionShim({
      imdsUrl: `${upstreamUrl}/prefix/`,
      port: 0,
      localAddress: '127.0.0.5',
    });
    try {
      seen.length = 0;
      const path =
        '/oauth2/token?resource=https%3A%2F%2Fx%2F&client_id=a+b&api-version=2099-01-01&authority=z';
      const first = await call(shim.url, path, {
        headers: { 'X-Forwarded-For': '10.9.9.9', 'User-Agent': 'old-script/1.0' },
      });
      const second = await call(shim.url, path);
      expect(first.status).toBe(200);
      expect(first.text).toBe(
        '{"access_token":"abc","refresh_token":"","expires_in":"3599","expires_on":"1506484173","not_before":"1506480273","resource":"https://x/","token_type":"Bearer"}',
      );
      expect(second.text).toBe(first.text);
      expect(seen).toHaveLength(2);
      const [forwarded] = seen;
      expect(forwarded?.url).toBe(
        '/prefix/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fx%2F&client_id=a%20b',
      );
      expect(forwarded?.address).toBe('127.0.0.5');
      expect(forwarded?.headers.metadata).toBe('true');
      expect(forwarded?.headers['x-tessera-legacy-extension']).toBe('1');
      expect(forwarded?.headers['x-forwarded-for']).toBeUndefined();
      expect(forwarded?.headers['user-agent']).toBe('tessera-extension');
    } finally {
      await shim.close();
    }
  });

  it("turns an answer that is not IMDS's into unknown, keeping the status", async () => {
    const shim = await createExtensionShim({ imdsUrl: upstreamUrl, port: 0 });
    try {
      reply = { status: 502, body: '<html>bad gateway</html>' };
      const gateway = await call(shim.url, `/oauth2/token?${ARM_QUERY}`);
      expect(gateway.status).toBe(502);
      expect(JSON.parse(gateway.text)).toMatchObject({ error: 'unknown' });
      reply = { status: 200, body: '{"error":"no token here"}' };
      const noToken = await call(shim.url, `/oauth2/token?${ARM_QUERY}`);
      expect(noToken.status).toBe(500);
      expect(JSON.parse(noToken.text)).toMatchObject({ error: 'unknown' });
    } finally {
      await shim.close();
    }
  });

  it('answers 500 unknown when IMDS cannot be reached, and logs it', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const log = captureLog();
    const shim = await createExtensionShim({
      imdsUrl: `http://127.0.0.1:${String(port)}`,
      port: 0,
      logger: log.logger,
    });
    try {
      const answer = await call(shim.url, `/oauth2/token?${ARM_QUERY}`);
      expect(answer.status).toBe(500);
      const body = JSON.parse(answer.text) as Record<string, string>;
      expect(body.error).toBe('unknown');
      expect(body.error_description).toMatch(
        /^Failed to retrieve token from the Active directory\./,
      );
      expect(log.errors).toHaveLength(1);
      expect(log.errors[0]?.msg).toContain('IMDS unreachable');
    } finally {
      await shim.close();
    }
  });

  it('warns once per caller (address and User-Agent) per hour', async () => {
    reply = {
      status: 200,
      body: '{"access_token":"eyJhbGciOiJub25lIn0.e30.","expires_in":"10","expires_on":"20","not_before":"10","resource":"r","token_type":"Bearer"}',
    };
    const clock = new ManualClock(1_000_000);
    const log = captureLog();
    const shim = await createExtensionShim({
      imdsUrl: upstreamUrl,
      port: 0,
      logger: log.logger,
      clock,
    });
    try {
      const as = (userAgent: string): Promise<Answer> =>
        call(shim.url, '/oauth2/token?resource=r', { headers: { 'User-Agent': userAgent } });
      await as('script-a');
      await as('script-a');
      expect(log.warns).toHaveLength(1);
      expect(log.warns[0]).toMatchObject({ caller: '127.0.0.1', userAgent: 'script-a' });
      expect(log.warns[0]?.msg).toContain('169.254.169.254/metadata/identity/oauth2/token');
      await as('script-b');
      expect(log.warns).toHaveLength(2);
      clock.ms += 59 * 60_000;
      await as('script-a');
      expect(log.warns).toHaveLength(2);
      clock.ms += 2 * 60_000;
      await as('script-a');
      expect(log.warns).toHaveLength(3);
      expect(JSON.stringify(log.warns)).not.toContain('eyJ');
    } finally {
      await shim.close();
    }
  });

  it('refuses to start on a non-http IMDS URL', async () => {
    await expect(
      createExtensionShim({ imdsUrl: 'https://169.254.169.254', port: 0 }),
    ).rejects.toMatchObject({ code: 'ConfigInvalid' });
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address;

  it.skipIf(external === undefined)('refuses callers that are not loopback', async () => {
    const shim = await createExtensionShim({ imdsUrl: upstreamUrl, host: '0.0.0.0', port: 0 });
    try {
      seen.length = 0;
      const port = new URL(shim.url).port;
      const answer = await call(`http://${external ?? ''}:${port}`, `/oauth2/token?${ARM_QUERY}`, {
        from: external ?? '',
      });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.text)).toEqual({
        error: 'unauthorized_client',
        error_description:
          'The client is not authorized to request an access token using this method.',
      });
      expect(seen).toHaveLength(0);
    } finally {
      await shim.close();
    }
  });
});
