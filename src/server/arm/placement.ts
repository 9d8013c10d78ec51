// Where a VM or scale-set instance may be placed: on a host that exists, at addresses no other VM there holds.
import type { Resource } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import {
  hostOf,
  privateAddressesOf,
  SCALE_SET_INSTANCE_TYPE,
} from '../../core/resources/change-feed.js';
import {
  canonicalPrivateAddress,
  hostNotFound,
  privateAddressAllocated,
} from '../../wire/arm/index.js';
import type { ArmRequest, ArmServices } from './context.js';

/** Resources read per page while looking for an address's holder. */
const SCAN_PAGE = 500;

// What a caller needs at the holder to be told its id.
const VM_READ = 'Microsoft.Compute/virtualMachines/read';
const INSTANCE_READ = 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read';

/** A placement on a host that does not exist; {@link explainPlacement} words it. */
class UnknownHost extends Error {
  constructor(readonly hostId: string) {
    super(`no host ${hostId}`);
  }
}

/** A refusal found in the transaction; {@link explainPlacement} words it once that is over. */
class AddressTaken extends Error {
  constructor(
    readonly resourceId: string,
    readonly address: string,
    readonly holder: Resource,
  ) {
    super(`${address} is taken by ${holder.id}`);
  }
}

/**
 * Refuses the write of `resource` (a VM or scale-set instance, as it is about to be stored, over
 * `previous`) when it is newly placed on a host that does not exist, or when another VM or instance placed on the same host (`properties.tessera.hostId`, compared exactly,
 * as the agent does) lists one of its private addresses, in any spelling
 * ({@link canonicalPrivateAddress}): the agent would refuse both, so one VM's owner could switch
 * off another's identities. Throws an error that only {@link explainPlacement} turns into
 * ARM's answer, so the transaction rolls back before anything else reads the store.
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
    throw new UnknownHost(hostId);
  }
  const given = privateAddressesOf(resource);
  if (hostId === null || given.length === 0) return;
  const wanted = new Map(given.map((address) => [canonicalPrivateAddress(address), address]));
  const taken = await findHolder(tx, hostId, wanted, resource.id);
  if (taken !== undefined) throw new AddressTaken(resource.id, taken.address, taken.holder);
}

/**
 * Runs `write` (a transaction that calls {@link checkPlacement}) and answers its refusal: 400
 * `InvalidParameter` for an unknown host, `PrivateIPAddressIsAllocated` (400) for a taken
 * address, naming the holder only to a caller who may read it. The permission is read after the
 * transaction: on SQLite it holds the only connection.
 */
export async function explainPlacement<T>(
  services: ArmServices,
  request: ArmRequest,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof UnknownHost) throw hostNotFound(error.hostId);
    if (!(error instanceof AddressTaken)) throw error;
    const { holder } = error;
    const isInstance = holder.type.toLowerCase() === SCALE_SET_INSTANCE_TYPE.toLowerCase();
    const { allowed } = await services.rbac.check({
      principalId: request.caller.objectId,
      action: isInstance ? INSTANCE_READ : VM_READ,
      scope: holder.id,
    });
    throw privateAddressAllocated(error.resourceId, error.address, allowed ? holder.id : undefined);
  }
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
