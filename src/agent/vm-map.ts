// The VMs on this host, kept current by long-polling the server: source address -> VM, and change events.
import { isIPv4, isIPv6 } from 'node:net';
import type { Logger } from '../config/logger.js';
import type { AgentIdentity, AgentVm, VmSync } from '../wire/agent-api.js';
import { type AgentClock, type Backoff, backoffDelay, sleep } from './clock.js';
import { isTransient, type ServerClient } from './server-client.js';

/** What one applied sync changed. VMs are compared by id, case-insensitively. */
export interface VmMapChange {
  /** True when the server sent the whole list (every VM counts as changed). */
  readonly full: boolean;
  /** VMs that are new or changed (their new version) and, for each, its old version if any. */
  readonly changed: readonly { readonly current: AgentVm; readonly previous?: AgentVm }[];
  /** VMs that left the host or were deleted (their last version). */
  readonly removed: readonly AgentVm[];
  /** Principal ids no VM on the host has any more. */
  readonly identitiesGone: readonly string[];
}

/** The VMs on this host. */
export interface VmMap {
  /** The VM whose private address is `address` (any notation), or undefined. Hot path. */
  vmFor(address: string): AgentVm | undefined;
  /** The VM with this ARM id (case-insensitive). */
  byId(id: string): AgentVm | undefined;
  /** Every VM on the host. */
  all(): IterableIterator<AgentVm>;
  /** True while some VM on the host has the identity `principalId`. */
  hasIdentity(principalId: string): boolean;
  /** Every principal id some VM on the host has. */
  identities(): ReadonlySet<string>;
  /** Calls `listener` after each applied sync; returns an unsubscribe function. */
  onChange(listener: (change: VmMapChange) => void): () => void;
  /** Applies one answer of `GET /vms` (the sync loop does this; a restart restores a snapshot). */
  apply(sync: VmSync): VmMapChange;
  /** The map as a full answer at its position: {@link VmMap.apply} restores it. */
  snapshot(): VmSync;
  /** The feed position last applied (0 before the first sync). */
  readonly position: number;
  /** True after a sync succeeded and until a later one fails. */
  readonly connected: boolean;
  /** Resolves after the first successful sync. */
  synced(): Promise<void>;
  /** Starts the long-poll loop. */
  start(): void;
  /** Ends the loop (aborting a long-poll in flight) and waits for it. */
  stop(): Promise<void>;
}

/** Options of {@link createVmMap}. */
export interface VmMapOptions {
  readonly client: ServerClient;
  readonly clock: AgentClock;
  readonly logger: Logger;
  /** How long the server may hold a poll. Default 30 s. */
  readonly waitSeconds?: number | undefined;
  /** Reconnect delays. Default 100 ms doubling to 10 s, ±50%. */
  readonly backoff?: Backoff | undefined;
  /** In [0, 1): jitter. Default `Math.random`. */
  readonly random?: (() => number) | undefined;
}

/** The default reconnect backoff of the sync loop. */
export const SYNC_BACKOFF: Backoff = { initialMs: 100, maxMs: 10_000 };
/** Pause after an answer that brought nothing new, so a server that answers at once is not hammered. */
const IDLE_PAUSE_MS = 250;
const MAPPED_V4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * One spelling per address, so a socket's `remoteAddress` finds the address ARM recorded (the
 * thorough form for what operators typed; IMDS's hot path uses the cheap `normaliseAddress` of
 * src/wire/imds/address.ts on socket addresses, which Node already gives canonically): IPv4
 * as dotted quad (also from the IPv4-mapped `::ffff:a.b.c.d` or `::ffff:xxxx:xxxx`), IPv6 in
 * lower-case compressed form (RFC 5952) without zone or brackets. Anything else is trimmed and
 * lower-cased.
 */
export function canonicalAddress(address: string): string {
  let a = address.trim().toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return a;
  const compressed = new URL(`http://[${a}]/`).hostname.slice(1, -1);
  const mapped = MAPPED_V4.exec(compressed);
  if (mapped === null) return compressed;
  const high = parseInt(mapped[1] ?? '0', 16);
  const low = parseInt(mapped[2] ?? '0', 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** Distinct strings kept for sharing before the pool starts again (a bound, not a working size). */
const STRING_POOL_LIMIT = 4096;

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Makes a VM record given to the map share the strings that repeat across a host's VMs
 * (subscription, group, location, size, OS, kinds, tenant; a system-assigned identity's ARM id is
 * the VM's own), in place: a sync answer parsed from JSON holds a copy of each per VM, about a
 * quarter of a record's size at 10,000 VMs. The map owns the records it is given; values never
 * change, only which copy of an equal string a field points at. Frozen records are left alone.
 */
function shareStrings(vm: AgentVm, pool: Map<string, string>): void {
  if (Object.isFrozen(vm)) return;
  const shared = (value: string): string => {
    const held = pool.get(value);
    if (held !== undefined) return held;
    if (pool.size >= STRING_POOL_LIMIT) pool.clear();
    pool.set(value, value);
    return value;
  };
  const record = vm as Writable<AgentVm>;
  record.kind = shared(vm.kind) as AgentVm['kind'];
  record.subscriptionId = shared(vm.subscriptionId);
  record.resourceGroup = shared(vm.resourceGroup);
  record.location = shared(vm.location);
  record.scaleSetName = shared(vm.scaleSetName);
  record.vmSize = shared(vm.vmSize);
  record.osType = shared(vm.osType);
  for (const identity of vm.identities) {
    if (Object.isFrozen(identity)) continue;
    const held = identity as Writable<AgentIdentity>;
    held.kind = shared(identity.kind) as AgentIdentity['kind'];
    held.tenantId = shared(identity.tenantId);
    if (identity.resourceId === vm.id) held.resourceId = vm.id;
  }
}

/**
 * Makes the VM map. Until {@link VmMap.start} it only changes through {@link VmMap.apply}. The
 * loop long-polls `GET /vms?after=N&wait=S`; on an error it keeps the last good map and retries
 * with jittered exponential backoff. An address claimed by two VMs maps to neither (logged): one
 * VM must never receive another's identity.
 */
export function createVmMap(options: VmMapOptions): VmMap {
  const { client, clock, logger } = options;
  const waitSeconds = options.waitSeconds ?? 30;
  const backoff = options.backoff ?? SYNC_BACKOFF;
  const random = options.random ?? Math.random;
  const vms = new Map<string, AgentVm>();
  let byAddress = new Map<string, AgentVm>();
  let identityCounts = new Map<string, number>();
  const strings = new Map<string, string>();
  const listeners = new Set<(change: VmMapChange) => void>();
  let position = 0;
  let connected = false;
  let syncedOnce = false;
  let resolveSynced: () => void = () => undefined;
  const firstSync = new Promise<void>((resolve) => {
    resolveSynced = resolve;
  });
  let abort: AbortController | undefined;
  let loop: Promise<void> | undefined;

  const reindex = (): void => {
    const addresses = new Map<string, AgentVm | null>();
    const counts = new Map<string, number>();
    for (const vm of vms.values()) {
      for (const raw of vm.addresses) {
        const address = canonicalAddress(raw);
        const holder = addresses.get(address);
        if (holder === undefined) addresses.set(address, vm);
        else if (holder !== null && holder.id.toLowerCase() !== vm.id.toLowerCase()) {
          logger.warn(
            { address, vms: [holder.id, vm.id] },
            'two VMs claim one address; calls from it are refused',
          );
          addresses.set(address, null);
        }
      }
      for (const identity of vm.identities) {
        counts.set(identity.principalId, (counts.get(identity.principalId) ?? 0) + 1);
      }
    }
    const next = new Map<string, AgentVm>();
    for (const [address, vm] of addresses) if (vm !== null) next.set(address, vm);
    byAddress = next;
    identityCounts = counts;
  };

  const apply = (sync: VmSync): VmMapChange => {
    const before = identityCounts;
    const changed: { current: AgentVm; previous?: AgentVm }[] = [];
    const removed: AgentVm[] = [];
    if (sync.full) {
      const seen = new Set<string>();
      for (const vm of sync.vms) seen.add(vm.id.toLowerCase());
      for (const [key, vm] of vms) {
        if (!seen.has(key)) {
          removed.push(vm);
          vms.delete(key);
        }
      }
    } else {
      for (const id of sync.removed) {
        const key = id.toLowerCase();
        const vm = vms.get(key);
        if (vm !== undefined) {
          removed.push(vm);
          vms.delete(key);
        }
      }
    }
    if (sync.full) strings.clear();
    for (const vm of sync.vms) {
      shareStrings(vm, strings);
      const key = vm.id.toLowerCase();
      const previous = vms.get(key);
      vms.set(key, vm);
      changed.push(previous === undefined ? { current: vm } : { current: vm, previous });
    }
    reindex();
    const identitiesGone = [...before.keys()].filter((p) => !identityCounts.has(p));
    position = sync.position;
    const change: VmMapChange = { full: sync.full, changed, removed, identitiesGone };
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        logger.error({ err: error }, 'a VM map listener failed');
      }
    }
    return change;
  };

  const run = async (signal: AbortSignal): Promise<void> => {
    let attempt = 0;
    // A function, so the checks after each await read the signal again.
    const aborted = (): boolean => signal.aborted;
    while (!aborted()) {
      try {
        // At start and after an error, ask without waiting: the map (and whether the server is
        // back) is known at once; afterwards hold the poll open until something changes.
        const sync = await client.syncVms(position, connected ? waitSeconds : 0, signal);
        if (aborted()) break;
        const nothingNew =
          !sync.full &&
          sync.position === position &&
          sync.vms.length === 0 &&
          sync.removed.length === 0;
        const fullRepeat = sync.full && syncedOnce && sync.position === position;
        if (!connected) logger.info({ position: sync.position }, 'VM sync connected');
        connected = true;
        attempt = 0;
        if (!(syncedOnce && (nothingNew || fullRepeat))) apply(sync);
        if (!syncedOnce) {
          syncedOnce = true;
          resolveSynced();
        }
        if (nothingNew || fullRepeat) await sleep(clock, IDLE_PAUSE_MS, signal);
      } catch (error) {
        if (aborted()) break;
        const delay = backoffDelay(attempt, backoff, random);
        attempt += 1;
        if (connected || attempt === 1) {
          logger.warn(
            { err: error, retryInMs: delay, transient: isTransient(error) },
            'VM sync failed; keeping the last map and reconnecting',
          );
        }
        connected = false;
        await sleep(clock, delay, signal);
      }
    }
  };

  return {
    vmFor(address) {
      return byAddress.get(address) ?? byAddress.get(canonicalAddress(address));
    },
    byId: (id) => vms.get(id.toLowerCase()),
    all: () => vms.values(),
    hasIdentity: (principalId) => identityCounts.has(principalId),
    identities: () => new Set(identityCounts.keys()),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    apply,
    snapshot: () => ({ position, full: true, vms: [...vms.values()], removed: [] }),
    get position() {
      return position;
    },
    get connected() {
      return connected;
    },
    synced: () => firstSync,
    start() {
      if (loop !== undefined) return;
      abort = new AbortController();
      loop = run(abort.signal);
    },
    async stop() {
      abort?.abort();
      await loop;
      loop = undefined;
      abort = undefined;
      connected = false;
    },
  };
}
