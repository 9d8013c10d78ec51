// What the IMDS-vs-bare benchmarks share: a bare `node:http` server (imds-bare.ts) sending the bytes
// IMDS sent for a request, checked to match, and full-load runs of autocannon against both,
// interleaved. See imds.bench.ts for the process layout and why.
import autocannon from 'autocannon';
import { type Measurement, median, percentile, repetitionsFor } from './harness.js';
import { type Child, cpuSeconds, httpGet, spawnChild, stopChild } from './imds-fixture.js';

export const CONNECTIONS = 32;
export const REQUEST_HEADERS = { Metadata: 'true' };
/** Headers Node's `http` server adds on its own, to both servers alike. */
const ADDED_BY_NODE = new Set(['date', 'connection', 'keep-alive']);

export interface FullLoad extends Measurement {
  /** Share of one core the server process used during the run. */
  readonly serverCpu: number | undefined;
  /** Share of one core this process (the load generator) used. */
  readonly generatorCpu: number;
  /** Server CPU time per answer, microseconds. */
  readonly cpuPerAnswerUs: number | undefined;
}

/**
 * `seconds` of autocannon at {@link CONNECTIONS} keep-alive connections against `url` + `path`
 * (or, with `paths`, each request the next of them in turn). Every answer must be a 2xx.
 */
export async function fullLoad(
  url: string,
  path: string | readonly string[],
  pid: number | undefined,
  seconds: number,
  request: Request = {},
): Promise<FullLoad> {
  const latencies: number[] = [];
  const cpuBefore = cpuSeconds(pid);
  const generatorBefore = process.cpuUsage();
  const started = performance.now();
  const paths = typeof path === 'string' ? [path] : path;
  let next = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}${paths[0] ?? ''}`,
        connections: CONNECTIONS,
        duration: seconds,
        method: request.method ?? 'GET',
        headers: request.headers ?? REQUEST_HEADERS,
        ...(request.body === undefined ? {} : { body: request.body }),
        ...(paths.length > 1
          ? {
              requests: [
                {
                  setupRequest: (request) => ({
                    ...request,
                    path: paths[next++ % paths.length] ?? '',
                  }),
                },
              ],
            }
          : {}),
      },
      (error: unknown, done) => {
        if (error === null || error === undefined) resolve(done);
        else reject(error instanceof Error ? error : new Error('autocannon failed'));
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
    });
  });
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = cpuSeconds(pid);
  const generator = process.cpuUsage(generatorBefore);
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `imds bench: ${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  latencies.sort((a, b) => a - b);
  const serverCpuSeconds =
    cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  return {
    opsPerSec: result['2xx'] / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    serverCpu: serverCpuSeconds === undefined ? undefined : serverCpuSeconds / elapsed,
    generatorCpu: (generator.user + generator.system) / 1e6 / elapsed,
    cpuPerAnswerUs:
      serverCpuSeconds === undefined ? undefined : (serverCpuSeconds * 1e6) / result['2xx'],
  };
}

/** Header names in order, each with its value except `Date`. */
const shape = (rawHeaders: readonly string[]): string =>
  rawHeaders
    .map((item, i) => (i % 2 === 1 && rawHeaders[i - 1]?.toLowerCase() === 'date' ? '' : item))
    .join('\n');

/** A bare server answering like IMDS answers `path` now (asked twice: the first may warm a cache). */
export async function startBareLike(
  imdsUrl: string,
  path: string,
): Promise<{ child: Child; url: string; bytes: number }> {
  await httpGet(`${imdsUrl}${path}`, REQUEST_HEADERS);
  const answer = await httpGet(`${imdsUrl}${path}`, REQUEST_HEADERS);
  if (answer.status !== 200) throw new Error(`imds bench: IMDS answered ${answer.status}`);
  const headers: string[] = [];
  for (let i = 0; i < answer.rawHeaders.length; i += 2) {
    const name = answer.rawHeaders[i] ?? '';
    if (!ADDED_BY_NODE.has(name.toLowerCase())) headers.push(name, answer.rawHeaders[i + 1] ?? '');
  }
  const started = await spawnChild('imds-bare.ts', [
    JSON.stringify({ status: answer.status, headers, body: answer.body }),
  ]);
  const url = (started.info as { url: string }).url;
  const fromImds = await httpGet(`${imdsUrl}${path}`, REQUEST_HEADERS);
  const fromBare = await httpGet(`${url}${path}`, REQUEST_HEADERS);
  if (
    shape(fromImds.rawHeaders) !== shape(fromBare.rawHeaders) ||
    fromImds.body.length !== fromBare.body.length ||
    fromImds.status !== fromBare.status
  ) {
    await stopChild(started.child);
    throw new Error('imds bench: the bare server does not answer like IMDS');
  }
  return { child: started.child, url, bytes: answer.body.length };
}

/** What a load sends besides its path: GET with `Metadata: true` unless given. */
export interface Request {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** One side of an interleaved comparison. */
export interface Side {
  readonly name: string;
  readonly url: string;
  readonly path: string | readonly string[];
  readonly pid: number | undefined;
  readonly request?: Request;
}

/**
 * A warm-up of each side, then `repetitions` full-load runs of each, interleaved (the first side
 * first in even repetitions); returns every run by side name and each side's median run.
 */
export async function interleavedFullLoads(
  sides: readonly [Side, Side],
  options: { smoke: boolean; seconds?: number },
): Promise<{ runs: Map<string, FullLoad[]>; medians: Map<string, FullLoad>; seconds: number }> {
  const seconds = options.smoke ? 1 : (options.seconds ?? 5);
  const repetitions = repetitionsFor(options);
  if (!options.smoke) {
    for (const side of sides) await fullLoad(side.url, side.path, side.pid, 2, side.request);
  }
  const runs = new Map<string, FullLoad[]>(sides.map((s) => [s.name, []]));
  for (let r = 0; r < repetitions; r++) {
    for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
      runs
        .get(side.name)
        ?.push(await fullLoad(side.url, side.path, side.pid, seconds, side.request));
    }
  }
  const medians = new Map(
    [...runs].map(([name, list]) => [name, median(list, (m) => m.opsPerSec)]),
  );
  return { runs, medians, seconds };
}

export const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined ? 'n/a' : n.toFixed(digits);
export const pct = (n: number | undefined): string =>
  n === undefined ? 'n/a' : `${fmt(n * 100)}%`;
/** Each repetition's answers per second and server CPU per answer, in the order they ran. */
export const describeRuns = (loads: readonly FullLoad[] | undefined): string =>
  (loads ?? []).map((l) => `${fmt(l.opsPerSec)}/s ${fmt(l.cpuPerAnswerUs, 1)} us`).join(', ');
