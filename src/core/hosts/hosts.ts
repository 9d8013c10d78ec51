// Agent hosts as the operator manages them: names, lookup by name or id, listing with their VM counts, deletion.
import { invalidParameter, notFound } from '../errors.js';
import type { Host } from '../model.js';
import type { Store } from '../ports.js';

/** Host names: 1-63 letters, digits, `-`, `_`, `.` (a DNS label's length). */
export const HOST_NAME_PATTERN = /^[A-Za-z0-9._-]{1,63}$/;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A host and how many VMs and scale-set instances name it in `properties.tessera.hostId`. */
export interface HostSummary {
  readonly host: Host;
  readonly vmCount: number;
}

/** Fails with `InvalidParameter` (400, target `name`) unless `name` is a valid host name. */
export function checkHostName(name: string): void {
  if (!HOST_NAME_PATTERN.test(name)) {
    throw invalidParameter(
      'name',
      `The host name '${name.slice(0, 80)}' is not valid: use 1-63 letters, digits, '-', '_' or '.'.`,
    );
  }
}

/** Every host, sorted by name (code-unit order), with one aggregate VM count read. */
export async function listHosts(store: Store): Promise<HostSummary[]> {
  const [hosts, counts] = await Promise.all([store.hosts.list(), store.hosts.countVms()]);
  return [...hosts]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((host) => ({ host, vmCount: counts.get(host.id) ?? 0 }));
}

/**
 * The host named `nameOrId`, else the host whose id it is (a name wins: a host may be named like
 * a GUID). Fails with `InvalidParameter` (400) for a value that is neither a valid name nor an id
 * and `NotFound` (404) when there is no such host.
 */
export async function findHost(store: Store, nameOrId: string): Promise<Host> {
  checkHostName(nameOrId);
  const host =
    (await store.hosts.getByName(nameOrId)) ??
    (GUID.test(nameOrId) ? await store.hosts.get(nameOrId) : undefined);
  if (host === undefined) throw notFound(`The host '${nameOrId}' does not exist.`);
  return host;
}

/** One host, by name or id, with its VM count; errors as {@link findHost}. */
export async function getHost(store: Store, nameOrId: string): Promise<HostSummary> {
  const host = await findHost(store, nameOrId);
  return { host, vmCount: (await store.hosts.countVms()).get(host.id) ?? 0 };
}

/**
 * Deletes the host, by name or id, in one transaction with the revocation of the identity
 * certificates issued to it (the store does both). Its certificate stops authenticating at once
 * (host auth reads the host on every request); the VMs and instances that name it in
 * `properties.tessera.hostId` keep that id and are not placed on any host any more. False when
 * another caller deleted it first; errors as {@link findHost}.
 */
export async function deleteHost(store: Store, nameOrId: string): Promise<boolean> {
  const host = await findHost(store, nameOrId);
  return store.transaction((tx) => tx.hosts.delete(host.id));
}
