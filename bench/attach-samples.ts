// The attach benchmark's samples, shared by the one-server and the cross-replica runs: PATCH a VM to
// attach a fresh identity, then ask IMDS for its token until it comes.
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  type BenchOptions,
  type Measurement,
  median,
  measureOnce,
  percentile,
  repetitionsFor,
} from './harness.js';
import { type ArmCall, httpGet, TOKEN_PATH, UAI_API, VM_API } from './imds-fixture.js';

/** DESIGN.md: an identity attached to a running VM is served by IMDS within 100 ms (p99). */
export const ATTACH_TARGET_P99_MS = 100;
const REQUEST_HEADERS = { Metadata: 'true' };
const POLL_LIMIT_MS = 10_000;

/** One attach. */
export interface Sample {
  /** PATCH answered -> first 200 from IMDS. */
  readonly attachMs: number;
  /** PATCH answered -> the request that got the 200 was sent (IMDS knew the identity by then). */
  readonly knownMs: number;
  /** The ARM PATCH round trip. */
  readonly patchMs: number;
  /** Refused polls before the 200. */
  readonly refused: number;
}

/** Where the attaches happen: who creates the identities, who attaches them, and the VM's IMDS. */
export interface AttachTarget {
  readonly create: ArmCall;
  /** The server the PATCH goes to (another replica than the agent's, for the cross-replica run). */
  readonly attach: ArmCall;
  readonly vmPath: string;
  readonly groupPath: string;
  readonly imdsUrl: string;
}

/** What {@link runAttaches} measured. */
export interface AttachRun {
  readonly warmUps: number;
  readonly measured: readonly Sample[];
  /** `bypass_cache` mints through IMDS, before each third of the samples. */
  readonly mints: readonly Measurement[];
  readonly refusals: ReadonlyMap<number, number>;
}

/** p50 and p99 of `values` (and 1000 / mean as `opsPerSec`). */
export const summary = (values: readonly number[]): Measurement => {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length);
  return {
    opsPerSec: mean > 0 ? 1000 / mean : 0,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
};

const fmt = (n: number, digits = 1): string => n.toFixed(digits);

/**
 * Attaches a fresh identity to the VM (warm-ups first), asks IMDS for its token in a tight loop
 * until a 200 carries its client id, then (untimed) detaches it and waits until IMDS no longer
 * serves it, so every sample starts from the same VM.
 */
export async function runAttaches(target: AttachTarget, options: BenchOptions): Promise<AttachRun> {
  const warmUps = options.smoke ? 1 : 5;
  const samples = options.smoke ? 2 : 100;
  const { vmPath, groupPath, imdsUrl } = target;
  const identities: { id: string; clientId: string }[] = [];
  for (let i = 0; i < warmUps + samples; i++) {
    const created = await target.create(
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
        const answer = await httpGet(`${imdsUrl}${TOKEN_PATH}&bypass_cache=true`, REQUEST_HEADERS);
        if (answer.status !== 200) throw new Error(`attach bench: mint answered ${answer.status}`);
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
    await target.attach('PATCH', `${vmPath}?${VM_API}`, {
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
    await target.attach('PATCH', `${vmPath}?${VM_API}`, { identity: { type: 'SystemAssigned' } });
    const detached = performance.now();
    while ((await httpGet(`${imdsUrl}${path}`, REQUEST_HEADERS)).status === 200) {
      if (performance.now() - detached > POLL_LIMIT_MS) {
        throw new Error('attach bench: the detached identity is still served');
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { warmUps, measured, mints, refusals };
}

/** The run as a benchmark's row (all but its name), and a line of detail on stderr. */
export function attachResult(label: string, run: AttachRun, loadBefore: string, loadAfter: string) {
  const { measured, mints, refusals, warmUps } = run;
  const baseline = median(mints, (m) => m.opsPerSec);
  const subject = summary(measured.map((s) => s.attachMs));
  const known = summary(measured.map((s) => s.knownMs));
  const rest = summary(measured.map((s) => s.attachMs - s.knownMs));
  const patch = summary(measured.map((s) => s.patchMs));
  const polls = summary(measured.map((s) => s.refused));
  const sorted = measured.map((s) => s.attachMs).sort((a, b) => a - b);
  const refusedBy = [...refusals].map(([status, count]) => `${count} x ${status}`).join(', ');
  process.stderr.write(
    `${label}: ${measured.length} attaches (after ${warmUps} warm-up): PATCH answered -> first token ` +
      `p50 ${fmt(subject.p50Ms)}, p99 ${fmt(subject.p99Ms)}, max ${fmt(sorted.at(-1) ?? 0)} ms ` +
      `(IMDS knew the identity after p50 ${fmt(known.p50Ms)} ms, then key + certificate + mint p50 ${fmt(rest.p50Ms)} ms; ` +
      `refused polls per attach p50 ${fmt(polls.p50Ms, 0)}${refusedBy === '' ? '' : `, statuses: ${refusedBy}`}); ` +
      `ARM PATCH round trip p50 ${fmt(patch.p50Ms)}, p99 ${fmt(patch.p99Ms)} ms; ` +
      `bypass_cache mint through IMDS p50 ${fmt(baseline.p50Ms)}, p99 ${fmt(baseline.p99Ms)} ms ` +
      `(DESIGN.md target < ${ATTACH_TARGET_P99_MS} ms at p99: ${subject.p99Ms < ATTACH_TARGET_P99_MS ? 'met' : 'MISSED'}); ` +
      `load average ${loadBefore} before, ${loadAfter} after\n`,
  );
  return {
    subject,
    baselineName: 'bypass_cache mint via IMDS',
    baseline,
    // Three server round trips (sync wake, certificate, mint) against one: about 1/3 at best,
    // 0.15 to 0.25 measured, the certificate (CSR made and parsed, certificate made and parsed
    // twice, with @peculiar/x509) costing more than the mint. This guards against the attach
    // path growing far costlier (a poll interval instead of the long-poll wake would put it near
    // 0.01); the target that matters is the absolute one.
    targetRatio: 0.1,
    absoluteTargets: [
      { name: 'p99', value: subject.p99Ms, unit: 'ms', below: ATTACH_TARGET_P99_MS },
    ],
  };
}
