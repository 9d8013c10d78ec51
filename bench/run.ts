// `npm run bench`: runs every bench/*.bench.ts, prints a table, writes bench/results/latest.json.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { Benchmark, BenchResult } from './harness.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const smoke = process.argv.includes('--smoke');

// Positional arguments pick benchmarks by file name: `npm run bench -- token`.
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = (await readdir(here))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const results: BenchResult[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { benchmark: Benchmark };
  process.stderr.write(`bench: ${mod.benchmark.name}${smoke ? ' (smoke)' : ''}\n`);
  results.push(await mod.benchmark.run({ smoke }));
}

const fmt = (n: number, digits = 0): string => n.toFixed(digits);
const absolute = (r: BenchResult): string => {
  const targets = (r.absoluteTargets ?? []).map(
    (t) =>
      `${t.name} ${fmt(t.valueMs, 3)} ms (target < ${t.belowMs}) ${t.valueMs < t.belowMs ? 'met' : 'MISSED'}`,
  );
  return targets.length === 0 ? '-' : targets.join('; ');
};
const rows = results.map((r) => {
  const ratio = r.subject.opsPerSec / r.baseline.opsPerSec;
  return `| ${r.name} | ${fmt(r.subject.opsPerSec)}/s | ${r.baselineName}: ${fmt(r.baseline.opsPerSec)}/s | ${fmt(ratio, 2)} (target >= ${r.targetRatio}) ${ratio >= r.targetRatio ? 'met' : 'MISSED'} | ${fmt(r.subject.p50Ms, 3)} / ${fmt(r.subject.p99Ms, 3)} ms | ${absolute(r)} |`;
});
const table = [
  `Node ${process.version}, ${availableParallelism()} cores${smoke ? ', SMOKE RUN (figures meaningless)' : ''}`,
  '',
  '| benchmark | subject | baseline (same run) | ratio | p50 / p99 | absolute targets |',
  '| --- | --- | --- | --- | --- | --- |',
  ...rows,
  '',
].join('\n');
process.stdout.write(table);

if (!smoke) {
  const out = join(here, 'results');
  await mkdir(out, { recursive: true });
  const report = { node: process.version, cores: availableParallelism(), results };
  await writeFile(join(out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(out, 'latest.md'), table);
}
