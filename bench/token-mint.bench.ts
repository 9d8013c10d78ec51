// Tokens minted per second through the HTTP token endpoint vs raw RSA-2048 signatures on one core,
// in interleaved repetitions: each runs the signing loop here (the server idle), then the load.
import { generateKeyPairSync, sign } from 'node:crypto';
import {
  type Benchmark,
  type Measurement,
  median,
  measureOnce,
  repetitionsFor,
} from './harness.js';
import { assertions, type Credential, load, startServer, stopServer } from './token-load.js';

export const benchmark: Benchmark = {
  name: 'token minted via HTTP (assertion check, RS256, audit)',
  async run(options) {
    const seconds = options.smoke ? 1 : 5;
    const repetitions = repetitionsFor(options);
    const runs: Measurement[] = [];
    const unbound: Measurement[] = [];
    const signs: Measurement[] = [];
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const payload = Buffer.alloc(600, 1);
    const mints = async (credential: Credential): Promise<Measurement> => {
      // A fresh server per run: no replay-cache rows from the previous run.
      const server = await startServer(credential);
      try {
        const forms = await assertions(server.info, options.smoke ? 2_000 : 6_000 * seconds);
        return await load(server.info, forms, seconds);
      } finally {
        await stopServer(server);
      }
    };
    for (let r = 0; r < repetitions; r++) {
      const signing = async (): Promise<void> => {
        signs.push(
          await measureOnce(() => Promise.resolve(sign('sha256', payload, privateKey)), options),
        );
      };
      if (r % 2 === 0) await signing();
      // Alternating which goes first, so drift in the machine's load favours neither.
      if (r % 2 === 0) runs.push(await mints('host-bound'));
      unbound.push(await mints('application'));
      if (r % 2 === 1) runs.push(await mints('host-bound'));
      if (r % 2 === 1) await signing();
    }
    process.stderr.write(
      `token-mint: host-bound ${runs.map((m) => m.opsPerSec.toFixed(0)).join(', ')}/s; application ${unbound.map((m) => m.opsPerSec.toFixed(0)).join(', ')}/s\n`,
    );
    const subject = median(runs, (m) => m.opsPerSec);
    const baseline = median(signs, (m) => m.opsPerSec);
    const withoutCheck = median(unbound, (m) => m.opsPerSec);
    return {
      name: this.name,
      subject,
      baselineName: 'crypto.sign RSA-2048, one core',
      baseline,
      targetRatio: 0.8,
      absoluteTargets: [
        {
          // A host's certificate costs one indexed read more per mint than an application's.
          name: 'attachment check, share of a mint (host-bound vs application certificate)',
          value: Math.max(0, (1 - subject.opsPerSec / withoutCheck.opsPerSec) * 100),
          unit: '%',
          below: 5,
        },
      ],
    };
  },
};
