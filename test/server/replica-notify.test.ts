// Two in-process server replicas on one PostgreSQL schema: a write on one wakes long-polls on the other, and both sign with the one active key.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runSigningKeyRotate } from '../../src/cli/signing-key.js';
import { selectSigningKey } from '../../src/core/keys/signing-keys.js';
import { freePort } from '../../src/server/runtime.js';
import type { DatabaseOptions } from '../../src/store/index.js';
import { AGENT_API_PREFIX, type VmSync } from '../../src/wire/agent-api.js';
import { clientCredentialsToken } from '../fixtures/admin.js';
import { TEST_MASTER_KEY_B64 } from '../fixtures/keys.js';
import { storeTargets, type StoreTarget } from '../store/targets.js';
import { type AgentHarness, type RegisteredHost, startAgentServer } from './agent-harness.js';

const VM_V = 'api-version=2024-07-01';
const ROUNDS = 10;
const postgres = storeTargets().find((target) => target.name === 'postgres');

/** Two distinct free ports on the loopback address. */
async function twoPorts(): Promise<[number, number]> {
  for (;;) {
    const first = await freePort('127.0.0.1');
    const second = await freePort('127.0.0.1');
    if (first !== second) return [first, second];
  }
}

/** How long until `check()` resolves true, and in how many tries; fails after `ms`. */
async function within(
  ms: number,
  check: () => Promise<boolean>,
): Promise<{ elapsed: number; tries: number }> {
  const started = performance.now();
  for (let tries = 1; ; tries += 1) {
    if (await check()) return { elapsed: performance.now() - started, tries };
    if (performance.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await sleep(10);
  }
}

const kidOf = (jwt: string): unknown => decodeProtectedHeader(jwt).kid;

describe.skipIf(postgres === undefined)('two server replicas on one PostgreSQL schema', () => {
  let place: { options: DatabaseOptions; dispose(): Promise<void> };
  let dir: string | undefined;
  /** Replica A answers at the public URL; B at its own listener (behind the same "balancer"). */
  let a: AgentHarness;
  let b: AgentHarness;
  let bUrl: string;
  let group: string;
  let host: RegisteredHost;
  let client: { appId: string; secret: string };

  beforeAll(async () => {
    place = await postgres!.create();
    // Both replicas open the one schema; it is dropped once, after both have closed.
    const shared: StoreTarget = {
      name: 'postgres',
      create: () => Promise.resolve({ options: place.options, dispose: () => Promise.resolve() }),
    };
    const [portA, portB] = await twoPorts();
    const publicUrl = `http://127.0.0.1:${portA}`;
    // One data directory: the installation's administrator (its secret file) is the same.
    dir = await mkdtemp(join(tmpdir(), 'tessera-replicas-'));
    a = await startAgentServer(shared, { dir, flags: { 'server.port': portA, publicUrl } });
    b = await startAgentServer(shared, { dir, flags: { 'server.port': portB, publicUrl } });
    bUrl = `http://127.0.0.1:${portB}`;
    group = `/subscriptions/${a.sub}/resourceGroups/replicas`;
    const created = await a.arm('PUT', `${group}?api-version=2021-04-01`, {
      location: 'westeurope',
    });
    expect(created.status).toBe(201);
    host = await a.newHost('replica-host');
    const principal = await a.server.services.directory.createPrincipal({
      tenantId: a.tenantId,
      displayName: 'replica-client',
      type: 'Application',
    });
    const { secret } = await a.server.services.directory.addClientSecret(principal.objectId);
    client = { appId: principal.appId, secret };
  });
  afterAll(async () => {
    await b.close();
    await a.close();
    await place.dispose();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** `GET /vms` on replica B, as the host. */
  async function syncOnB(query: string): Promise<VmSync> {
    const response = await fetch(`${bUrl}${AGENT_API_PREFIX}/vms?${query}`, {
      headers: { authorization: `TesseraHost ${await host.assertion()}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as VmSync;
  }

  /** A token from the replica at `url`, with the test client's secret. */
  const tokenFrom = (url: string): Promise<string> =>
    clientCredentialsToken({ url, tenant: { id: a.tenantId } }, client.appId, client.secret);

  it('wakes a long-poll on B in well under the 1 s feed poll after an ARM write on A', async () => {
    const fromAck: number[] = [];
    const fromStart: number[] = [];
    // A first VM, so the feed is not empty and the next answers are incremental.
    const first = await a.arm(
      'PUT',
      `${group}/providers/Microsoft.Compute/virtualMachines/r?${VM_V}`,
      {
        location: 'westeurope',
        properties: { tessera: { hostId: host.id, privateIpAddresses: ['10.7.0.3'] } },
      },
    );
    expect(first.status).toBe(201);
    let position = (await syncOnB('after=0')).position;
    expect(position).toBeGreaterThan(0);
    for (let round = 0; round < ROUNDS; round += 1) {
      let settledAt: number | undefined;
      const polling = syncOnB(`after=${position}&wait=30`).then((sync) => {
        settledAt = performance.now();
        return sync;
      });
      await sleep(150);
      expect(settledAt).toBeUndefined();
      const started = performance.now();
      const vm = await a.arm(
        'PUT',
        `${group}/providers/Microsoft.Compute/virtualMachines/r${round}?${VM_V}`,
        {
          location: 'westeurope',
          properties: { tessera: { hostId: host.id, privateIpAddresses: [`10.7.0.${round + 4}`] } },
        },
      );
      const acked = performance.now();
      expect(vm.status).toBe(201);
      const woke = await polling;
      expect(woke.full).toBe(false);
      expect(woke.vms.map((v) => v.id)).toEqual([vm.body?.id]);
      position = woke.position;
      fromStart.push(settledAt! - started);
      fromAck.push(settledAt! - acked);
    }
    const sorted = [...fromAck].sort((x, y) => x - y);
    const ms = (values: readonly number[]): string => values.map((v) => v.toFixed(1)).join(', ');
    console.log(
      `cross-replica wake-up after A acknowledged the write (ms): median ${sorted[ROUNDS >> 1]!.toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)} [${ms(fromAck)}]; from the write's start: [${ms(fromStart)}]`,
    );
    // Without notifications B finds the write by polling the feed every second: each round then
    // waits 0 to 1000 ms, and ten rounds all under 500 ms would be a 1-in-1000 chance.
    expect(Math.max(...fromAck)).toBeLessThan(500);
  });

  it('has B sign with a key rotated on A at once, not after its cache period (5 s)', async () => {
    // B has the current key cached.
    const before = kidOf(await tokenFrom(bUrl));
    const rotation = await a.server.services.signingKeys.rotate({ immediate: true });
    expect(rotation.key.kid).not.toBe(before);
    // A token request takes tens of ms (the secret's hash): the first one is expected to do.
    const { elapsed, tries } = await within(
      3_000,
      async () => kidOf(await tokenFrom(bUrl)) === rotation.key.kid,
    );
    console.log(
      `B signs with the key rotated on A after ${elapsed.toFixed(1)} ms (token requests: ${tries})`,
    );
    expect(elapsed).toBeLessThan(1_000);
    expect(kidOf(await tokenFrom(a.server.url))).toBe(rotation.key.kid);
  });

  it('leaves one active key after immediate rotations on both at once, and both sign with it', async () => {
    // Both replicas keep minting throughout, so their caches are filled between the two commits.
    let minting = true;
    const load = [a.server.url, bUrl].map(async (url) => {
      while (minting) await tokenFrom(url);
    });
    try {
      const rotations = await Promise.all([
        a.server.services.signingKeys.rotate({ immediate: true }),
        b.server.services.signingKeys.rotate({ immediate: true }),
      ]);
      const now = Date.now();
      const published = await a.store.signingKeys.listPublished(now);
      expect(published).toHaveLength(1);
      const active = selectSigningKey(published, now)!.kid;
      expect(rotations.map((r) => r.key.kid)).toContain(active);
      const { elapsed, tries } = await within(3_000, async () => {
        const kids = await Promise.all(
          [a.server.url, bUrl].map(async (u) => kidOf(await tokenFrom(u))),
        );
        return kids.every((kid) => kid === active);
      });
      console.log(
        `both replicas sign with the one active key ${elapsed.toFixed(1)} ms after the rotations (rounds of token requests: ${tries})`,
      );
      expect(elapsed).toBeLessThan(2_000);
    } finally {
      minting = false;
      await Promise.all(load);
    }
  });

  it('has two `signing-key rotate --immediate` at once report one story, and both replicas follow it', async () => {
    const options = {
      dataDir: dir!,
      immediate: true,
      set: {
        'store.driver': 'postgres',
        'store.postgres.url': place.options.driver === 'postgres' ? place.options.url : '',
        'store.postgres.schema': place.options.driver === 'postgres' ? place.options.schema! : '',
        masterKey: TEST_MASTER_KEY_B64,
      },
    };
    const written: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await Promise.all([runSigningKeyRotate(options), runSigningKeyRotate(options)]);
    } finally {
      write.mockRestore();
    }
    // Each command writes its report in one piece.
    const told = written.map((report) => ({
      kid: /^rotated: (\S+) {2}(\w+) /m.exec(report)?.[1],
      state: /^rotated: \S+ {2}(\w+) /m.exec(report)?.[1],
      unpublished: /^unpublished: ([^(]+) \(/m.exec(report)?.[1]?.split(' ') ?? [],
      signing: /^signing now: (\S+)$/m.exec(report)?.[1],
    }));
    const story = JSON.stringify(told);
    expect(told, story).toHaveLength(2);
    const now = Date.now();
    const published = await a.store.signingKeys.listPublished(now);
    expect(published, story).toHaveLength(1);
    const active = published[0]!.kid;
    const winner = told.find((t) => t.kid === active);
    const loser = told.find((t) => t !== winner);
    expect(winner, story).toMatchObject({ state: 'active', signing: active });
    // The other: its own report saw it superseded, or the winner's says it unpublished it.
    const superseded = loser?.state === 'retired' && loser.signing === active;
    expect(superseded || winner!.unpublished.includes(loser!.kid!), story).toBe(true);
    // The commands ran in no server: the replicas heard of the keys through the store.
    await within(3_000, async () => {
      const kids = await Promise.all(
        [a.server.url, bUrl].map(async (u) => kidOf(await tokenFrom(u))),
      );
      return kids.every((kid) => kid === active);
    });
  });
});
