// Tessera's cached IMDS token route against a peer's token route on the same machine: the token
// endpoint of oauth2-mock-server (bench/peer-mock.ts), the OAuth 2 server many projects test
// their token code against. It signs a new RS256 JWT per request where IMDS answers from its
// cache, so the ratio says how much a workload asking IMDS over and over gains over asking a
// token server each time. Both servers are child processes loaded one at a time, alternately,
// by the same autocannon settings (32 keep-alive connections, imds-compare.ts); every answer must
// be a 200. Target (issue 25): IMDS answers at least 20 times as many.
import type { Benchmark } from './harness.js';
import { describeRuns, fmt, interleavedFullLoads } from './imds-compare.js';
import {
  type Child,
  loadAverage,
  spawnChild,
  startTessera,
  stopChild,
  TOKEN_PATH,
} from './imds-fixture.js';

const TARGET_RATIO = 20;

export const benchmark: Benchmark = {
  name: 'imds: cached token vs a peer token server (oauth2-mock-server)',
  async run(options) {
    const loadBefore = loadAverage();
    const tessera = await startTessera();
    let peer: Child | undefined;
    try {
      const started = await spawnChild('peer-mock.ts', []);
      peer = started.child;
      const peerUrl = (started.info as { url: string }).url;
      const sides = [
        {
          name: 'peer',
          url: peerUrl,
          path: '/token',
          pid: peer.pid,
          request: {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default',
          },
        },
        { name: 'imds', url: tessera.imdsUrl, path: TOKEN_PATH, pid: tessera.agentPid },
      ] as const;
      const { runs, medians, seconds } = await interleavedFullLoads(sides, options);
      const baseline = medians.get('peer');
      const subject = medians.get('imds');
      if (baseline === undefined || subject === undefined) throw new Error('peer bench: no run');
      process.stderr.write(
        `peer: ${seconds} s per run: IMDS cached ${fmt(subject.opsPerSec)}/s (runs ${describeRuns(runs.get('imds'))}), ` +
          `oauth2-mock-server /token ${fmt(baseline.opsPerSec)}/s (runs ${describeRuns(runs.get('peer'))}); ` +
          `load average ${loadBefore} before, ${loadAverage()} after\n`,
      );
      return {
        name: this.name,
        subject: { opsPerSec: subject.opsPerSec, p50Ms: subject.p50Ms, p99Ms: subject.p99Ms },
        baselineName: 'oauth2-mock-server POST /token',
        baseline: { opsPerSec: baseline.opsPerSec, p50Ms: baseline.p50Ms, p99Ms: baseline.p99Ms },
        targetRatio: TARGET_RATIO,
      };
    } finally {
      if (peer !== undefined) await stopChild(peer);
      await tessera.close();
    }
  },
};
