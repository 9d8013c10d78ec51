// 1000 user-assigned identities on one VM (DESIGN.md): the time to attach them all through ARM
// until IMDS serves a token for every one, and IMDS's answers when the caller selects among them
// by `client_id` (cached tokens), against the same load selecting one identity, in the same run.
//
// Setup: server and agent as children (imds-fixture.ts, SQLite), `bench-vm` at 127.0.0.1 with a
// system identity; 3 x 1000 user-assigned identities seeded through the store (seed.ts), and two
// more VMs at 127.0.0.2 and 127.0.0.3 made through ARM. Repetition r attaches its own 1000 to
// VM r (so every repetition certifies new keys): ARM PATCHes of 150 identities each (Azure's limit
// per request), then, 8 at a time, a token asked from the VM's address for each identity until
// IMDS answers 200. The figure is the time from the first PATCH to the last token: PATCHes
// (authorization checks, identity lookups), the agent's sync, 1000 P-256 keys certified and 1000
// tokens minted. Then autocannon (32 connections, from 127.0.0.1) asks for `bench-vm`'s tokens,
// each request naming the next of its 1000 client ids, against the same load naming one,
// interleaved.
import { openDatabase } from '../src/store/index.js';
import { type Benchmark, medianOf, repetitionsFor } from './harness.js';
import { describeRuns, fmt, interleavedFullLoads } from './imds-compare.js';
import { loadAverage, startTessera, TOKEN_PATH, VM_API } from './imds-fixture.js';
import { defaultTenantId, type SeededIdentity, seedIdentities } from './seed.js';
import { closeVmClients, eachConcurrently, tokenWhenReady } from './vm-client.js';

const PER_PATCH = 150;
const ADDRESSES = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

export const benchmark: Benchmark = {
  name: 'imds: 1000 user-assigned identities on one VM',
  async run(options) {
    // BENCH_UAI_COUNT sizes a profiling run: `BENCH_UAI_COUNT=300 npm run bench -- uai --smoke`.
    const count = Number(process.env.BENCH_UAI_COUNT ?? (options.smoke ? 20 : 1000));
    const repetitions = repetitionsFor(options);
    const loadBefore = loadAverage();
    const tessera = await startTessera();
    const raw = await openDatabase({ driver: 'sqlite', file: tessera.sqliteFile });
    try {
      const { arm, groupPath } = tessera;
      const place = {
        tenantId: await defaultTenantId(raw.db),
        subscriptionId: tessera.subscriptionId,
        groupName: 'bench',
      };
      const vms = [tessera.vmPath];
      for (const [i, address] of ADDRESSES.slice(1, repetitions).entries()) {
        const path = `${groupPath}/providers/Microsoft.Compute/virtualMachines/bench-vm-${i + 2}`;
        await arm('PUT', `${path}?${VM_API}`, {
          location: 'westeurope',
          identity: { type: 'SystemAssigned' },
          properties: { tessera: { hostId: tessera.hostId, privateIpAddresses: [address] } },
        });
        vms.push(path);
      }
      const sets: SeededIdentity[][] = [];
      for (let r = 0; r < repetitions; r++)
        sets.push(await seedIdentities(raw.db, place, `many-${r}`, count));

      const attach = { patchMs: [] as number[], allMs: [] as number[] };
      for (let r = 0; r < repetitions; r++) {
        const identities = sets[r] ?? [];
        const address = ADDRESSES[r] ?? '';
        const start = performance.now();
        for (let i = 0; i < identities.length; i += PER_PATCH) {
          const chunk = identities.slice(i, i + PER_PATCH);
          await arm('PATCH', `${vms[r] ?? ''}?${VM_API}`, {
            identity: {
              type: 'SystemAssigned, UserAssigned',
              userAssignedIdentities: Object.fromEntries(chunk.map((id) => [id.id, {}])),
            },
          });
        }
        attach.patchMs.push(performance.now() - start);
        await eachConcurrently(identities, 8, (identity) =>
          tokenWhenReady(
            `${tessera.imdsUrl}${TOKEN_PATH}&client_id=${identity.clientId}`,
            address,
            120_000,
          ),
        );
        attach.allMs.push(performance.now() - start);
      }

      const mine = sets[0] ?? [];
      const paths = mine.map((identity) => `${TOKEN_PATH}&client_id=${identity.clientId}`);
      const { runs, medians, seconds } = await interleavedFullLoads(
        [
          { name: 'one', url: tessera.imdsUrl, path: paths[0] ?? '', pid: tessera.agentPid },
          { name: 'many', url: tessera.imdsUrl, path: paths, pid: tessera.agentPid },
        ],
        options,
      );
      const subject = medians.get('many');
      const baseline = medians.get('one');
      if (subject === undefined || baseline === undefined) throw new Error('uai bench: no run');
      const allMs = medianOf(attach.allMs);
      process.stderr.write(
        `uai: ${count} identities per VM, attach runs: PATCHes ${attach.patchMs.map((v) => fmt(v)).join(', ')} ms, ` +
          `to the last token ${attach.allMs.map((v) => fmt(v)).join(', ')} ms; ` +
          `cached tokens, ${seconds} s runs: among ${count} ${describeRuns(runs.get('many'))}; one ${describeRuns(runs.get('one'))}; ` +
          `load average ${loadBefore} before, ${loadAverage()} after\n`,
      );
      return {
        name: this.name,
        subject: { opsPerSec: subject.opsPerSec, p50Ms: subject.p50Ms, p99Ms: subject.p99Ms },
        baselineName: 'the same VM, one client_id',
        baseline: { opsPerSec: baseline.opsPerSec, p50Ms: baseline.p50Ms, p99Ms: baseline.p99Ms },
        absoluteTargets: [
          {
            name: `attach ${count} -> every token served`,
            value: allMs / 1000,
            unit: 's',
            // Issue 25: under 3 s for 1000.
            ...(count === 1000 ? { below: 3 } : {}),
          },
          { name: 'of which ARM PATCHes', value: medianOf(attach.patchMs) / 1000, unit: 's' },
          { name: `p99 selecting among ${count}`, value: subject.p99Ms, unit: 'ms' },
        ],
      };
    } finally {
      closeVmClients();
      await raw.db.destroy();
      await tessera.close();
    }
  },
};
