// IMDS uncached token (`bypass_cache=true`) through the issuer, tokens per second, against raw
// RSA-2048 `crypto.sign` on one core, in the same run (DESIGN.md: at least 0.7).
//
// Setup: the server and the host agent as children (see imds-fixture.ts), `bench-vm` at
// 127.0.0.1 with a system identity whose key the agent already holds (one request before the
// load). Each request is a whole mint: IMDS parses it, the agent signs an ES256 client assertion
// and calls the server's agent token route, which checks the assertion and the identity's
// certificate, signs the RS256 access token and writes the audit event (group commit). autocannon
// here at 32 connections. The baseline is `crypto.sign('sha256', 600 bytes, RSA-2048 key)` in a
// loop in this process while the servers idle: one core's worth of the signature every mint
// needs. Repetitions interleave the two, the order alternating. On 2 cores the server shares the
// machine with the agent and the load generator, so the ratio is what one server achieves on a
// machine this size; it scales with cores as replicas are added (the store is shared).
import { generateKeyPairSync, sign } from 'node:crypto';
import {
  type Benchmark,
  type Measurement,
  median,
  measureOnce,
  repetitionsFor,
} from './harness.js';
import { fmt, fullLoad, type FullLoad, pct, REQUEST_HEADERS } from './imds-compare.js';
import { httpGet, loadAverage, startTessera, TOKEN_PATH } from './imds-fixture.js';

const MINT_PATH = `${TOKEN_PATH}&bypass_cache=true`;

export const benchmark: Benchmark = {
  name: 'imds: uncached token (bypass_cache) through the issuer',
  async run(options) {
    const seconds = options.smoke ? 1 : 5;
    const repetitions = repetitionsFor(options);
    const loadBefore = loadAverage();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const payload = Buffer.alloc(600, 1);
    const tessera = await startTessera();
    try {
      const first = await httpGet(`${tessera.imdsUrl}${MINT_PATH}`, REQUEST_HEADERS);
      if (first.status !== 200) throw new Error(`mint bench: IMDS answered ${first.status}`);
      if (!options.smoke) await fullLoad(tessera.imdsUrl, MINT_PATH, tessera.serverPid, 2);
      const mints: FullLoad[] = [];
      const signs: Measurement[] = [];
      const signing = async (): Promise<void> => {
        signs.push(
          await measureOnce(() => Promise.resolve(sign('sha256', payload, privateKey)), options),
        );
      };
      for (let r = 0; r < repetitions; r++) {
        if (r % 2 === 0) await signing();
        mints.push(await fullLoad(tessera.imdsUrl, MINT_PATH, tessera.serverPid, seconds));
        if (r % 2 === 1) await signing();
      }
      const subject = median(mints, (m) => m.opsPerSec);
      const baseline = median(signs, (m) => m.opsPerSec);
      process.stderr.write(
        `imds mint: ${seconds} s x ${repetitions} at 32 connections: ${mints.map((m) => `${fmt(m.opsPerSec)}/s`).join(', ')}; ` +
          `server core busy ${pct(subject.serverCpu)}, server CPU per mint ${fmt(subject.cpuPerAnswerUs, 0)} us ` +
          `(one RSA-2048 signature ${fmt(1e6 / baseline.opsPerSec, 0)} us); ` +
          `sign runs ${signs.map((m) => `${fmt(m.opsPerSec)}/s`).join(', ')}; ` +
          `load average ${loadBefore} before, ${loadAverage()} after\n`,
      );
      return {
        name: this.name,
        subject: { opsPerSec: subject.opsPerSec, p50Ms: subject.p50Ms, p99Ms: subject.p99Ms },
        baselineName: 'crypto.sign RSA-2048, one core',
        baseline,
        targetRatio: 0.7,
      };
    } finally {
      await tessera.close();
    }
  },
};
