// The HTTP transport against a real local server: kept-alive connections, stale ones, aborts, deadlines, the body cap.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, LookupFunction, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientError } from './errors.js';
import { createHttp, type Http, type SetTimer } from './http.js';

let server: Server;
let base: string;
/** Connections the server accepted, and every request it read (method and path). */
let connections = 0;
let seen: { method: string; path: string; host: string | undefined; body: string }[] = [];
/** When set, the server drops a kept-alive connection as its next request arrives. */
let dropReused = false;
/** When set, the server drops the next request whatever its connection. */
let dropNext = false;
const requestsOn = new WeakMap<Socket, number>();
const held: ServerResponse[] = [];

function answer(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const size = Number(url.searchParams.get('n') ?? '0');
  switch (url.pathname) {
    case '/hold':
      held.push(res);
      return;
    case '/big':
      res.writeHead(200, { 'content-type': 'text/plain' });
      // Two writes without a length: the cap must count the chunks.
      res.write('x'.repeat(size / 2));
      res.end('x'.repeat(size / 2));
      return;
    case '/declared':
      res.writeHead(200, { 'content-length': size });
      res.end('x'.repeat(size));
      return;
    case '/cut':
      res.writeHead(200, { 'content-length': 100 });
      res.write('x'.repeat(10), () => res.socket?.destroy());
      return;
    default:
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: url.pathname, body }));
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const socket = req.socket;
    const count = (requestsOn.get(socket) ?? 0) + 1;
    requestsOn.set(socket, count);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', path: req.url ?? '', host: req.headers.host, body });
      if ((dropReused && count > 1) || dropNext) {
        dropReused = false;
        dropNext = false;
        socket.destroy();
        return;
      }
      answer(req, res, body);
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let http: Http | undefined;
const open = (options: Parameters<typeof createHttp>[0] = {}): Http => {
  http = createHttp(options);
  return http;
};

afterEach(() => {
  http?.close();
  http = undefined;
  for (const res of held.splice(0)) res.destroy();
  connections = 0;
  seen = [];
  dropReused = false;
  dropNext = false;
});

/** A timer the test fires by hand, standing in for an agent's clock. */
function manualTimer(): { setTimer: SetTimer; fire(): void } {
  const due = new Set<() => void>();
  return {
    setTimer(callback) {
      due.add(callback);
      return () => due.delete(callback);
    },
    fire() {
      for (const callback of [...due]) {
        due.delete(callback);
        callback();
      }
    },
  };
}

/** Resolves once the server has read `count` requests. */
async function served(count: number): Promise<void> {
  while (seen.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('createHttp', () => {
  it('keeps one connection open across requests, and opens a new one after close()', async () => {
    const send = open();
    for (const path of ['/a', '/b', '/c']) {
      const res = await send({ method: 'GET', url: `${base}${path}` });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ path });
    }
    expect(connections).toBe(1);
    send.close();
    await send({ method: 'GET', url: `${base}/d` });
    expect(connections).toBe(2);
  });

  it('sends the body with its length and the Host header it is told to', async () => {
    const send = open();
    const res = await send({
      method: 'POST',
      url: `${base}/p?q=1`,
      host: 'vault-one.vault.localhost:443',
      body: '{"é":1}',
    });
    expect(JSON.parse(res.text)).toEqual({ path: '/p', body: '{"é":1}' });
    expect(seen).toEqual([
      {
        method: 'POST',
        path: '/p?q=1',
        host: 'vault-one.vault.localhost:443',
        body: '{"é":1}',
      },
    ]);
  });

  it('sends a repeatable request again when the server dropped the kept-alive connection', async () => {
    const send = open();
    await send({ method: 'GET', url: `${base}/first` });
    dropReused = true;
    const res = await send({ method: 'GET', url: `${base}/again` });
    expect(res.status).toBe(200);
    expect(seen.map((s) => s.path)).toEqual(['/first', '/again', '/again']);
    expect(connections).toBe(2);

    dropReused = true;
    await send({ method: 'POST', url: `${base}/token`, body: '{}', repeatable: true });
    expect(seen.map((s) => s.path).slice(3)).toEqual(['/token', '/token']);
  });

  it('does not send a POST twice unless told it may, nor retry on a new connection', async () => {
    const send = open();
    await send({ method: 'GET', url: `${base}/first` });
    dropReused = true;
    await expect(send({ method: 'POST', url: `${base}/once`, body: '{}' })).rejects.toMatchObject({
      code: 'ServiceUnreachable',
      message: `cannot reach ${base}: ECONNRESET`,
    });
    expect(seen.map((s) => s.path)).toEqual(['/first', '/once']);

    send.close();
    dropNext = true;
    await expect(send({ method: 'GET', url: `${base}/fresh` })).rejects.toMatchObject({
      code: 'ServiceUnreachable',
    });
    expect(seen.map((s) => s.path).slice(2)).toEqual(['/fresh']);
  });

  it('fails with Aborted when the signal fires, before or during the request', async () => {
    const send = open();
    const early = new AbortController();
    early.abort();
    await expect(
      send({ method: 'GET', url: `${base}/never`, signal: early.signal }),
    ).rejects.toMatchObject({ code: 'Aborted' });
    expect(seen).toEqual([]);

    const late = new AbortController();
    const pending = send({ method: 'GET', url: `${base}/hold`, signal: late.signal });
    await served(1);
    late.abort();
    await expect(pending).rejects.toBeInstanceOf(ClientError);
    await expect(pending).rejects.toMatchObject({ code: 'Aborted' });
  });

  it('fails with ServiceUnreachable when the deadline on its timer passes', async () => {
    const timer = manualTimer();
    const send = open({ setTimer: timer.setTimer, timeoutMs: 50 });
    const pending = send({ method: 'GET', url: `${base}/hold` });
    await served(1);
    timer.fire();
    await expect(pending).rejects.toMatchObject({
      code: 'ServiceUnreachable',
      message: `no answer from ${base} within 50 ms`,
    });
    // The per-request deadline wins over the transport's.
    const long = send({ method: 'GET', url: `${base}/hold`, timeoutMs: 70_000 });
    await served(2);
    timer.fire();
    await expect(long).rejects.toThrow('within 70000 ms');
  });

  it('refuses answers over the body cap, counted or declared, and takes one at the cap', async () => {
    const send = open({ maxBodyBytes: 1024 });
    await expect(send({ method: 'GET', url: `${base}/big?n=2048` })).rejects.toMatchObject({
      code: 'ResponseTooLarge',
      message: `the answer from ${base} exceeds 1024 bytes`,
    });
    await expect(send({ method: 'GET', url: `${base}/declared?n=1025` })).rejects.toMatchObject({
      code: 'ResponseTooLarge',
    });
    expect((await send({ method: 'GET', url: `${base}/big?n=1024` })).text).toHaveLength(1024);
  });

  it('takes a body cap per request instead of the transport cap', async () => {
    const send = open({ maxBodyBytes: 1024 });
    expect(
      (await send({ method: 'GET', url: `${base}/big?n=2048`, maxBodyBytes: 2048 })).text,
    ).toHaveLength(2048);
    await expect(
      send({ method: 'GET', url: `${base}/declared?n=600`, maxBodyBytes: 512 }),
    ).rejects.toMatchObject({
      code: 'ResponseTooLarge',
      message: `the answer from ${base} exceeds 512 bytes`,
    });
  });

  it('resolves host names with the lookup it is given, once per new connection', async () => {
    const asked: string[] = [];
    const lookup: LookupFunction = (hostname, options, callback) => {
      asked.push(hostname);
      if (hostname !== 'service.test') {
        callback(new ClientError('ForbiddenAddress', `refused ${hostname}`), '');
      } else if (options.all === true) {
        callback(null, [{ address: '127.0.0.1', family: 4 }]);
      } else {
        callback(null, '127.0.0.1', 4);
      }
    };
    const send = open({ lookup });
    const port = new URL(base).port;
    for (const path of ['/one', '/two']) {
      const res = await send({ method: 'GET', url: `http://service.test:${port}${path}` });
      expect(JSON.parse(res.text)).toMatchObject({ path });
    }
    expect(asked).toEqual(['service.test']);
    expect(seen.map((s) => s.host)).toEqual([`service.test:${port}`, `service.test:${port}`]);
    // The lookup's own error is what the request fails with; nothing reaches the server.
    await expect(
      send({ method: 'GET', url: `http://elsewhere.test:${port}/x` }),
    ).rejects.toMatchObject({ code: 'ForbiddenAddress', message: 'refused elsewhere.test' });
    expect(seen).toHaveLength(2);
  });

  it('names what went wrong: a closed port, a cut answer, a URL of another scheme', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closed = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise((resolve) => probe.close(resolve));
    const send = open();
    await expect(send({ method: 'GET', url: `${closed}/x` })).rejects.toMatchObject({
      code: 'ServiceUnreachable',
      message: `cannot reach ${closed}: ECONNREFUSED`,
    });
    await expect(send({ method: 'GET', url: `${base}/cut` })).rejects.toMatchObject({
      code: 'ServiceUnreachable',
      message: `the connection to ${base} closed mid-answer`,
    });
    for (const url of ['ftp://127.0.0.1/x', 'not a url']) {
      await expect(send({ method: 'GET', url })).rejects.toMatchObject({
        code: 'InvalidServerUrl',
      });
    }
  });
});
