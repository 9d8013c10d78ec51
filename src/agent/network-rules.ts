// The pure half of the host network for VMs: name and address checks, the `ip` arguments and nftables scripts.
import { isIP, isIPv4 } from 'node:net';
import { configInvalid } from '../core/errors.js';

/** The link-local address IMDS answers on, as Azure's. */
export const IMDS_ADDRESS = '169.254.169.254';

/** The bridge `tessera agent network up` makes when no name is given. */
export const DEFAULT_BRIDGE = 'tessera0';

/** The name of our nftables tables (one in the `bridge` family, one in `inet`). */
export const DEFAULT_TABLE = 'tessera';

/**
 * The alias `up` gives a bridge it created. `down` deletes only a bridge carrying it, so an
 * operator's own bridge passed with `--bridge` loses our address but is never deleted.
 */
export const BRIDGE_ALIAS = 'tessera-managed';

const IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;
const TABLE_NAME = /^[a-zA-Z][a-zA-Z0-9_]{0,31}$/;

/**
 * Returns `name` when it is a usable Linux interface name (1-15 of letters, digits, `_`, `.`,
 * `-`; IFNAMSIZ is 16 with the NUL), else throws `ConfigInvalid`. Checked before any name reaches
 * `ip` or `nft`, so a name can never be read as an option or break out of a quoted nft string.
 */
export function checkInterfaceName(name: string, what = 'interface name'): string {
  if (!IFNAME.test(name) || name === '.' || name === '..') {
    throw configInvalid(
      `${what} ${JSON.stringify(name)} is not a valid interface name (1-15 of a-z A-Z 0-9 _ . -)`,
    );
  }
  return name;
}

/** Returns `name` when it is a valid name for our nftables tables, else throws `ConfigInvalid`. */
export function checkTableName(name: string): string {
  if (!TABLE_NAME.test(name)) {
    throw configInvalid(
      `nftables table ${JSON.stringify(name)} is not valid (a letter, then up to 31 of a-z A-Z 0-9 _)`,
    );
  }
  return name;
}

/**
 * Returns `address` when it is an IPv4 address a VM can own on the bridge, else throws
 * `ConfigInvalid`. IPv6 is refused: IMDS is IPv4-only (169.254.169.254), so only IPv4 sources
 * can name a caller. Unspecified, broadcast, multicast, loopback and the IMDS address itself are
 * refused too: none of them is a VM's own.
 */
export function checkVmAddress(address: string): string {
  if (isIP(address) === 0) {
    throw configInvalid(`${JSON.stringify(address)} is not an IP address`);
  }
  if (!isIPv4(address)) {
    throw configInvalid(
      `${address}: only IPv4 addresses can be allowed (IMDS answers on IPv4 only)`,
    );
  }
  const [a] = address.split('.').map(Number);
  if (
    address === '0.0.0.0' ||
    address === '255.255.255.255' ||
    address === IMDS_ADDRESS ||
    a === 127 ||
    (a !== undefined && a >= 224)
  ) {
    throw configInvalid(`${address} cannot be a VM's address`);
  }
  // Canonical dotted form (isIPv4 already refuses leading zeros), so set elements compare equal.
  return address;
}

/** `ip` argument lists, one per step of `up` and `down`. */
export const ipArgs = {
  show: (bridge: string): string[] => ['-j', '-d', 'link', 'show', 'dev', bridge],
  addresses: (bridge: string): string[] => ['-j', '-4', 'address', 'show', 'dev', bridge],
  create: (bridge: string): string[] => ['link', 'add', 'name', bridge, 'type', 'bridge'],
  mark: (bridge: string): string[] => ['link', 'set', 'dev', bridge, 'alias', BRIDGE_ALIAS],
  addAddress: (bridge: string): string[] => ['address', 'add', `${IMDS_ADDRESS}/32`, 'dev', bridge],
  removeAddress: (bridge: string): string[] => [
    'address',
    'del',
    `${IMDS_ADDRESS}/32`,
    'dev',
    bridge,
  ],
  setUp: (bridge: string): string[] => ['link', 'set', 'dev', bridge, 'up'],
  remove: (bridge: string): string[] => ['link', 'del', 'dev', bridge],
} as const;

/** What `ip -j -d link show` says about one link, as far as we need it. */
export interface LinkInfo {
  readonly name: string;
  readonly kind: string | undefined;
  readonly alias: string | undefined;
}

/** Reads the output of `ip -j -d link show dev NAME`; throws on anything else. */
export function parseLinkInfo(json: string): LinkInfo {
  const links = JSON.parse(json) as unknown;
  const link = Array.isArray(links) ? (links[0] as Record<string, unknown> | undefined) : undefined;
  if (link === undefined || typeof link.ifname !== 'string') {
    throw new Error('unexpected output of `ip -j link show`');
  }
  const info = link.linkinfo as { info_kind?: unknown } | undefined;
  return {
    name: link.ifname,
    kind: typeof info?.info_kind === 'string' ? info.info_kind : undefined,
    alias: typeof link.ifalias === 'string' ? link.ifalias : undefined,
  };
}

/** True when `ip -j -4 address show dev NAME` lists 169.254.169.254/32. */
export function hasImdsAddress(json: string): boolean {
  const links = JSON.parse(json) as { addr_info?: { local?: string; prefixlen?: number }[] }[];
  return links.some((l) =>
    (l.addr_info ?? []).some((a) => a.local === IMDS_ADDRESS && a.prefixlen === 32),
  );
}

/**
 * The nftables script of `up --anti-spoofing`, run with `nft -f -` as one transaction. It is
 * idempotent: tables, sets and chains are added (a no-op when present, so the allowed ports
 * survive a second `up`), and the chains are flushed and refilled.
 *
 * - `bridge <table>`, hook prerouting (every frame a bridge port receives, before the bridge
 *   forwards it or hands it to the host): a frame whose IPv4 or ARP sender address belongs to a
 *   VM (`vm_addrs4`) but which came in on a port other than that VM's (`allowed4`) is dropped,
 *   whatever the port; a port that has allowed addresses (`vm_ports`) may send IPv4 and ARP only
 *   from them (plus DHCP discovery and ARP probes from 0.0.0.0), and no VLAN-tagged frames. The
 *   kernel may lack `meta ibrname`, so the rules name ports, not the bridge.
 * - `inet <table>`, hook input: packets to 169.254.169.254 that did not arrive on the bridge
 *   (another interface, or the host itself over `lo`) are dropped.
 */
export function antiSpoofingScript(bridge: string, table: string): string {
  const b = `bridge ${table}`;
  const i = `inet ${table}`;
  return [
    `add table ${b}`,
    `add set ${b} vm_ports { type ifname; }`,
    `add set ${b} vm_addrs4 { type ipv4_addr; }`,
    `add set ${b} allowed4 { type ifname . ipv4_addr; }`,
    `add chain ${b} prerouting { type filter hook prerouting priority -200; policy accept; }`,
    `add chain ${b} vm_port`,
    `flush chain ${b} prerouting`,
    `flush chain ${b} vm_port`,
    `add rule ${b} prerouting ether type ip ip saddr @vm_addrs4 iifname . ip saddr != @allowed4 drop`,
    `add rule ${b} prerouting ether type arp arp saddr ip @vm_addrs4 iifname . arp saddr ip != @allowed4 drop`,
    `add rule ${b} prerouting iifname @vm_ports jump vm_port`,
    `add rule ${b} vm_port ether type ip iifname . ip saddr @allowed4 accept`,
    `add rule ${b} vm_port ether type ip ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept`,
    `add rule ${b} vm_port ether type arp arp saddr ip 0.0.0.0 accept`,
    `add rule ${b} vm_port ether type arp iifname . arp saddr ip @allowed4 accept`,
    `add rule ${b} vm_port ether type { ip, arp, 8021q, 8021ad } drop`,
    `add table ${i}`,
    `add chain ${i} input { type filter hook input priority -200; policy accept; }`,
    `flush chain ${i} input`,
    `add rule ${i} input ip daddr ${IMDS_ADDRESS} iifname != "${bridge}" drop`,
    '',
  ].join('\n');
}

/** The nftables script that removes our two tables (those named `table` of the list given). */
export function removeTablesScript(table: string, present: readonly TableRef[]): string {
  return present
    .filter((t) => t.name === table && (t.family === 'bridge' || t.family === 'inet'))
    .map((t) => `delete table ${t.family} ${t.name}\n`)
    .join('');
}

/** A table named in `nft -j list tables`. */
export interface TableRef {
  readonly family: string;
  readonly name: string;
}

/** Reads `nft -j list tables`. */
export function parseTables(json: string): TableRef[] {
  if (json.trim() === '') return [];
  const parsed = JSON.parse(json) as { nftables?: { table?: TableRef }[] };
  return (parsed.nftables ?? []).flatMap((e) =>
    e.table === undefined ? [] : [{ family: e.table.family, name: e.table.name }],
  );
}

/** One `port . address` element of the `allowed4` set. */
export interface PortAddress {
  readonly port: string;
  readonly address: string;
}

/** Reads `nft -j list set bridge <table> allowed4`. */
export function parseAllowed(json: string): PortAddress[] {
  const parsed = JSON.parse(json) as {
    nftables?: { set?: { elem?: { concat?: [string, string] }[] } }[];
  };
  const set = (parsed.nftables ?? []).find((e) => e.set !== undefined)?.set;
  return (set?.elem ?? []).flatMap((e) =>
    e.concat === undefined ? [] : [{ port: e.concat[0], address: e.concat[1] }],
  );
}

const element = (e: PortAddress): string => `"${e.port}" . ${e.address}`;

/**
 * The nftables transaction that makes `allowed` (the current `allowed4`) into `next`, keeping
 * `vm_ports` and `vm_addrs4` equal to the ports and addresses of `next`. Empty when nothing
 * changes.
 */
export function allowedChangeScript(
  table: string,
  allowed: readonly PortAddress[],
  next: readonly PortAddress[],
): string {
  const b = `bridge ${table}`;
  const key = (e: PortAddress): string => `${e.port} ${e.address}`;
  const nextKeys = new Set(next.map(key));
  const nowKeys = new Set(allowed.map(key));
  const lines: string[] = [];
  const diff = <T>(from: Iterable<T>, to: ReadonlySet<T>): T[] =>
    [...new Set(from)].filter((x) => !to.has(x));
  const ports = (l: readonly PortAddress[]): Set<string> => new Set(l.map((e) => e.port));
  const addrs = (l: readonly PortAddress[]): Set<string> => new Set(l.map((e) => e.address));

  for (const e of allowed.filter((x) => !nextKeys.has(key(x)))) {
    lines.push(`delete element ${b} allowed4 { ${element(e)} }`);
  }
  for (const p of diff(ports(allowed), ports(next))) {
    lines.push(`delete element ${b} vm_ports { "${p}" }`);
  }
  for (const a of diff(addrs(allowed), addrs(next))) {
    lines.push(`delete element ${b} vm_addrs4 { ${a} }`);
  }
  for (const e of next.filter((x) => !nowKeys.has(key(x)))) {
    lines.push(`add element ${b} allowed4 { ${element(e)} }`);
  }
  for (const p of diff(ports(next), ports(allowed))) {
    lines.push(`add element ${b} vm_ports { "${p}" }`);
  }
  for (const a of diff(addrs(next), addrs(allowed))) {
    lines.push(`add element ${b} vm_addrs4 { ${a} }`);
  }
  return lines.map((l) => `${l}\n`).join('');
}
