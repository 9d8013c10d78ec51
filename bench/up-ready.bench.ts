// `tessera up` from spawn to its ready line, cold (a fresh data dir) and warm: what `npm start` runs, and the old tsx path.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Benchmark, type Measurement, percentile } from './harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What `npm start` runs: the launcher, which rebuilds the bundle only when src/ changed. */
const LAUNCHER = join(ROOT, 'scripts/tessera.js');
const MAIN = join(ROOT, 'src/main.ts');
const WARM_RUNS = 5;
const READY = 'tessera up: ready at';

/** Spawns `node ...args`; resolves with the ms until `ready` appears on stdout (or exit). */
async function timeToReady(args: readonly string[], ready: string | undefined): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_'))),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const elapsed = await new Promise<number>((resolve, reject) => {
    if (ready === undefined) {
      void exited.then(() => {
        resolve(performance.now() - started);
      });
      return;
    }
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.includes(ready)) resolve(performance.now() - started);
    });
    void exited.then((code) => {
      reject(new Error(`exited (${String(code)}) before '${ready}': ${stderr.slice(-1000)}`));
    });
  });
  if (ready !== undefined) {
    child.kill('SIGINT');
    await exited;
  }
  return elapsed;
}

/** Figures of a few timed runs, as the harness's measurement (one "op" is one start). */
function measurement(ms: readonly number[]): Measurement {
  const sorted = [...ms].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  return { opsPerSec: 1000 / p50, p50Ms: p50, p99Ms: percentile(sorted, 99) };
}

/** `up` through `entry` (node args before `up`), cold then warm, interleaved with `floor`. */
function upBenchmark(spec: {
  name: string;
  entry: readonly string[];
  floorName: string;
  floor: readonly string[];
  target: number | undefined;
}): Benchmark {
  return {
    name: spec.name,
    async run(options) {
      const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-up-'));
      const upArgs = [
        ...spec.entry,
        'up',
        '--data-dir',
        join(dir, 'data'),
        ...['server.port', 'server.httpsPort', 'agent.imds.port', 'agent.metrics.port'].flatMap(
          (key) => ['--set', `${key}=0`],
        ),
      ];
      try {
        // Warm means built: a stale bundle is rebuilt here, outside the timed runs.
        await timeToReady([...spec.entry, '--help'], undefined);
        // Cold: keys, CA, database and demo made from nothing.
        const cold = await timeToReady(upArgs, READY);
        const runs = options.smoke ? 1 : WARM_RUNS;
        const warm: number[] = [];
        const floor: number[] = [];
        // Interleaved, so a noisy stretch of the machine hits both.
        for (let i = 0; i < runs; i++) {
          floor.push(await timeToReady(spec.floor, undefined));
          warm.push(await timeToReady(upArgs, READY));
        }
        const subject = measurement(warm);
        const baseline = measurement(floor);
        return {
          name: this.name,
          subject,
          baselineName: spec.floorName,
          baseline,
          absoluteTargets: [
            {
              name: 'warm start to ready (p50)',
              value: subject.p50Ms / 1000,
              unit: 's',
              ...(spec.target === undefined ? {} : { below: spec.target }),
            },
            { name: 'cold start to ready', value: cold / 1000, unit: 's' },
            { name: `${spec.floorName} (p50)`, value: baseline.p50Ms / 1000, unit: 's' },
          ],
        };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

export const benchmarks: readonly Benchmark[] = [
  upBenchmark({
    name: 'tessera up (npm start: launcher + bundle): spawn to ready line',
    entry: [LAUNCHER],
    floorName: "node -e ''",
    floor: ['-e', ''],
    target: 2,
  }),
  upBenchmark({
    name: 'tessera up through tsx (the old npm start): spawn to ready line',
    entry: ['--import', 'tsx', MAIN],
    floorName: "node --import tsx -e ''",
    floor: ['--import', 'tsx', '-e', ''],
    target: undefined,
  }),
];
