// Identity attached to a running VM -> first token from IMDS (DESIGN.md: under 100 ms), against a
// token the server mints for an identity the agent already holds, measured in the same run.
//
// Setup: the Tessera server and the host agent each in a child process (as in production; see
// imds-fixture.ts), the VM `bench-vm` at 127.0.0.1 with a system identity, and this process as
// the operator (ARM) and as the workload in the VM (IMDS client, one keep-alive connection from
// 127.0.0.1). User-assigned identities are created beforehand. Each sample: PATCH the VM to
// attach a fresh one (`SystemAssigned, UserAssigned`); as soon as the PATCH answers, ask IMDS for
// a token with that identity's `client_id` in a tight loop (the next request goes out on the
// event-loop turn after the previous answer, no sleeping) until one is a 200 carrying that
// client id. The sample is the time from the PATCH's answer to that 200, the interval issue 5
// names. Then, untimed, the identity is detached again (PATCH to `SystemAssigned`) and the next
// sample waits until IMDS no longer serves it, so every sample starts from the same VM.
//
// What one sample contains: the server's change feed waking the agent's long-poll, the agent's
// map update, a P-256 key made on the host and certified by the server (one round trip), a client
// assertion signed and a token minted (one round trip: assertion check, RS256, audit). The
// baseline is the last part alone: `bypass_cache=true` for the system identity, whose key is held,
// so each call is one mint through IMDS and the agent. The ratio (baseline time / attach time:
// each `opsPerSec` is 1 / mean latency, as measure() reports) says how much of the attach is the
// unavoidable mint; the target that matters is the absolute one, p99 under 100 ms.
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  type Benchmark,
  type Measurement,
  median,
  measureOnce,
  percentile,
  repetitionsFor,
} from './harness.js';
import { httpGet, loadAverage, startTessera, TOKEN_PATH, UAI_API, VM_API } from './imds-fixture.js';

const TARGET_P99_MS = 100;
const REQUEST_HEADERS = { Metadata: 'true' };
const POLL_LIMIT_MS = 10_000;

interface Sample {
  /** PATCH answered -> first 200 from IMDS. */
  readonly attachMs: number;
  /** PATCH answered -> the request that got the 200 was sent (IMDS knew the identity by then). */
  readonly knownMs: number;
  /** The ARM PATCH round trip. */
  readonly patchMs: number;
  /** Refused polls before the 200. */
  readonly refused: number;
}

const summary = (values: readonly number[]): Measurement => {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length);
  return {
    opsPerSec: mean > 0 ? 1000 / mean : 0,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
};

const fmt = (n: number, digits = 1): string => n.toFixed(digits);

export const benchmark: Benchmark = {
  name: 'attach: identity attached -> first IMDS token',
  async run(options) {
    const warmUps = options.smoke ? 1 : 5;
    const samples = options.smoke ? 2 : 100;
    const loadBefore = loadAverage();
    const tessera = await startTessera();
    try {
      const { arm, vmPath, groupPath, imdsUrl } = tessera;
      const identities: { id: string; clientId: string }[] = [];
      for (let i = 0; i < warmUps + samples; i++) {
        const created = await arm(
          'PUT',
          `${groupPath}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/bench-uai-${i}?${UAI_API}`,
          { location: 'westeurope' },
        );
        const { clientId } = created.body.properties as { clientId: string };
        identities.push({ id: created.body.id as string, clientId });
      }

      const system = await httpGet(`${imdsUrl}${TOKEN_PATH}`, REQUEST_HEADERS);
      if (system.status !== 200) throw new Error(`attach bench: IMDS answered ${system.status}`);
      // The baseline runs before each third of the samples, so noise hits both alike.
      const blocks = repetitionsFor(options);
      const mints: Measurement[] = [];
      const mint = async (): Promise<void> => {
        mints.push(
          await measureOnce(async () => {
            const answer = await httpGet(
              `${imdsUrl}${TOKEN_PATH}&bypass_cache=true`,
              REQUEST_HEADERS,
            );
            if (answer.status !== 200)
              throw new Error(`attach bench: mint answered ${answer.status}`);
          }, options),
        );
      };

      const refusals = new Map<number, number>();
      const measured: Sample[] = [];
      for (const [index, identity] of identities.entries()) {
        const sample = index - warmUps;
        if (sample >= 0 && sample % Math.ceil(samples / blocks) === 0) await mint();
        const path = `${TOKEN_PATH}&client_id=${identity.clientId}`;
        const patchStart = performance.now();
        await arm('PATCH', `${vmPath}?${VM_API}`, {
          identity: {
            type: 'SystemAssigned, UserAssigned',
            userAssignedIdentities: { [identity.id]: {} },
          },
        });
        const patched = performance.now();
        let refused = 0;
        let sent: number;
        for (;;) {
          sent = performance.now();
          const answer = await httpGet(`${imdsUrl}${path}`, REQUEST_HEADERS);
          if (answer.status === 200) {
            const { client_id: clientId } = JSON.parse(answer.body) as { client_id: string };
            if (clientId !== identity.clientId) {
              throw new Error(`attach bench: a token for ${clientId}, not ${identity.clientId}`);
            }
            break;
          }
          refused++;
          refusals.set(answer.status, (refusals.get(answer.status) ?? 0) + 1);
          if (performance.now() - patched > POLL_LIMIT_MS) {
            throw new Error(`attach bench: no token after ${POLL_LIMIT_MS} ms: ${answer.body}`);
          }
          await nextTurn();
        }
        const done = performance.now();
        if (index >= warmUps) {
          measured.push({
            attachMs: done - patched,
            knownMs: sent - patched,
            patchMs: patched - patchStart,
            refused,
          });
        }

        // Untimed: detach, and wait until IMDS no longer serves the identity.
        await arm('PATCH', `${vmPath}?${VM_API}`, { identity: { type: 'SystemAssigned' } });
        const detached = performance.now();
        while ((await httpGet(`${imdsUrl}${path}`, REQUEST_HEADERS)).status === 200) {
          if (performance.now() - detached > POLL_LIMIT_MS) {
            throw new Error('attach bench: the detached identity is still served');
          }
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }

      const baseline = median(mints, (m) => m.opsPerSec);
      const subject = summary(measured.map((s) => s.attachMs));
      const known = summary(measured.map((s) => s.knownMs));
      const rest = summary(measured.map((s) => s.attachMs - s.knownMs));
      const patch = summary(measured.map((s) => s.patchMs));
      const polls = summary(measured.map((s) => s.refused));
      const sorted = measured.map((s) => s.attachMs).sort((a, b) => a - b);
      const refusedBy = [...refusals].map(([status, count]) => `${count} x ${status}`).join(', ');
      process.stderr.write(
        `attach: ${measured.length} attaches (after ${warmUps} warm-up): PATCH answered -> first token ` +
          `p50 ${fmt(subject.p50Ms)}, p99 ${fmt(subject.p99Ms)}, max ${fmt(sorted.at(-1) ?? 0)} ms ` +
          `(IMDS knew the identity after p50 ${fmt(known.p50Ms)} ms, then key + certificate + mint p50 ${fmt(rest.p50Ms)} ms; ` +
          `refused polls per attach p50 ${fmt(polls.p50Ms, 0)}${refusedBy === '' ? '' : `, statuses: ${refusedBy}`}); ` +
          `ARM PATCH round trip p50 ${fmt(patch.p50Ms)}, p99 ${fmt(patch.p99Ms)} ms; ` +
          `bypass_cache mint through IMDS p50 ${fmt(baseline.p50Ms)}, p99 ${fmt(baseline.p99Ms)} ms ` +
          `(DESIGN.md target < ${TARGET_P99_MS} ms at p99: ${subject.p99Ms < TARGET_P99_MS ? 'met' : 'MISSED'}); ` +
          `load average ${loadBefore} before, ${loadAverage()} after\n`,
      );
      return {
        name: this.name,
        subject,
        baselineName: 'bypass_cache mint via IMDS',
        baseline,
        // Three server round trips (sync wake, certificate, mint) against one: about 1/3 at best,
        // 0.15 to 0.25 measured, the certificate (CSR made and parsed, certificate made and
        // parsed twice, with @peculiar/x509) costing more than the mint. This guards against the
        // attach path growing far costlier (a poll interval instead of the long-poll wake would
        // put it near 0.01); the target that matters is the absolute one below.
        targetRatio: 0.1,
        absoluteTargets: [{ name: 'p99', value: subject.p99Ms, unit: 'ms', below: TARGET_P99_MS }],
      };
    } finally {
      await tessera.close();
    }
  },
};
