// The benchmark harness: each benchmark measures a subject against a baseline in the same run.
import { readFileSync } from 'node:fs';

/** One measured loop: calls per second and per-call latency percentiles. */
export interface Measurement {
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** What a benchmark reports: its subject, the ceiling it is compared with, and the targets. */
export interface BenchResult {
  readonly name: string;
  /** Absent for benchmarks that report figures only (memory, times to converge). */
  readonly subject?: Measurement;
  readonly baselineName?: string;
  readonly baseline?: Measurement;
  /** subject.opsPerSec / baseline.opsPerSec must reach this. */
  readonly targetRatio?: number;
  /** DESIGN.md's absolute targets and other figures, shown (and checked) beside the ratio. */
  readonly absoluteTargets?: readonly AbsoluteTarget[];
  /** Why the benchmark did not run (e.g. no PostgreSQL server); the row says so. */
  readonly skipped?: string;
}

/** A figure, e.g. a p99 at half load or an RSS, optionally bounded above. */
export interface AbsoluteTarget {
  /** What the figure is, e.g. `p99 at 50% load`. */
  readonly name: string;
  readonly value: number;
  /** `ms`, `s`, `MB`... */
  readonly unit: string;
  /** Met when `value` is below this; absent for figures without a target. */
  readonly below?: number;
}

export interface BenchOptions {
  /** Tiny sizes and sub-second loops: proves the benchmark runs, measures nothing. */
  readonly smoke: boolean;
}

/** A benchmark module exports `benchmark` or `benchmarks`. */
export interface Benchmark {
  readonly name: string;
  run(options: BenchOptions): Promise<BenchResult>;
}

/** The `p`th percentile of ascending `sorted` (nearest rank, rounding down). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** The run with the median `key` (the upper middle of an even count). */
export function median<T>(runs: readonly T[], key: (run: T) => number): T {
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (middle === undefined) throw new Error('no run');
  return middle;
}

/** The median of plain numbers. */
export const medianOf = (values: readonly number[]): number => median(values, (v) => v);

/** Repetitions of every figure: at least 3 (1 in a smoke run). */
export const repetitionsFor = (options: BenchOptions, full = 3): number =>
  options.smoke ? 1 : Math.max(3, full);

/** One run of {@link measurePair}'s loop, for benchmarks that interleave on their own. */
export const measureOnce = (
  op: () => Promise<unknown>,
  options: BenchOptions & { durationMs?: number },
): Promise<Measurement> => loop(op, options.smoke ? 50 : (options.durationMs ?? 2000));

/** Calls `op` sequentially for `durationMs` after a warm-up of a tenth of that. */
async function loop(op: () => Promise<unknown>, durationMs: number): Promise<Measurement> {
  const warmUntil = performance.now() + durationMs / 10;
  while (performance.now() < warmUntil) await op();
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + durationMs;
  let now = start;
  while (now < end) {
    await op();
    const after = performance.now();
    latencies.push(after - now);
    now = after;
  }
  latencies.sort((a, b) => a - b);
  return {
    opsPerSec: latencies.length / ((now - start) / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/**
 * Measures `subject` and `baseline` (each called sequentially) in interleaved repetitions, the
 * order alternating (baseline first in even ones), so a noisy stretch of the machine hits both;
 * each side's figure is its run with the median throughput.
 */
export async function measurePair(
  subject: () => Promise<unknown>,
  baseline: () => Promise<unknown>,
  options: BenchOptions & { durationMs?: number; repetitions?: number },
): Promise<{ subject: Measurement; baseline: Measurement }> {
  const durationMs = options.smoke ? 50 : (options.durationMs ?? 2000);
  const repetitions = repetitionsFor(options, options.repetitions);
  const runs = { subject: [] as Measurement[], baseline: [] as Measurement[] };
  for (let r = 0; r < repetitions; r++) {
    const sides = [
      ['baseline', baseline],
      ['subject', subject],
    ] as const;
    for (const [side, op] of r % 2 === 0 ? sides : [...sides].reverse()) {
      runs[side].push(await loop(op, durationMs));
    }
  }
  return {
    subject: median(runs.subject, (m) => m.opsPerSec),
    baseline: median(runs.baseline, (m) => m.opsPerSec),
  };
}

/** Resident set size of a process in MB (VmRSS from /proc), or undefined where there is none. */
export function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}
