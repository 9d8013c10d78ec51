// The VM map: address normalisation, applying syncs, change events, and the reconnecting long-poll loop.
import { describe, expect, it } from 'vitest';
import type { AgentVm, VmSync } from '../wire/agent-api.js';
import {
  deferred,
  fakeClient,
  identity,
  silentLogger,
  vm,
} from '../../test/agent/agent-fixtures.js';
import { backoffDelay, createManualClock } from './clock.js';
import { upstreamUnavailable } from './server-client.js';
import { createVmMap, canonicalAddress, SYNC_BACKOFF, type VmMapChange } from './vm-map.js';

describe('canonicalAddress', () => {
  it.each([
    ['10.0.0.4', '10.0.0.4'],
    [' 10.0.0.4 ', '10.0.0.4'],
    ['::ffff:10.0.0.4', '10.0.0.4'],
    ['::FFFF:10.0.0.4', '10.0.0.4'],
    ['::ffff:a00:4', '10.0.0.4'],
    ['0:0:0:0:0:ffff:0a00:0004', '10.0.0.4'],
    ['FD00::ABCD', 'fd00::abcd'],
    ['fd00:0:0:0:0:0:0:abcd', 'fd00::abcd'],
    ['[fd00::1]', 'fd00::1'],
    ['fe80::1%br0', 'fe80::1'],
    ['::1', '::1'],
    ['not-an-address', 'not-an-address'],
  ])('%s -> %s', (input, expected) => {
    expect(canonicalAddress(input)).toBe(expected);
  });
});

describe('backoffDelay', () => {
  it('starts at 100 ms, doubles to 10 s, and spreads by ±50%', () => {
    const middle = (attempt: number) => backoffDelay(attempt, SYNC_BACKOFF, () => 0.5);
    expect([0, 1, 2, 3, 6, 7, 20, 1000].map(middle)).toEqual([
      100, 200, 400, 800, 6400, 10_000, 10_000, 10_000,
    ]);
    expect(backoffDelay(0, SYNC_BACKOFF, () => 0)).toBe(50);
    expect(backoffDelay(10, SYNC_BACKOFF, () => 0.999999)).toBe(15_000);
  });
});

const uai = identity(1);
const sys = identity(2, 'SystemAssigned');
const full = (position: number, ...vms: ReturnType<typeof vm>[]): VmSync => ({
  position,
  full: true,
  vms,
  removed: [],
});

describe('VM map', () => {
  it('shares the strings that repeat across VMs without changing a value, frozen records too', () => {
    const map = createVmMap({
      client: fakeClient({}),
      clock: createManualClock(),
      logger: silentLogger(),
    });
    const [a, b] = JSON.parse(
      JSON.stringify([vm('a', ['10.0.0.4'], [sys]), vm('b', ['10.0.0.5'], [uai])]),
    ) as AgentVm[];
    const frozen = Object.freeze(vm('c', ['10.0.0.6'], []));
    const before = JSON.stringify([a, b, frozen]);
    map.apply(full(1, a as AgentVm, b as AgentVm, frozen));
    expect(JSON.stringify([...map.all()])).toBe(before);
    expect(map.vmFor('10.0.0.4')).toBe(a);
    expect(map.vmFor('10.0.0.6')).toBe(frozen);
  });

  it('maps every spelling of an address to its VM and tells what changed', () => {
    const map = createVmMap({
      client: fakeClient({}),
      clock: createManualClock(),
      logger: silentLogger(),
    });
    const changes: VmMapChange[] = [];
    map.onChange((c) => changes.push(c));
    const a = vm('a', ['10.0.0.4', 'FD00::4'], [sys, uai]);
    const b = vm('b', ['10.0.0.5'], [uai]);
    map.apply(full(7, a, b));
    expect(map.vmFor('10.0.0.4')).toBe(a);
    expect(map.vmFor('::ffff:10.0.0.4')).toBe(a);
    expect(map.vmFor('fd00::4')).toBe(a);
    expect(map.vmFor('10.0.0.6')).toBeUndefined();
    expect(map.byId(a.id.toUpperCase())).toBe(a);
    expect(map.position).toBe(7);
    expect(map.hasIdentity(uai.principalId)).toBe(true);

    // a loses the user-assigned identity; b is deleted: the identity is gone from the host.
    const a2 = { ...a, identities: [sys] };
    const change = map.apply({
      position: 9,
      full: false,
      vms: [a2],
      removed: [b.id.toLowerCase()],
    });
    expect(change.changed).toEqual([{ current: a2, previous: a }]);
    expect(change.removed).toEqual([b]);
    expect(change.identitiesGone).toEqual([uai.principalId]);
    expect(map.vmFor('10.0.0.5')).toBeUndefined();
    expect(changes).toHaveLength(2);

    // A full answer removes whatever it does not list.
    const c = vm('c', ['10.0.0.7']);
    const replaced = map.apply(full(12, c));
    expect(replaced.removed.map((v) => v.name)).toEqual(['a']);
    expect(replaced.identitiesGone).toEqual([sys.principalId]);
    expect([...map.all()]).toEqual([c]);
  });

  it('refuses an address two VMs claim rather than pick one', () => {
    const map = createVmMap({
      client: fakeClient({}),
      clock: createManualClock(),
      logger: silentLogger(),
    });
    map.apply(full(1, vm('a', ['10.0.0.4', '10.0.0.8']), vm('b', ['::ffff:10.0.0.4'])));
    expect(map.vmFor('10.0.0.4')).toBeUndefined();
    expect(map.vmFor('10.0.0.8')?.name).toBe('a');
  });

  it('long-polls from its position, keeps the last map while the server is down, and reconnects with backoff', async () => {
    const clock = createManualClock();
    const calls: { after: number; wait: number; at: number }[] = [];
    const answers: (() => Promise<VmSync>)[] = [];
    const client = fakeClient({
      syncVms(after, wait, signal) {
        calls.push({ after, wait, at: clock.now() });
        const next = answers.shift();
        if (next !== undefined) return next();
        // Nothing more to say: hold the poll until the map stops.
        const parked = deferred<VmSync>();
        signal?.addEventListener('abort', () => {
          parked.reject(new Error('aborted'));
        });
        return parked.promise;
      },
    });
    const down = () => Promise.reject(upstreamUnavailable('down', 5));
    const a = vm('a', ['10.0.0.4'], [uai]);
    answers.push(
      () => Promise.resolve(full(5, a)),
      down,
      down,
      down,
      () => Promise.resolve({ position: 8, full: false, vms: [], removed: [a.id] }),
    );
    const map = createVmMap({ client, clock, logger: silentLogger(), random: () => 0.5 });
    map.start();
    await map.synced();
    await clock.advance(0);
    expect(map.vmFor('10.0.0.4')).toBe(a);
    // Three failures: retries after 100, 200 and 400 ms; the map stays as it was.
    expect(map.connected).toBe(false);
    await clock.advance(99);
    expect(calls).toHaveLength(2);
    expect(map.vmFor('10.0.0.4')).toBe(a);
    await clock.advance(1);
    expect(calls).toHaveLength(3);
    await clock.advance(200);
    expect(calls).toHaveLength(4);
    await clock.advance(399);
    expect(calls).toHaveLength(4);
    expect(map.vmFor('10.0.0.4')).toBe(a);
    await clock.advance(1);
    expect(calls).toHaveLength(6);
    expect(map.connected).toBe(true);
    expect(map.vmFor('10.0.0.4')).toBeUndefined();
    // Polls hold for 30 s only while connected; at start and after an error they ask at once.
    expect(calls.map((c) => [c.after, c.wait])).toEqual([
      [0, 0],
      [5, 30],
      [5, 0],
      [5, 0],
      [5, 0],
      [8, 30],
    ]);
    await map.stop();
  });

  it('stop() ends a long-poll in flight', async () => {
    const clock = createManualClock();
    let signalSeen: AbortSignal | undefined;
    const client = fakeClient({
      syncVms(_after, _wait, signal) {
        signalSeen = signal;
        return new Promise((_resolve, reject) => {
          signal?.addEventListener('abort', () => {
            reject(new Error('aborted'));
          });
        });
      },
    });
    const map = createVmMap({ client, clock, logger: silentLogger() });
    map.start();
    await clock.advance(0);
    await map.stop();
    expect(signalSeen?.aborted).toBe(true);
    expect(clock.pending()).toBe(0);
  });
});
