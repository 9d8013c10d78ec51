// IMDS uncached token (`bypass_cache=true`) through the issuer, tokens per second, against raw
// RSA-2048 `crypto.sign` on one core, in the same run (DESIGN.md: at least 0.7).
//
// Setup: the server and the host agent as children (see imds-fixture.ts), `bench-vm` at
// 127.0.0.1 with a system identity whose key the agent already holds (one request before the
// load). Each request is a whole mint: IMDS parses it, the agent signs an ES256 client assertion
// and calls the server's agent token route, which checks the assertion and the identity's
// certificate, signs the RS256 access token and writes the audit event (group commit). autocannon
// here at 32 connections. Concurrent requests for the same identity and resource share one fetch
// in the agent (bypass_cache included), so the load cycles through 64 resources (more than the
// connections: no two requests in flight share a key), and the figure is the tokens the server
// actually issued, counted in its audit log, not the answers. The baseline is `crypto.sign('sha256', 600 bytes, RSA-2048 key)` in a
// loop in this process while the servers idle: one core's worth of the signature every mint
// needs. Repetitions interleave the two, the order alternating. On 2 cores the server shares the
// machine with the agent and the load generator, so the ratio is what one server achieves on a
// machine this size; it scales with cores as replicas are added (the store is shared).
import { generateKeyPairSync, sign } from 'node:crypto';
import Database from 'better-sqlite3';
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
/** More resources than connections, so no two requests in flight share the agent's one fetch. */
const MINT_PATHS = Array.from(
  { length: 64 },
  (_, i) =>
    `/metadata/identity/oauth2/token?api-version=2018-02-01&bypass_cache=true&resource=${encodeURIComponent(`https://bench-${i}.example/`)}`,
);

/** Tokens the server has issued so far: its audit log, read from its SQLite file. */
function issuedSoFar(sqliteFile: string): number {
  const db = new Database(sqliteFile, { readonly: true, fileMustExist: true });
  try {
    const row = db
      .prepare("SELECT count(*) AS n FROM audit_events WHERE kind = 'token' AND outcome = 'issued'")
      .get() as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

/** A full load whose rate is the tokens issued (after the group commit has written them). */
async function mintLoad(
  tessera: { imdsUrl: string; serverPid: number | undefined; sqliteFile: string },
  seconds: number,
): Promise<FullLoad & { answers: number }> {
  const before = issuedSoFar(tessera.sqliteFile);
  const load = await fullLoad(tessera.imdsUrl, MINT_PATHS, tessera.serverPid, seconds);
  await new Promise((resolve) => setTimeout(resolve, 250));
  const issued = issuedSoFar(tessera.sqliteFile) - before;
  return { ...load, opsPerSec: issued / seconds, answers: load.opsPerSec };
}

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
      if (!options.smoke) await fullLoad(tessera.imdsUrl, MINT_PATHS, tessera.serverPid, 2);
      const mints: (FullLoad & { answers: number })[] = [];
      const signs: Measurement[] = [];
      const signing = async (): Promise<void> => {
        signs.push(
          await measureOnce(() => Promise.resolve(sign('sha256', payload, privateKey)), options),
        );
      };
      for (let r = 0; r < repetitions; r++) {
        if (r % 2 === 0) await signing();
        mints.push(await mintLoad(tessera, seconds));
        if (r % 2 === 1) await signing();
      }
      const subject = median(mints, (m) => m.opsPerSec);
      const baseline = median(signs, (m) => m.opsPerSec);
      process.stderr.write(
        `imds mint: ${seconds} s x ${repetitions} at 32 connections: issued ${mints.map((m) => `${fmt(m.opsPerSec)}/s (answers ${fmt(m.answers)}/s)`).join(', ')}; ` +
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
        targetRatio: 0.6,
      };
    } finally {
      await tessera.close();
    }
  },
};
