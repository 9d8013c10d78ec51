// The agent API client over several replicas: preference, failover on each kind of failure, back-off, return, re-signing.
import { generateKeyPairSync } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { decodeJwt } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '../core/keys/x509.js';
import { silentLogger } from '../../test/agent/agent-fixtures.js';
import { createManualClock, type ManualClock } from './clock.js';
import type { ReplicaEvent } from './replica-set.js';
import { createServerClient, type HostCredentials, type ServerClient } from './server-client.js';
import { createVmMap } from './vm-map.js';

/** One request a fake replica received. */
interface Seen {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** How a fake replica treats a request: answer, hold it, or drop the connection. */
type Behaviour = (seen: Seen, res: ServerResponse) => void;

/** A replica of the server on 127.0.0.1 that can be killed and restarted on its port. */
interface FakeReplica {
  readonly url: string;
  readonly seen: Seen[];
  behave: Behaviour;
  /** Destroys every connection (as SIGKILL would) and stops listening. */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
}

const TOKEN = { accessToken: 'at', clientId: 'c', resource: 'r', expiresOn: 2, notBefore: 1 };
const tokenFrom = (name: string) => ({ ...TOKEN, accessToken: name });
const REQUEST = { vmId: '/vm', clientId: 'x', resource: 'r' };

const answer =
  (status: number, body: unknown): Behaviour =>
  (_seen, res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
const hold: Behaviour = () => undefined;

const replicas: FakeReplica[] = [];
const clients: ServerClient[] = [];
let host: HostCredentials;

async function startReplica(name: string): Promise<FakeReplica> {
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;
  const fake: FakeReplica = {
    url: '',
    seen: [],
    behave: answer(200, tokenFrom(name)),
    kill: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
    restart: () => listen(),
  };
  const listen = async (): Promise<void> => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen = {
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        };
        fake.seen.push(seen);
        fake.behave(seen, res);
      });
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  await listen();
  Object.assign(fake, { url: `http://127.0.0.1:${port}` });
  replicas.push(fake);
  return fake;
}

/** A client of `urls` with a jitter-free back-off (2 s, 4 s, ... up to 30 s) and its events. */
function clientOf(urls: readonly string[], clock: ManualClock, timeoutMs = 1_000) {
  const events: ReplicaEvent[] = [];
  const client = createServerClient({
    serverUrl: urls,
    clock,
    timeoutMs,
    random: () => 0.5,
    onReplica: (event) => events.push(event),
  });
  client.useHost(host);
  clients.push(client);
  return { client, events };
}

/** Waits (in real time) until `replica` has received `count` requests. */
async function received(replica: FakeReplica, count: number): Promise<void> {
  while (replica.seen.length < count) await new Promise((resolve) => setTimeout(resolve, 2));
}

const audienceOf = (seen: Seen | undefined): unknown =>
  decodeJwt((seen?.headers.authorization ?? '').replace(/^TesseraHost /, '')).aud;

beforeAll(async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
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
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(replicas.splice(0).map((r) => r.kill().catch(() => undefined)));
});

describe('server client over several replicas', () => {
  it('sends everything to the first replica while it answers, each call signed for it', async () => {
    const [a, b] = [await startReplica('a'), await startReplica('b')];
    const { client, events } = clientOf([`${a.url}/`, b.url], createManualClock());
    expect(client.serverUrls).toEqual([a.url, b.url]);
    expect(await client.token(REQUEST)).toEqual(tokenFrom('a'));
    expect(await client.token(REQUEST)).toEqual(tokenFrom('a'));
    expect(a.seen).toHaveLength(2);
    expect(b.seen).toHaveLength(0);
    expect(audienceOf(a.seen[0])).toBe(`${a.url}/agent/v1`);
    expect(client.replicas.current().url).toBe(a.url);
    expect(events).toEqual([]);
  });

  it('moves on at once from a refused connection, skips that replica while it backs off, and comes back after', async () => {
    const [a, b] = [await startReplica('a'), await startReplica('b')];
    const clock = createManualClock();
    const { client, events } = clientOf([a.url, b.url], clock);
    await a.kill();
    expect(await client.token(REQUEST)).toEqual(tokenFrom('b'));
    expect(events.map((e) => e.kind)).toEqual(['down', 'moved']);
    expect(events[0]).toMatchObject({ replica: { url: a.url }, retryInMs: 2_000 });
    expect(events[0]?.kind === 'down' && events[0].reason).toContain('ECONNREFUSED');
    expect(audienceOf(b.seen[0])).toBe(`${b.url}/agent/v1`);

    // Within the back-off A is not tried at all.
    await a.restart();
    await clock.advance(1_999);
    expect(await client.token(REQUEST)).toEqual(tokenFrom('b'));
    expect(a.seen).toHaveLength(0);
    expect(client.replicas.states().map((s) => [s.live, s.current])).toEqual([
      [false, false],
      [true, true],
    ]);

    // After it, A is preferred again and answers.
    await clock.advance(1);
    expect(await client.token(REQUEST)).toEqual(tokenFrom('a'));
    expect(events.slice(2).map((e) => e.kind)).toEqual(['up', 'moved']);
    expect(client.replicas.current().url).toBe(a.url);
  });

  it('backs a replica that keeps failing off for longer each time, and forgets after it answers', async () => {
    const [a, b] = [await startReplica('a'), await startReplica('b')];
    const clock = createManualClock();
    const { client, events } = clientOf([a.url, b.url], clock);
    a.behave = answer(503, { error: { code: 'ServiceUnavailable', message: 'starting' } });
    const downs = (): number[] =>
      events.flatMap((e) => (e.kind === 'down' && e.replica.url === a.url ? [e.retryInMs] : []));
    for (const wait of [0, 2_000, 4_000, 8_000, 16_000, 30_000]) {
      await clock.advance(wait);
      expect(await client.token(REQUEST)).toEqual(tokenFrom('b'));
    }
    expect(downs()).toEqual([2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    a.behave = answer(200, tokenFrom('a'));
    await clock.advance(30_000);
    expect(await client.token(REQUEST)).toEqual(tokenFrom('a'));
    a.behave = answer(502, {});
    expect(await client.token(REQUEST)).toEqual(tokenFrom('b'));
    expect(downs().at(-1)).toBe(2_000);
  });

  it('counts calls that fail together as one failure', async () => {
    const [a, b] = [await startReplica('a'), await startReplica('b')];
    const { client, events } = clientOf([a.url, b.url], createManualClock());
    a.behave = answer(503, {});
    const answers = await Promise.all([1, 2, 3].map(() => client.token(REQUEST)));
    expect(answers).toEqual([1, 2, 3].map(() => tokenFrom('b')));
    expect(a.seen).toHaveLength(3);
    const downs = events.flatMap((e) => (e.kind === 'down' ? [[e.replica.url, e.retryInMs]] : []));
    expect(downs).toEqual([[a.url, 2_000]]);
  });

  it('still asks a single server (a load balancer) on every call while it fails, as before', async () => {
    const a = await startReplica('a');
    const { client } = clientOf([a.url], createManualClock());
    a.behave = answer(503, {});
    await expect(client.token(REQUEST)).rejects.toMatchObject({ status: 503 });
    a.behave = answer(200, tokenFrom('a'));
    expect(await client.token(REQUEST)).toEqual(tokenFrom('a'));
    expect(a.seen).toHaveLength(2);
  });

  it("retries a token on another replica after a 502, 503 or 504 or a reset, with that replica's host assertion", async () => {
    const [a, b] = [await startReplica('a'), await startReplica('b')];
    const clock = createManualClock();
    const { client } = clientOf([a.url, b.url], clock);
    for (const status of [502, 503, 504]) {
      a.behave = answer(status, {});
      expect(await client.token(REQUEST)).toEqual(tokenFrom('b'));
      const [atA, atB] = [a.seen.at(-1), b.seen.at(-1)];
      expect(JSON.parse(atA?.body ?? '')).toEqual(REQUEST);
      expect(JSON.parse(atB?.body ?? '')).toEqual(REQUEST);
      expect(audienceOf(atA)).toBe(`${a.url}/agent/v1`);
      expect(audienceOf(atB)).toBe(`${b.url}/agent/v1`);
      await clock.advance(60_000);
    }
    // The connection reset before any answer (a replica killed while the request arrived).
    a.behave = (_seen, res) => res.socket?.destroy();
    expect(await client.token(REQUEST)).toEqual(tokenFrom('b'));
  });

  it('does not send a token mint elsewhere when the first replica may have made it; the next call moves', async () => {
    const [a, b] = [await startReplica('a'), await startReplica('b')];
    const clock = createManualClock();
    const { client } = clientOf([a.url, b.url], clock, 1_000);
    // An answer cut off midway: A did the work.
    a.behave = (_seen, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"accessToken"');
      setImmediate(() => res.socket?.destroy());
    };
    await expect(client.token(REQUEST)).rejects.toMatchObject({ code: 'ServiceUnavailable' });
    expect(b.seen).toHaveLength(0);
    expect(await client.token(REQUEST)).toEqual(tokenFrom('b'));

    // No answer in time: A is dead, the mint is not repeated at B.
    await clock.advance(60_000);
    a.behave = hold;
    const before = a.seen.length;
    const held = client.token(REQUEST);
    held.catch(() => undefined);
    await received(a, before + 1);
    await clock.advance(1_000);
    await expect(held).rejects.toMatchObject({ code: 'ServiceUnavailable', status: 503 });
    expect(b.seen).toHaveLength(1);
    expect(client.replicas.states()[0]?.live).toBe(false);
  });

  it('moves a long-poll that timed out to the next replica within the same call', async () => {
    const [a, b] = [await startReplica('a'), await startReplica('b')];
    const clock = createManualClock();
    const { client } = clientOf([a.url, b.url], clock, 1_000);
    const sync = { position: 4, full: true, vms: [], removed: [] };
    a.behave = hold;
    b.behave = answer(200, sync);
    const poll = client.syncVms(3, 5);
    await received(a, 1);
    await clock.advance(6_000);
    expect(await poll).toEqual(sync);
    expect(b.seen[0]?.url).toBe('/agent/v1/vms?after=3&wait=5');
  });

  it('keeps the answers of the replica that refused: a 4xx or a 500 is not a dead replica', async () => {
    const [a, b] = [await startReplica('a'), await startReplica('b')];
    const { client, events } = clientOf([a.url, b.url], createManualClock());
    a.behave = answer(403, { error: { code: 'AuthorizationFailed', message: 'not yours' } });
    await expect(client.token(REQUEST)).rejects.toMatchObject({ status: 403 });
    a.behave = answer(500, { error: { code: 'Internal', message: 'bug' } });
    await expect(client.token(REQUEST)).rejects.toMatchObject({ code: 'ServiceUnavailable' });
    expect(b.seen).toHaveLength(0);
    expect(events).toEqual([]);
  });

  it('tries every replica, soonest back first, when all are backed off', async () => {
    const [a, b] = [await startReplica('a'), await startReplica('b')];
    const clock = createManualClock();
    const { client } = clientOf([a.url, b.url], clock);
    a.behave = answer(503, {});
    b.behave = answer(503, {});
    await expect(client.token(REQUEST)).rejects.toMatchObject({ code: 'ServiceUnavailable' });
    expect([a.seen.length, b.seen.length]).toEqual([1, 1]);
    b.behave = answer(200, tokenFrom('b'));
    await clock.advance(500);
    expect(await client.token(REQUEST)).toEqual(tokenFrom('b'));
    expect([a.seen.length, b.seen.length]).toEqual([2, 2]);
  });

  it('moves the VM sync to the next replica within moments when the one it polls is killed', async () => {
    const [a, b] = [await startReplica('a'), await startReplica('b')];
    const clock = createManualClock();
    const { client, events } = clientOf([a.url, b.url], clock, 15_000);
    const vm = {
      id: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1',
      vmId: 'v',
      name: 'vm1',
      subscriptionId: 's',
      resourceGroup: 'g',
      addresses: ['10.0.0.4'],
      identities: [],
    };
    a.behave = (seen, res) => {
      if (seen.url.includes('wait=0'))
        answer(200, { position: 1, full: true, vms: [], removed: [] })(seen, res);
    };
    b.behave = answer(200, { position: 2, full: false, vms: [vm], removed: [] });
    const map = createVmMap({ client, clock, logger: silentLogger(), waitSeconds: 30 });
    map.start();
    try {
      await map.synced();
      await received(a, 2);
      expect(a.seen[1]?.url).toBe('/agent/v1/vms?after=1&wait=30');
      await a.kill();
      const started = Date.now();
      while (map.byId(vm.id) === undefined) {
        if (Date.now() - started > 2_000) throw new Error('the sync did not move to B');
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      expect(b.seen[0]?.url).toBe('/agent/v1/vms?after=1&wait=30');
      expect(map.connected).toBe(true);
      expect(events.map((e) => e.kind)).toEqual(['down', 'moved']);
    } finally {
      await map.stop();
    }
  });
});
