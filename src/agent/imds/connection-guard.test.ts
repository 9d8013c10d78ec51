// IMDS connection limits: the caps, their derivation from the file limit, the rate-limited log, and a real listener.
import { EventEmitter } from 'node:events';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, TestBackend, imds, tokenPath } from '../../../test/agent/imds-harness.js';
import { createAgentMetrics } from '../metrics.js';
import {
  DEFAULT_IMDS_CONNECTION_LIMITS,
  REFUSAL_LOG_INTERVAL_MS,
  createConnectionCounter,
  createRefusalNotices,
  guardConnections,
  resolveImdsConnectionLimits,
  type ImdsConnectionLimits,
} from './connection-guard.js';
import { createImdsServer, type ImdsServer } from './server.js';
import { AZURE_IMDS_RATE_LIMIT } from './throttle.js';

describe('resolveImdsConnectionLimits', () => {
  it('derives the process-wide cap from half the open-file limit after the reserve', () => {
    // 20,000 files: a fifth (4,000) reserved, half of the rest for IMDS.
    expect(resolveImdsConnectionLimits(DEFAULT_IMDS_CONNECTION_LIMITS, () => 20_000).max).toBe(
      8_000,
    );
    // 1,024 files: 256 reserved.
    expect(resolveImdsConnectionLimits(DEFAULT_IMDS_CONNECTION_LIMITS, () => 1_024).max).toBe(384);
    expect(resolveImdsConnectionLimits(DEFAULT_IMDS_CONNECTION_LIMITS, () => 1_048_576).max).toBe(
      16_384,
    );
  });

  it('keeps a configured cap and refuses one a single address could fill', () => {
    const limits = { ...DEFAULT_IMDS_CONNECTION_LIMITS, max: 500 };
    expect(resolveImdsConnectionLimits(limits, () => 10).max).toBe(500);
    expect(() => resolveImdsConnectionLimits({ ...limits, max: 100 })).toThrow(
      /perAddress \(64\) must be at most half of the IMDS connection cap \(100/,
    );
    expect(() => resolveImdsConnectionLimits(DEFAULT_IMDS_CONNECTION_LIMITS, () => 300)).toThrow(
      /open-file limit \(300; raise it/,
    );
  });
});

describe('createConnectionCounter', () => {
  it('admits up to the cap per address, and again once one closes', () => {
    const counter = createConnectionCounter(2);
    expect([counter.admit('a'), counter.admit('a'), counter.admit('a')]).toEqual([
      true,
      true,
      false,
    ]);
    expect(counter.admit('b')).toBe(true);
    counter.release('a');
    expect(counter.openFrom('a')).toBe(1);
    expect(counter.admit('a')).toBe(true);
    counter.release('a');
    counter.release('a');
    counter.release('b');
    counter.release('b');
    expect([counter.openFrom('a'), counter.openFrom('b'), counter.addresses]).toEqual([0, 0, 0]);
  });
});

describe('createRefusalNotices', () => {
  it('says so once a minute per key, with the refusals since the last line', () => {
    const clock = new ManualClock(0);
    const notices = createRefusalNotices(clock);
    expect(notices.record('127.0.0.2')).toBe(1);
    expect(notices.record('127.0.0.2')).toBe(0);
    expect(notices.record('127.0.0.3')).toBe(1);
    clock.ms += REFUSAL_LOG_INTERVAL_MS - 1;
    expect(notices.record('127.0.0.2')).toBe(0);
    clock.ms += 1;
    // Three since the first line: two held back and this one.
    expect(notices.record('127.0.0.2')).toBe(3);
    expect(notices.record('127.0.0.2')).toBe(0);
  });

  it('forgets the oldest addresses past about a thousand, at the cost of a line each', () => {
    const clock = new ManualClock(0);
    const notices = createRefusalNotices(clock);
    const address = (i: number): string => `10.0.${String(i >> 8)}.${String(i & 255)}`;
    for (let i = 0; i < 5_000; i++) expect(notices.record(address(i))).toBe(1);
    // The latest are still remembered within the minute; the first was forgotten.
    expect(notices.record(address(4_999))).toBe(0);
    expect(notices.record(address(0))).toBe(1);
  });
});

/** A stand-in for an accepted socket: a remote address and a destroy that closes it. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  constructor(readonly remoteAddress: string | undefined) {
    super();
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.emit('close');
    }
    return this;
  }
}

describe('guardConnections', () => {
  it('counts an IPv4-mapped address as the IPv4 one, and logs a refusal once a minute', () => {
    const server = createNetServer();
    const clock = new ManualClock(0);
    const refused: string[] = [];
    const lines: object[] = [];
    guardConnections(server, {
      perAddress: 1,
      max: 10,
      clock,
      onRefused: (reason) => refused.push(reason),
      logger: { warn: (details) => lines.push(details) },
    });
    expect(server.maxConnections).toBe(10);
    const first = new FakeSocket('127.0.0.2');
    const mapped = new FakeSocket('::FFFF:127.0.0.2');
    const other = new FakeSocket('::ffff:127.0.0.3');
    for (const s of [first, mapped, other]) server.emit('connection', s as unknown as Socket);
    expect([first.destroyed, mapped.destroyed, other.destroyed]).toEqual([false, true, false]);
    server.emit('connection', new FakeSocket('127.0.0.2') as unknown as Socket);
    expect(refused).toEqual(['address', 'address']);
    expect(lines).toEqual([{ caller: '127.0.0.2', refused: 1, perAddress: 1 }]);
    // Once the first closes, the address may connect again.
    first.destroy();
    const again = new FakeSocket('127.0.0.2');
    server.emit('connection', again as unknown as Socket);
    expect(again.destroyed).toBe(false);
    // Refusals at the process-wide cap are counted and logged apart.
    server.emit('drop', { remoteAddress: '::ffff:127.0.0.4' });
    server.emit('drop', { remoteAddress: '127.0.0.4' });
    expect(refused).toEqual(['address', 'address', 'total', 'total']);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toEqual({ caller: '127.0.0.4', refused: 1, max: 10 });
  });
});

/** A raw connection from `from`: what it was sent back, and whether it closed. */
interface Raw {
  readonly socket: Socket;
  received: string;
  closed: boolean;
  readonly ready: Promise<void>;
  readonly done: Promise<void>;
}

function raw(url: string, from: string, send?: string): Raw {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port), localAddress: from });
  const state: Raw = {
    socket,
    received: '',
    closed: false,
    ready: new Promise((resolve) => {
      socket.once('connect', () => {
        resolve();
      });
    }),
    done: new Promise((resolve) => {
      socket.once('close', () => {
        resolve();
      });
    }),
  };
  socket.on('connect', () => {
    if (send !== undefined) socket.write(send);
  });
  socket.on('data', (chunk: Buffer) => (state.received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => (state.closed = true));
  return state;
}

const PARTIAL = `GET ${tokenPath()} HTTP/1.1\r\nHost: imds\r\nMetadata: true\r\n`;

describe('createImdsServer connection limits (real sockets)', () => {
  let server: ImdsServer | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await server?.close();
    server = undefined;
  });

  const start = async (connections: Partial<ImdsConnectionLimits>, backend = new TestBackend()) => {
    const metrics = createAgentMetrics({ defaultMetrics: false });
    server = await createImdsServer({
      backend,
      host: '127.0.0.1',
      port: 0,
      rateLimit: { ...AZURE_IMDS_RATE_LIMIT, mode: 'off' },
      connections: { ...DEFAULT_IMDS_CONNECTION_LIMITS, max: 200, ...connections },
      metrics,
    });
    return { url: server.url, metrics };
  };

  const open = async (url: string, from: string, n: number, send?: string): Promise<Raw[]> => {
    const made = Array.from({ length: n }, () => raw(url, from, send));
    sockets.push(...made.map((m) => m.socket));
    await Promise.all(made.map((m) => m.ready));
    return made;
  };

  it('closes connections over the per-address cap unread while other VMs are served', async () => {
    const { url, metrics } = await start({ perAddress: 3 });
    const held = await open(url, '127.0.0.2', 3, PARTIAL);
    // Give the listener a moment to count them before the next ones arrive.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const over = await open(url, '127.0.0.2', 4, PARTIAL);
    await Promise.all(over.map((o) => o.done));
    expect(over.map((o) => o.received)).toEqual(['', '', '', '']);
    expect(held.map((h) => h.closed)).toEqual([false, false, false]);
    const answer = await imds(url, tokenPath(), { from: '127.0.0.3' });
    expect(answer.status).toBe(200);
    expect(await metrics.render()).toMatch(
      /tessera_agent_imds_connections_refused_total\{reason="address"\} 4/,
    );
    // Closing the held ones frees the address's slots.
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.done));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await imds(url, '/metadata/versions', { from: '127.0.0.2' })).status).toBe(200);
  });

  it('answers 408 and closes a connection that sends nothing or half a request in time', async () => {
    const { url } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const started = Date.now();
    const [silent, partial] = [raw(url, '127.0.0.2'), raw(url, '127.0.0.2', PARTIAL)];
    sockets.push(silent.socket, partial.socket);
    await Promise.all([silent.done, partial.done]);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(silent.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(partial.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('does not cut a complete request whose answer takes longer than the request timeout', async () => {
    const backend = new TestBackend();
    let open_ = (): void => undefined;
    backend.gate = new Promise((resolve) => (open_ = resolve));
    const { url } = await start({ headersTimeoutMs: 200, requestTimeoutMs: 300 }, backend);
    const pending = imds(url, tokenPath(), { from: '127.0.0.3' });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    open_();
    expect((await pending).status).toBe(200);
  });

  it('closes a kept-alive connection idle past the keep-alive timeout', async () => {
    const { url } = await start({ keepAliveTimeoutMs: 200 });
    const request = `GET ${tokenPath()} HTTP/1.1\r\nHost: imds\r\nMetadata: true\r\n\r\n`;
    const [conn] = await open(url, '127.0.0.3', 1, request);
    const answered = Date.now();
    await conn!.done;
    expect(conn!.received).toMatch(/^HTTP\/1\.1 200 /);
    // Node adds about a second to the keep-alive timeout; its default (5 s) would take 6.
    expect(Date.now() - answered).toBeLessThan(4_000);
  });
});
