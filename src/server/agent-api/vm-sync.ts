// `GET /vms`: the VMs on a host, in full or what changed since a feed position, held open until something changes.
import type { Resource } from '../../core/model.js';
import type { Clock, Store } from '../../core/ports.js';
import {
  hostOf,
  SCALE_SET_INSTANCE_TYPE,
  VM_RESOURCE_TYPE,
} from '../../core/resources/change-feed.js';
import { invalidParameter } from '../../core/errors.js';
import { VM_SYNC_MAX_WAIT_SECONDS, type AgentVm, type VmSync } from '../../wire/agent-api.js';
import { createAgentVmReader, isPlacedOn, readAgentVmsInBulk } from './agent-vm.js';
import type { ChangeSignal } from './change-signal.js';

/** Most feed entries one incremental answer covers; the agent asks again from its position. */
export const SYNC_BATCH = 1000;
const SCAN_PAGE = 500;

/** The query of `GET /vms`, checked. */
export interface VmSyncQuery {
  readonly after: number;
  readonly waitSeconds: number;
}

/**
 * Reads `after` (a feed position: a whole number, default 0) and `wait` (whole seconds from 0 to
 * {@link VM_SYNC_MAX_WAIT_SECONDS}, default 0). Fails with `InvalidParameter` (400) naming the
 * parameter.
 */
export function parseVmSyncQuery(
  query: Readonly<Record<string, string | string[] | undefined>>,
): VmSyncQuery {
  const read = (name: string, max: number): number => {
    const value = query[name];
    if (value === undefined || value === '') return 0;
    if (typeof value !== 'string' || !/^\d{1,16}$/.test(value) || Number(value) > max) {
      throw invalidParameter(
        name,
        `The query parameter '${name}' must be a whole number from 0 to ${max}.`,
      );
    }
    return Number(value);
  };
  return {
    after: read('after', Number.MAX_SAFE_INTEGER),
    waitSeconds: read('wait', VM_SYNC_MAX_WAIT_SECONDS),
  };
}

/** What {@link readVmSync} found, and whether it has nothing the agent does not know. */
interface SyncRound {
  readonly sync: VmSync;
  readonly quiet: boolean;
}

/**
 * One answer for host `hostId` at position `after`, without waiting.
 *
 * Full (`after` 0, below the retained feed, or beyond its end, which only a reset database
 * gives): every VM and instance placed on the host, at the feed's latest position read before
 * the scan, so a change made during the scan is sent again next time rather than lost.
 *
 * Incremental: the feed entries for the host after `after` (at most {@link SYNC_BATCH}); each
 * named resource is read again and is in `vms` if it is still on the host, else in `removed`.
 * With fewer entries than the batch the position moves to the feed's latest (read before the
 * entries: writers commit in sequence order, so nothing for this host can appear below it), which
 * keeps an idle host's position inside the retained feed.
 */
export async function readVmSync(store: Store, hostId: string, after: number): Promise<SyncRound> {
  const { oldest, latest } = await store.changes.bounds();
  const read = createAgentVmReader(store);
  if (after === 0 || after < oldest - 1 || after > latest) {
    const vms = await readAgentVmsInBulk(store, await placedOn(store, hostId));
    // At start with an empty feed, an empty answer tells the agent nothing it does not know.
    const quiet = after === 0 && latest === 0 && vms.length === 0;
    return { sync: { position: latest, full: true, vms, removed: [] }, quiet };
  }
  const entries = await store.changes.since(hostId, after, SYNC_BATCH);
  const last = entries.at(-1)?.seq ?? after;
  const position = entries.length === SYNC_BATCH ? last : Math.max(latest, last, after);
  const named = new Map<string, string>();
  for (const entry of entries) named.set(entry.resourceId.toLowerCase(), entry.resourceId);
  const vms: AgentVm[] = [];
  const removed: string[] = [];
  for (const id of named.values()) {
    const resource = await store.resources.get(id);
    if (resource !== undefined && isPlacedOn(resource, hostId)) vms.push(await read(resource));
    else removed.push(id);
  }
  return { sync: { position, full: false, vms, removed }, quiet: entries.length === 0 };
}

/**
 * {@link readVmSync}, held open for up to `waitSeconds` while it has nothing new: it wakes on the
 * change signal (an ARM write here, or the feed growing through another replica) and looks again.
 * `abort` (the client went away, the server is closing) ends the wait with the answer so far.
 */
export async function waitForVmSync(
  deps: { readonly store: Store; readonly clock: Clock; readonly signal: ChangeSignal },
  hostId: string,
  query: VmSyncQuery,
  abort: AbortSignal,
): Promise<VmSync> {
  const deadline = deps.clock.now() + query.waitSeconds * 1000;
  let after = query.after;
  for (;;) {
    const generation = deps.signal.generation;
    const { sync, quiet } = await readVmSync(deps.store, hostId, after);
    const remaining = deadline - deps.clock.now();
    if (!quiet || remaining <= 0 || abort.aborted || deps.signal.closed) return sync;
    await deps.signal.wait({ latest: sync.position, generation }, remaining, abort);
    after = sync.position;
  }
}

/**
 * Every VM and scale-set instance placed on `hostId`, by scanning both types across all
 * subscriptions page by page: O(VMs in the installation) per full sync, which happens when an
 * agent starts or has fallen behind the retained feed; incremental syncs read only the feed.
 */
async function placedOn(store: Store, hostId: string): Promise<Resource[]> {
  const placed: Resource[] = [];
  for (const type of [VM_RESOURCE_TYPE, SCALE_SET_INSTANCE_TYPE]) {
    let cursor: string | undefined;
    do {
      const page = await store.resources.list({ type }, { limit: SCAN_PAGE, cursor });
      placed.push(...page.items.filter((resource) => hostOf(resource) === hostId));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }
  return placed;
}
