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
import { attachResult, runAttaches } from './attach-samples.js';
import type { Benchmark } from './harness.js';
import { loadAverage, startTessera } from './imds-fixture.js';

export const benchmark: Benchmark = {
  name: 'attach: identity attached -> first IMDS token',
  async run(options) {
    const loadBefore = loadAverage();
    const tessera = await startTessera();
    try {
      const { arm, vmPath, groupPath, imdsUrl } = tessera;
      const run = await runAttaches(
        { create: arm, attach: arm, vmPath, groupPath, imdsUrl },
        options,
      );
      return { name: this.name, ...attachResult('attach', run, loadBefore, loadAverage()) };
    } finally {
      await tessera.close();
    }
  },
};
