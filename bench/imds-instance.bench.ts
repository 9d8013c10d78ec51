// `/metadata/instance` answers per second against a bare `node:http` server sending the same
// bytes, in the same run (DESIGN.md: at least 0.85). Same processes and load as imds.bench.ts (see
// there): the server and agent as children, the bare server as a child, autocannon here at 32
// keep-alive connections, both sides loaded alternately. The VM is `bench-vm` at 127.0.0.1. Unlike
// a cached token, the instance document is rendered from the VM map on every request (there is no
// answer cache), so this figure prices the document's rendering and JSON serialisation.
import type { Benchmark } from './harness.js';
import {
  CONNECTIONS,
  describeRuns,
  fmt,
  interleavedFullLoads,
  pct,
  startBareLike,
} from './imds-compare.js';
import { type Child, loadAverage, startTessera, stopChild } from './imds-fixture.js';

export const INSTANCE_PATH = '/metadata/instance?api-version=2021-02-01';

export const benchmark: Benchmark = {
  name: 'imds: /metadata/instance, 32 connections',
  async run(options) {
    const loadBefore = loadAverage();
    const tessera = await startTessera();
    let bare: Child | undefined;
    try {
      const started = await startBareLike(tessera.imdsUrl, INSTANCE_PATH);
      bare = started.child;
      const { runs, medians, seconds } = await interleavedFullLoads(
        [
          { name: 'bare', url: started.url, path: INSTANCE_PATH, pid: bare.pid },
          { name: 'imds', url: tessera.imdsUrl, path: INSTANCE_PATH, pid: tessera.agentPid },
        ],
        options,
      );
      const baseline = medians.get('bare');
      const subject = medians.get('imds');
      if (baseline === undefined || subject === undefined)
        throw new Error('instance bench: no run');
      process.stderr.write(
        `imds instance: ${started.bytes}-byte document, ${CONNECTIONS} connections, ${seconds} s runs: ` +
          `IMDS ${describeRuns(runs.get('imds'))}; bare ${describeRuns(runs.get('bare'))}; ` +
          `core busy: IMDS ${pct(subject.serverCpu)}, bare ${pct(baseline.serverCpu)}, load generator ${pct(subject.generatorCpu)}; ` +
          `server CPU per answer IMDS ${fmt(subject.cpuPerAnswerUs, 1)} us, bare ${fmt(baseline.cpuPerAnswerUs, 1)} us; ` +
          `load average ${loadBefore} before, ${loadAverage()} after\n`,
      );
      return {
        name: this.name,
        subject: { opsPerSec: subject.opsPerSec, p50Ms: subject.p50Ms, p99Ms: subject.p99Ms },
        baselineName: 'bare node:http, same bytes',
        baseline: { opsPerSec: baseline.opsPerSec, p50Ms: baseline.p50Ms, p99Ms: baseline.p99Ms },
        targetRatio: 0.85,
      };
    } finally {
      if (bare !== undefined) await stopChild(bare);
      await tessera.close();
    }
  },
};
