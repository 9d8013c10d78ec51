// Cached IMDS token answers per second (and p99, at full and at half load) against a bare
// `node:http` server sending the same bytes, measured in the same run.
//
// Setup, on a 2-core machine. Four processes: the Tessera server (a child; idle while the load
// runs, the agent only holds its long-poll open), the host agent serving IMDS (a child, started by
// startAgentRuntime as `tessera agent` does, throttling off, metrics on), the bare server (a
// child started the same way, `node --import tsx`) and this process, which only runs the load
// generator. So the server under load has one core and the load generator the other, and neither
// IMDS nor the bare server shares its event loop with the generator or with each other. Both are
// alive for the whole run and are loaded one at a time, alternately (bare first in even
// repetitions, IMDS first in odd ones), with the same autocannon settings and the very same
// request (path, query, `Metadata: true`): 32 keep-alive connections, one request in flight on
// each, for the same duration. The bare server answers with the status, header list and body of a
// cached IMDS token answer captured at the start (Node adds `Date`, `Connection` and `Keep-Alive`
// to both), checked to match before the load starts.
//
// The IMDS VM is `bench-vm` at 127.0.0.1 (autocannon connects from 127.0.0.1) with a system
// identity; one request warms the token cache before anything is measured, and every answer under
// load must be a 200. Latencies are recorded per response (microsecond resolution, autocannon's
// own histogram keeps whole milliseconds). The CPU each server process used per answer comes from
// /proc, as a check on the ratio: if the load generator, not the server, were the bottleneck, the
// requests-per-second ratio would creep towards 1 while the CPU-per-answer ratio would not.
//
// "p99 under 2 ms at half that load" (DESIGN.md): after the full-load runs both servers get the
// same fixed rate, half of IMDS's measured maximum, from the open-loop generator in
// imds-paced.ts (autocannon's `overallRate` bursts at the start of each second; see there).
import autocannon from 'autocannon';
import { type Benchmark, type Measurement, percentile } from './harness.js';
import {
  type Child,
  cpuSeconds,
  httpGet,
  loadAverage,
  spawnChild,
  startTessera,
  stopChild,
  TOKEN_PATH,
} from './imds-fixture.js';
import { type PacedResult, pacedLoad } from './imds-paced.js';

const CONNECTIONS = 32;
const TARGET_HALF_LOAD_P99_MS = 2;
const REQUEST_HEADERS = { Metadata: 'true' };
/** Headers Node's `http` server adds on its own, to both servers alike. */
const ADDED_BY_NODE = new Set(['date', 'connection', 'keep-alive']);

interface FullLoad extends Measurement {
  /** Share of one core the server process used during the run. */
  readonly serverCpu: number | undefined;
  /** Share of one core this process (the load generator) used. */
  readonly generatorCpu: number;
  /** Server CPU time per answer, microseconds. */
  readonly cpuPerAnswerUs: number | undefined;
}

async function fullLoad(url: string, pid: number | undefined, seconds: number): Promise<FullLoad> {
  const latencies: number[] = [];
  const cpuBefore = cpuSeconds(pid);
  const generatorBefore = process.cpuUsage();
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}${TOKEN_PATH}`,
        connections: CONNECTIONS,
        duration: seconds,
        headers: REQUEST_HEADERS,
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

const median = <T>(runs: readonly T[], key: (run: T) => number): T => {
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (middle === undefined) throw new Error('no run');
  return middle;
};

/** Captures a cached IMDS token answer and returns what the bare server must send. */
async function captureAnswer(imdsUrl: string): Promise<{
  status: number;
  headers: string[];
  body: string;
}> {
  await httpGet(`${imdsUrl}${TOKEN_PATH}`, REQUEST_HEADERS); // warms the cache (a miss: minted)
  const answer = await httpGet(`${imdsUrl}${TOKEN_PATH}`, REQUEST_HEADERS);
  if (answer.status !== 200) throw new Error(`imds bench: IMDS answered ${answer.status}`);
  const headers: string[] = [];
  for (let i = 0; i < answer.rawHeaders.length; i += 2) {
    const name = answer.rawHeaders[i] ?? '';
    if (!ADDED_BY_NODE.has(name.toLowerCase())) headers.push(name, answer.rawHeaders[i + 1] ?? '');
  }
  return { status: answer.status, headers, body: answer.body };
}

/** Header names in order, each with its value except `Date`. */
const shape = (rawHeaders: readonly string[]): string =>
  rawHeaders
    .map((item, i) => (i % 2 === 1 && rawHeaders[i - 1]?.toLowerCase() === 'date' ? '' : item))
    .join('\n');

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined ? 'n/a' : n.toFixed(digits);
const pct = (n: number | undefined): string => (n === undefined ? 'n/a' : `${fmt(n * 100)}%`);
const p99s = (results: readonly PacedResult[]): string =>
  results.map((r) => fmt(r.p99Ms, 3)).join(', ');
/** Each repetition's answers per second and server CPU per answer, in the order they ran. */
const runs = (loads: readonly FullLoad[]): string =>
  loads.map((l) => `${fmt(l.opsPerSec)}/s ${fmt(l.cpuPerAnswerUs, 1)} us`).join(', ');

export const benchmark: Benchmark = {
  name: 'imds: cached token, 32 connections',
  async run(options) {
    const seconds = options.smoke ? 1 : 5;
    const repetitions = options.smoke ? 1 : 3;
    const warmUpSeconds = options.smoke ? 0 : 2;
    const pacedMs = options.smoke ? 500 : 5_000;

    const loadBefore = loadAverage();
    const tessera = await startTessera();
    let bare: Child | undefined;
    try {
      const answer = await captureAnswer(tessera.imdsUrl);
      const started = await spawnChild('imds-bare.ts', [JSON.stringify(answer)]);
      bare = started.child;
      const bareUrl = (started.info as { url: string }).url;
      const fromImds = await httpGet(`${tessera.imdsUrl}${TOKEN_PATH}`, REQUEST_HEADERS);
      const fromBare = await httpGet(`${bareUrl}${TOKEN_PATH}`, REQUEST_HEADERS);
      if (
        shape(fromImds.rawHeaders) !== shape(fromBare.rawHeaders) ||
        fromImds.body.length !== fromBare.body.length ||
        fromImds.status !== fromBare.status
      ) {
        throw new Error('imds bench: the bare server does not answer like IMDS');
      }

      const sides = [
        { name: 'bare', url: bareUrl, pid: bare.pid },
        { name: 'imds', url: tessera.imdsUrl, pid: tessera.agentPid },
      ] as const;
      if (warmUpSeconds > 0) {
        for (const side of sides) await fullLoad(side.url, side.pid, warmUpSeconds);
      }
      const full = { bare: [] as FullLoad[], imds: [] as FullLoad[] };
      for (let r = 0; r < repetitions; r++) {
        for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
          full[side.name].push(await fullLoad(side.url, side.pid, seconds));
        }
      }
      const baseline = median(full.bare, (m) => m.opsPerSec);
      const subject = median(full.imds, (m) => m.opsPerSec);

      const rate = Math.max(1, Math.round(subject.opsPerSec / 2));
      const paced = { bare: [] as PacedResult[], imds: [] as PacedResult[] };
      for (let r = 0; r < repetitions; r++) {
        for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
          const result = await pacedLoad({
            url: side.url,
            path: TOKEN_PATH,
            headers: REQUEST_HEADERS,
            rate,
            durationMs: pacedMs,
            connections: CONNECTIONS,
          });
          if (result.non200 > 0) {
            throw new Error(`imds bench: ${side.name}: ${result.non200} non-200 at a fixed rate`);
          }
          paced[side.name].push(result);
        }
      }
      const halfBare = median(paced.bare, (p) => p.p99Ms);
      const halfImds = median(paced.imds, (p) => p.p99Ms);

      const cpuRatio =
        subject.cpuPerAnswerUs === undefined || baseline.cpuPerAnswerUs === undefined
          ? undefined
          : baseline.cpuPerAnswerUs / subject.cpuPerAnswerUs;
      process.stderr.write(
        `imds: ${answer.body.length}-byte answer, ${CONNECTIONS} connections, ${seconds} s x ${repetitions}: ` +
          `IMDS ${fmt(subject.opsPerSec)}/s (p50 ${fmt(subject.p50Ms, 3)}, p99 ${fmt(subject.p99Ms, 3)} ms; runs ${runs(full.imds)}), ` +
          `bare ${fmt(baseline.opsPerSec)}/s (p50 ${fmt(baseline.p50Ms, 3)}, p99 ${fmt(baseline.p99Ms, 3)} ms; runs ${runs(full.bare)}); ` +
          `server CPU per answer IMDS ${fmt(subject.cpuPerAnswerUs, 1)} us, bare ${fmt(baseline.cpuPerAnswerUs, 1)} us (ratio ${fmt(cpuRatio, 2)}); ` +
          `core busy: IMDS ${pct(subject.serverCpu)}, bare ${pct(baseline.serverCpu)}, load generator ${pct(subject.generatorCpu)} / ${pct(baseline.generatorCpu)}; ` +
          `at ${rate}/s (half of IMDS max), ${pacedMs / 1000} s x ${repetitions}: IMDS p50 ${fmt(halfImds.p50Ms, 3)}, p99 ${fmt(halfImds.p99Ms, 3)}, max ${fmt(halfImds.maxMs, 1)} ms (p99 of each run ${p99s(paced.imds)}), ` +
          `bare p50 ${fmt(halfBare.p50Ms, 3)}, p99 ${fmt(halfBare.p99Ms, 3)} ms (${p99s(paced.bare)}) ` +
          `(DESIGN.md target p99 < ${TARGET_HALF_LOAD_P99_MS} ms: ${halfImds.p99Ms < TARGET_HALF_LOAD_P99_MS ? 'met' : 'MISSED'}); ` +
          `load average ${loadBefore} before, ${loadAverage()} after\n`,
      );
      return {
        name: this.name,
        subject: { opsPerSec: subject.opsPerSec, p50Ms: subject.p50Ms, p99Ms: subject.p99Ms },
        baselineName: 'bare node:http, same bytes',
        baseline: { opsPerSec: baseline.opsPerSec, p50Ms: baseline.p50Ms, p99Ms: baseline.p99Ms },
        targetRatio: 0.85,
        absoluteTargets: [
          {
            name: `p99 at half load (${rate}/s)`,
            valueMs: halfImds.p99Ms,
            belowMs: TARGET_HALF_LOAD_P99_MS,
          },
        ],
      };
    } finally {
      if (bare !== undefined) await stopChild(bare);
      await tessera.close();
    }
  },
};
