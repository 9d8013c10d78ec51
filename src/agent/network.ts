// The host side of the VM network: the bridge carrying 169.254.169.254 and the nftables anti-spoofing rules.
import { execFile } from 'node:child_process';
import { configInvalid } from '../core/errors.js';
import {
  allowedChangeScript,
  antiSpoofingScript,
  BRIDGE_ALIAS,
  checkInterfaceName,
  checkTableName,
  checkVmAddress,
  DEFAULT_BRIDGE,
  DEFAULT_TABLE,
  hasImdsAddress,
  ipArgs,
  type LinkInfo,
  parseAllowed,
  parseLinkInfo,
  parseTables,
  type PortAddress,
  removeTablesScript,
} from './network-rules.js';

/** What a command run by a {@link CommandRunner} printed. */
export interface CommandOutput {
  readonly stdout: string;
}

/**
 * Runs `file` (`ip` or `nft`) with `args` and no shell, writing `input` to its stdin when given.
 * Rejects with a {@link CommandError} when the command exits non-zero or cannot be started.
 */
export type CommandRunner = (
  file: 'ip' | 'nft',
  args: readonly string[],
  input?: string,
) => Promise<CommandOutput>;

/** A command that failed: which, with what on stderr, and `missing` when it is not installed. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
    readonly missing: boolean,
    options?: ErrorOptions,
  ) {
    super(`${command}: ${missing ? 'not installed' : stderr.trim() || 'failed'}`, options);
    this.name = 'CommandError';
  }
}

/** The {@link CommandRunner} that runs the real commands with `execFile`. */
export const execRunner: CommandRunner = (file, args, input) =>
  new Promise((resolve, reject) => {
    const child = execFile(file, [...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ stdout });
        return;
      }
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new CommandError(`${file} ${args.join(' ')}`, stderr, missing, { cause: error }));
    });
    // A command that exits without reading its stdin fails on its own; the EPIPE adds nothing.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });

/** Options of {@link networkUp} and {@link networkDown}. */
export interface NetworkOptions {
  /** The bridge the VMs' ports are on. Default `tessera0`. */
  readonly bridge?: string | undefined;
  /** `up` only: install the nftables rules (true) or remove ours if present (false, default). */
  readonly antiSpoofing?: boolean | undefined;
  /** The name of our nftables tables. Default `tessera`. */
  readonly table?: string | undefined;
  /** How commands run (tests pass a fake). Default {@link execRunner}. */
  readonly run?: CommandRunner | undefined;
}

/** What {@link networkUp} did; every flag false on a second run. */
export interface NetworkUpResult {
  readonly bridge: string;
  readonly createdBridge: boolean;
  readonly addedAddress: boolean;
  readonly antiSpoofing: boolean;
}

/** What {@link networkDown} removed. */
export interface NetworkDownResult {
  readonly bridge: string;
  readonly removedBridge: boolean;
  readonly removedAddress: boolean;
  readonly removedTables: number;
}

/** The bridge's link, or undefined when there is no link of that name. */
async function findLink(run: CommandRunner, bridge: string): Promise<LinkInfo | undefined> {
  try {
    return parseLinkInfo((await run('ip', ipArgs.show(bridge))).stdout);
  } catch (error) {
    if (error instanceof CommandError && !error.missing && /does not exist/i.test(error.stderr)) {
      return undefined;
    }
    throw error;
  }
}

/** Our tables present now; none when nft is not installed (nothing of ours can exist then). */
async function ourTables(run: CommandRunner, table: string): Promise<string> {
  try {
    return removeTablesScript(
      table,
      parseTables((await run('nft', ['-j', 'list', 'tables'])).stdout),
    );
  } catch (error) {
    if (error instanceof CommandError && error.missing) return '';
    throw error;
  }
}

function resolve(options: NetworkOptions): { bridge: string; table: string; run: CommandRunner } {
  return {
    bridge: checkInterfaceName(options.bridge ?? DEFAULT_BRIDGE, 'bridge'),
    table: checkTableName(options.table ?? DEFAULT_TABLE),
    run: options.run ?? execRunner,
  };
}

/**
 * Makes the host side for VMs, converging on the same state however often it runs: the bridge
 * (created and marked ours when absent; an existing bridge is used as it is), 169.254.169.254/32
 * on it, the bridge up, and the nftables tables of {@link antiSpoofingScript} when
 * `antiSpoofing`, or none of ours when not (the allowed ports survive a repeated `up` with
 * `antiSpoofing`). Needs CAP_NET_ADMIN. Throws `ConfigInvalid` for a bad name or when the link
 * of that name is not a bridge, and {@link CommandError} when `ip` or `nft` fails.
 */
export async function networkUp(options: NetworkOptions = {}): Promise<NetworkUpResult> {
  const { bridge, table, run } = resolve(options);
  const antiSpoofing = options.antiSpoofing ?? false;
  const link = await findLink(run, bridge);
  if (link !== undefined && link.kind !== 'bridge') {
    throw configInvalid(`${bridge} exists and is not a bridge (${link.kind ?? 'no kind'})`);
  }
  if (link === undefined) {
    await run('ip', ipArgs.create(bridge));
    await run('ip', ipArgs.mark(bridge));
  }
  const addedAddress = !hasImdsAddress((await run('ip', ipArgs.addresses(bridge))).stdout);
  if (addedAddress) await run('ip', ipArgs.addAddress(bridge));
  await run('ip', ipArgs.setUp(bridge));
  if (antiSpoofing) {
    await run('nft', ['-f', '-'], antiSpoofingScript(bridge, table));
  } else {
    const script = await ourTables(run, table);
    if (script !== '') await run('nft', ['-f', '-'], script);
  }
  return { bridge, createdBridge: link === undefined, addedAddress, antiSpoofing };
}

/**
 * Removes what {@link networkUp} makes and nothing else: our two nftables tables, then the bridge
 * if `up` created it (its alias says so; the ports on it are released, not deleted), else only
 * 169.254.169.254/32 from it. Safe to run again. Throws like {@link networkUp}.
 */
export async function networkDown(options: NetworkOptions = {}): Promise<NetworkDownResult> {
  const { bridge, table, run } = resolve(options);
  const script = await ourTables(run, table);
  if (script !== '') await run('nft', ['-f', '-'], script);
  const removedTables = script.split('\n').filter((l) => l !== '').length;
  const link = await findLink(run, bridge);
  if (link === undefined || link.kind !== 'bridge') {
    return { bridge, removedBridge: false, removedAddress: false, removedTables };
  }
  if (link.alias === BRIDGE_ALIAS) {
    await run('ip', ipArgs.remove(bridge));
    return { bridge, removedBridge: true, removedAddress: true, removedTables };
  }
  const removedAddress = hasImdsAddress((await run('ip', ipArgs.addresses(bridge))).stdout);
  if (removedAddress) await run('ip', ipArgs.removeAddress(bridge));
  return { bridge, removedBridge: false, removedAddress, removedTables };
}

/** Options of {@link allowPort} and {@link removePort}. */
export interface PortOptions {
  /** The VM's port on the bridge: its tap or host-side veth device. */
  readonly port: string;
  /** `allowPort`: the address to allow. `removePort`: only this one (default: all). */
  readonly address?: string | undefined;
  readonly table?: string | undefined;
  readonly run?: CommandRunner | undefined;
}

async function listAllowed(run: CommandRunner, table: string): Promise<PortAddress[]> {
  try {
    return parseAllowed(
      (await run('nft', ['-j', 'list', 'set', 'bridge', table, 'allowed4'])).stdout,
    );
  } catch (error) {
    if (error instanceof CommandError && (error.missing || /no such file/i.test(error.stderr))) {
      throw configInvalid(
        `the anti-spoofing rules are not installed: run \`tessera agent network up --anti-spoofing\` first`,
        error,
      );
    }
    throw error;
  }
}

/**
 * Allows `address` as a source on `port` (a libvirt hook runs this when a guest starts). The
 * address is taken from any other port that had it, so it is never allowed on two ports at once;
 * from then on the port may send IPv4 and ARP only from its allowed addresses. One nftables
 * transaction; needs `up --anti-spoofing` first (else `ConfigInvalid`). Returns the port's
 * allowed addresses.
 */
export async function allowPort(options: PortOptions): Promise<string[]> {
  if (options.address === undefined) throw configInvalid('an address is required');
  const next = await allowPorts([{ port: options.port, address: options.address }], options);
  return next.filter((e) => e.port === options.port).map((e) => e.address);
}

/**
 * {@link allowPort} for many ports at once, in one nftables transaction (a host starting many
 * guests). Every name and address is checked before anything changes. Returns the whole set.
 */
export async function allowPorts(
  entries: readonly PortAddress[],
  options: { readonly table?: string | undefined; readonly run?: CommandRunner | undefined } = {},
): Promise<PortAddress[]> {
  const wanted = entries.map((e) => ({
    port: checkInterfaceName(e.port, 'port'),
    address: checkVmAddress(e.address),
  }));
  const table = checkTableName(options.table ?? DEFAULT_TABLE);
  const run = options.run ?? execRunner;
  const allowed = await listAllowed(run, table);
  // The last claim of an address wins, here as against the set.
  const claimed = new Map(wanted.map((e) => [e.address, e]));
  const next = [...allowed.filter((e) => !claimed.has(e.address)), ...claimed.values()];
  const script = allowedChangeScript(table, allowed, next);
  if (script !== '') await run('nft', ['-f', '-'], script);
  return next;
}

/**
 * Withdraws `address` (or every address) from `port` (a libvirt hook runs this when a guest
 * stops). A port with no address left is no longer restricted, and frames from it carrying a
 * VM's address are still dropped. Returns the addresses withdrawn.
 */
export async function removePort(options: PortOptions): Promise<string[]> {
  const port = checkInterfaceName(options.port, 'port');
  const address = options.address === undefined ? undefined : checkVmAddress(options.address);
  const table = checkTableName(options.table ?? DEFAULT_TABLE);
  const run = options.run ?? execRunner;
  const allowed = await listAllowed(run, table);
  const gone = (e: PortAddress): boolean =>
    e.port === port && (address === undefined || e.address === address);
  const script = allowedChangeScript(
    table,
    allowed,
    allowed.filter((e) => !gone(e)),
  );
  if (script !== '') await run('nft', ['-f', '-'], script);
  return allowed.filter(gone).map((e) => e.address);
}
