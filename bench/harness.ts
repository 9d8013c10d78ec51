// The benchmark harness: each benchmark measures a subject against a baseline in the same run.

/** One measured loop: calls per second and per-call latency percentiles. */
export interface Measurement {
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** What a benchmark reports: its subject, the ceiling it is compared with, and the target. */
export interface BenchResult {
  readonly name: string;
  readonly subject: Measurement;
  readonly baselineName: string;
  readonly baseline: Measurement;
  /** subject.opsPerSec / baseline.opsPerSec must reach this. */
  readonly targetRatio: number;
  /** DESIGN.md's absolute targets for this benchmark, shown and checked beside the ratio. */
  readonly absoluteTargets?: readonly AbsoluteTarget[];
}

/** A figure that must stay below a bound, e.g. a p99 at half load under 2 ms. */
export interface AbsoluteTarget {
  /** What the figure is, e.g. `p99 at 50% load`. */
  readonly name: string;
  readonly valueMs: number;
  /** Met when `valueMs` is below this. */
  readonly belowMs: number;
}

export interface BenchOptions {
  /** A few hundred iterations instead of seconds: proves the benchmark runs, measures nothing. */
  readonly smoke: boolean;
}

/** A benchmark module's default export. */
export interface Benchmark {
  readonly name: string;
  run(options: BenchOptions): Promise<BenchResult>;
}

/** The `p`th percentile of ascending `sorted` (nearest rank, rounding down). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * Calls `op` sequentially for `durationMs` (after a warm-up of a tenth of that) and reports
 * throughput and latency. Repeats `repetitions` times and keeps the run with the median throughput.
 */
export async function measure(
  op: () => Promise<unknown>,
  options: BenchOptions & { durationMs?: number; repetitions?: number },
): Promise<Measurement> {
  const durationMs = options.smoke ? 50 : (options.durationMs ?? 2000);
  const repetitions = options.smoke ? 1 : (options.repetitions ?? 3);
  const runs: Measurement[] = [];
  for (let r = 0; r < repetitions; r++) {
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
    runs.push({
      opsPerSec: latencies.length / ((now - start) / 1000),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    });
  }
  runs.sort((a, b) => a.opsPerSec - b.opsPerSec);
  const median = runs[Math.floor(runs.length / 2)];
  if (median === undefined) throw new Error('no measurement');
  return median;
}
