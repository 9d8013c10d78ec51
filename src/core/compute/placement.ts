// Where a VM or scale-set instance may be placed: on a host that exists, at addresses no other VM there holds.
import type { Resource } from '../model.js';
import type { Store } from '../ports.js';
import { hostOf, privateAddressesOf } from '../resources/change-feed.js';
import { addressTaken, unknownHost } from './compute-errors.js';
import { canonicalPrivateAddress } from './private-address.js';

/** Resources read per page while looking for an address's holder. */
const SCAN_PAGE = 500;

/**
 * Refuses the write of `resource` (a VM or scale-set instance, as it is about to be stored, over
 * `previous`) when it is newly placed on a host that does not exist (`unknown_host`), or when
 * another VM or instance placed on the same host (`properties.tessera.hostId`, compared exactly,
 * as the agent does) lists one of its private addresses in any spelling
 * ({@link canonicalPrivateAddress}; `address_taken`, naming the holder): the agent would refuse
 * both, so one VM's owner could switch off another's identities. Both are
 * `ComputeProblemError`s, so the transaction rolls back; a surface words them once it is over.
 *
 * Call it in the write's transaction, after the change is recorded with `noteComputeChanged`:
 * the change feed's append holds other writers of compute changes back until this transaction
 * commits (`ChangeFeed.append`: an advisory lock on PostgreSQL, SQLite's single writer), and
 * PostgreSQL's read-committed statements each see what committed before them, so of two writes
 * claiming one address the later one sees the earlier and is refused. Reads the host's VMs and
 * instances a page at a time through the store's index by host: O(VMs on that host).
 */
export async function checkPlacement(
  tx: Store,
  resource: Resource,
  previous: Resource | undefined,
): Promise<void> {
  const hostId = hostOf(resource);
  // A new or changed placement must name a registered host by its id; a VM already on a host
  // that was deleted since stays editable (it is "not placed": IMDS serves it nowhere).
  if (
    hostId !== null &&
    (previous === undefined || hostOf(previous) !== hostId) &&
    (await tx.hosts.get(hostId)) === undefined
  ) {
    throw unknownHost(hostId);
  }
  const given = privateAddressesOf(resource);
  if (hostId === null || given.length === 0) return;
  const wanted = new Map(given.map((address) => [canonicalPrivateAddress(address), address]));
  const taken = await findHolder(tx, hostId, wanted, resource.id);
  if (taken !== undefined) throw addressTaken(resource.id, taken.address, taken.holder);
}

/** The first VM or instance on `hostId`, other than `selfId`, holding one of `wanted`. */
async function findHolder(
  store: Store,
  hostId: string,
  wanted: ReadonlyMap<string, string>,
  selfId: string,
): Promise<{ holder: Resource; address: string } | undefined> {
  const self = selfId.toLowerCase();
  let cursor: string | undefined;
  do {
    const page = await store.resources.listPlacedOn(hostId, { limit: SCAN_PAGE, cursor });
    for (const holder of page.items) {
      if (holder.id.toLowerCase() === self) continue;
      for (const held of privateAddressesOf(holder)) {
        const address = wanted.get(canonicalPrivateAddress(held));
        if (address !== undefined) return { holder, address };
      }
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return undefined;
}
