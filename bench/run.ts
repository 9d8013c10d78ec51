// `npm run bench`: runs every bench/*.bench.ts, prints a table, writes bench/results/latest.json.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { AbsoluteTarget, Benchmark, BenchResult } from './harness.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const smoke = process.argv.includes('--smoke');
const started = performance.now();
const loadBefore = loadavg()[0] ?? 0;

// Positional arguments pick benchmarks by file name: `npm run bench -- token`.
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = (await readdir(here))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const results: BenchResult[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as {
    benchmark?: Benchmark;
    benchmarks?: readonly Benchmark[];
  };
  for (const benchmark of mod.benchmarks ?? (mod.benchmark === undefined ? [] : [mod.benchmark])) {
    const t0 = performance.now();
    process.stderr.write(`bench: ${benchmark.name}${smoke ? ' (smoke)' : ''}\n`);
    results.push(await benchmark.run({ smoke }));
    process.stderr.write(`bench: ${benchmark.name}: ${fmt((performance.now() - t0) / 1000)} s\n`);
  }
}

function fmt(n: number, digits = 0): string {
  return n.toFixed(digits);
}
const figure = (t: AbsoluteTarget): string => {
  const digits = t.unit === 'ms' ? 3 : t.unit === 's' ? 2 : t.unit === 'MB' ? 0 : 1;
  const value = `${t.name} ${fmt(t.value, digits)} ${t.unit}`;
  if (t.below === undefined) return value;
  return `${value} (target < ${t.below}) ${t.value < t.below ? 'met' : 'MISSED'}`;
};
const row = (r: BenchResult): string => {
  if (r.skipped !== undefined) return `| ${r.name} | skipped: ${r.skipped} | - | - | - | - |`;
  const figures = (r.absoluteTargets ?? []).map(figure).join('; ') || '-';
  const { subject, baseline } = r;
  if (subject === undefined) return `| ${r.name} | - | - | - | - | ${figures} |`;
  const latency = `${fmt(subject.p50Ms, 3)} / ${fmt(subject.p99Ms, 3)} ms`;
  if (baseline === undefined) {
    return `| ${r.name} | ${fmt(subject.opsPerSec)}/s | - | - | ${latency} | ${figures} |`;
  }
  const ratio = subject.opsPerSec / baseline.opsPerSec;
  const target =
    r.targetRatio === undefined
      ? ''
      : ` (target >= ${r.targetRatio}) ${ratio >= r.targetRatio ? 'met' : 'MISSED'}`;
  return `| ${r.name} | ${fmt(subject.opsPerSec)}/s | ${r.baselineName ?? 'baseline'}: ${fmt(baseline.opsPerSec)}/s | ${fmt(ratio, 2)}${target} | ${latency} | ${figures} |`;
};
const seconds = (performance.now() - started) / 1000;
const table = [
  `Node ${process.version}, ${availableParallelism()} cores, ${fmt(seconds)} s, load average ${fmt(loadBefore, 2)} before${smoke ? ', SMOKE RUN (figures meaningless)' : ''}`,
  '',
  '| benchmark | subject | baseline (same run) | ratio | p50 / p99 | figures (absolute targets) |',
  '| --- | --- | --- | --- | --- | --- |',
  ...results.map(row),
  '',
].join('\n');
process.stdout.write(table);

if (!smoke) {
  const out = join(here, 'results');
  await mkdir(out, { recursive: true });
  const report = { node: process.version, cores: availableParallelism(), seconds, results };
  await writeFile(join(out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(out, 'latest.md'), table);
}
