// An open-loop load generator at a fixed rate, for "p99 at half load" (DESIGN.md). autocannon's
// `overallRate` is not one: autocannon 8 gives each connection a quota per second and resets it
// from a 1 s setInterval, so every connection sends its quota back to back at the start of each
// second and then idles; its latencies are those of a full-load burst. Here request k is due at
// start + k / rate; the scheduler runs on every event-loop turn (it spins with setImmediate) and
// releases every due request: out at once on an idle keep-alive connection, or into a backlog
// when all are busy, to go out as soon as one frees. Latency counts from the release, so time in
// the backlog counts (no coordinated omission) while the generator's own lateness does not.
// Spinning keeps the generator's core busy, which is the core it has anyway (the server under
// test has the other, see imds.bench.ts). A 1 ms timer instead was tried: it sends rate / 1000
// requests at a time and sleeps in between, and the wake-ups and bursts alone put the p50 of a
// bare server at 10,000/s near 0.5 ms, against 0.04 ms when spinning; for a 2 ms p99 target the
// generator must add far less than that.
import { connect, type Socket } from 'node:net';
import { percentile } from './harness.js';

export interface PacedOptions {
  /** `http://host:port` */
  readonly url: string;
  /** Path and query of the request. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Requests per second. */
  readonly rate: number;
  readonly durationMs: number;
  /** The pool of keep-alive connections (one request in flight on each). */
  readonly connections: number;
}

export interface PacedResult {
  /** Requests completed per second. */
  readonly achievedRate: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Answers whose status was not 200. */
  readonly non200: number;
}

interface Connection {
  readonly socket: Socket;
  /** When the request in flight was released. */
  released: number;
  buffer: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

/** Sends `rate` requests per second for `durationMs`, then waits for the last answers. */
export async function pacedLoad(options: PacedOptions): Promise<PacedResult> {
  const target = new URL(options.url);
  const head = [
    `GET ${options.path} HTTP/1.1`,
    `Host: ${target.host}`,
    ...Object.entries(options.headers).map(([name, value]) => `${name}: ${value}`),
    '',
    '',
  ].join('\r\n');
  const requestBytes = Buffer.from(head, 'latin1');
  const total = Math.max(1, Math.round((options.rate * options.durationMs) / 1000));
  const interval = 1000 / options.rate;
  const latencies = new Float64Array(total);

  const sockets = await Promise.all(
    Array.from(
      { length: options.connections },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(Number(target.port), target.hostname, () => {
            socket.off('error', reject);
            resolve(socket);
          });
          socket.once('error', reject);
          socket.setNoDelay(true);
        }),
    ),
  );

  return new Promise<PacedResult>((resolve, reject) => {
    const idle: Connection[] = [];
    const backlog = new Float64Array(total);
    let backlogHead = 0;
    let backlogTail = 0;
    let scheduled = 0;
    let completed = 0;
    let non200 = 0;
    let failed: Error | undefined;
    let done = false;
    const start = performance.now() + 1;

    const send = (connection: Connection, released: number): void => {
      connection.released = released;
      connection.socket.write(requestBytes);
    };

    const finish = (): void => {
      if (done) return;
      done = true;
      for (const socket of sockets) socket.destroy();
      if (failed !== undefined) {
        reject(failed);
        return;
      }
      const elapsed = performance.now() - start;
      const sorted = latencies.subarray(0, completed).sort();
      resolve({
        achievedRate: completed / (elapsed / 1000),
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted[sorted.length - 1] ?? 0,
        non200,
      });
    };

    /** Parses what has arrived on `connection`; true when one whole answer was consumed. */
    const answered = (connection: Connection): boolean => {
      const { buffer } = connection;
      const end = buffer.indexOf(HEADER_END);
      if (end < 0) return false;
      const headText = buffer.toString('latin1', 0, end);
      const declared = CONTENT_LENGTH.exec(headText)?.[1];
      if (declared === undefined) throw new Error('paced load: an answer without Content-Length');
      const length = Number(declared);
      const size = end + HEADER_END.length + length;
      if (buffer.length < size) return false;
      if (headText.slice(9, 12) !== '200') non200++;
      connection.buffer = buffer.subarray(size);
      return true;
    };

    for (const socket of sockets) {
      const connection: Connection = { socket, released: 0, buffer: Buffer.alloc(0) };
      idle.push(connection);
      socket.on('data', (chunk: Buffer) => {
        connection.buffer =
          connection.buffer.length === 0 ? chunk : Buffer.concat([connection.buffer, chunk]);
        try {
          while (answered(connection)) {
            latencies[completed++] = performance.now() - connection.released;
            if (backlogHead < backlogTail) send(connection, backlog[backlogHead++] ?? 0);
            else idle.push(connection);
            if (completed === total) finish();
          }
        } catch (error) {
          failed ??= error instanceof Error ? error : new Error(String(error));
          finish();
        }
      });
      socket.on('error', (error) => {
        failed ??= error;
      });
      socket.on('close', () => {
        if (completed < total) {
          failed ??= new Error('a connection closed during the paced run');
          finish();
        }
      });
    }

    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - start) / interval) + 1);
      while (scheduled < due) {
        scheduled++;
        const connection = idle.pop();
        if (connection === undefined) backlog[backlogTail++] = now;
        else send(connection, now);
      }
      if (scheduled < total && failed === undefined) setImmediate(tick);
    };
    setTimeout(tick, 1);
  });
}
