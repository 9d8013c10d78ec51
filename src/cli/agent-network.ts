// `tessera agent network`: sets up or tears down the host side of the VM network (bridge, 169.254.169.254, anti-spoofing).
import type { Command } from 'commander';
import { allowPort, CommandError, networkDown, networkUp, removePort } from '../agent/network.js';
import { DEFAULT_BRIDGE } from '../agent/network-rules.js';
import { configInvalid } from '../core/errors.js';

/** Options of `tessera agent network up|down`. */
export interface NetworkCommandOptions {
  readonly bridge: string;
  readonly antiSpoofing?: boolean | undefined;
}

/** Options of `tessera agent network allow|revoke`. */
export interface PortCommandOptions {
  readonly port: string;
  readonly address?: string | undefined;
}

/** A failing `ip`/`nft` becomes one line on stderr and exit status 2, like other config errors. */
async function commands<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CommandError) {
      const hint = error.missing
        ? ' (install iproute2 and nftables)'
        : / not permitted|permission/i.test(error.stderr)
          ? ' (needs root or CAP_NET_ADMIN)'
          : '';
      throw configInvalid(`${error.message}${hint}`, error);
    }
    throw error;
  }
}

/** `tessera agent network up`: prints what it did, one line per change. */
export async function runNetworkUp(options: NetworkCommandOptions): Promise<void> {
  const result = await commands(() =>
    networkUp({ bridge: options.bridge, antiSpoofing: options.antiSpoofing === true }),
  );
  process.stdout.write(
    [
      `bridge ${result.bridge}: ${result.createdBridge ? 'created' : 'present'}, up`,
      `169.254.169.254/32 on ${result.bridge}: ${result.addedAddress ? 'added' : 'present'}`,
      `anti-spoofing: ${result.antiSpoofing ? 'on (allow VM ports with `tessera agent network allow`)' : 'off'}`,
      `run the agent with agent.imds.host=169.254.169.254 and agent.imds.port=80`,
      '',
    ].join('\n'),
  );
}

/** `tessera agent network down`. */
export async function runNetworkDown(options: NetworkCommandOptions): Promise<void> {
  const result = await commands(() => networkDown({ bridge: options.bridge }));
  process.stdout.write(
    [
      `nftables tables removed: ${String(result.removedTables)}`,
      `bridge ${result.bridge}: ${
        result.removedBridge
          ? 'removed'
          : result.removedAddress
            ? 'not ours, kept; 169.254.169.254/32 removed'
            : 'nothing of ours'
      }`,
      '',
    ].join('\n'),
  );
}

/** `tessera agent network allow`. */
export async function runNetworkAllow(options: PortCommandOptions): Promise<void> {
  const addresses = await commands(() =>
    allowPort({ port: options.port, address: options.address }),
  );
  process.stdout.write(`${options.port}: allowed ${addresses.join(', ')}\n`);
}

/** `tessera agent network revoke`. */
export async function runNetworkRevoke(options: PortCommandOptions): Promise<void> {
  const addresses = await commands(() =>
    removePort({ port: options.port, address: options.address }),
  );
  process.stdout.write(
    `${options.port}: revoked ${addresses.length === 0 ? 'nothing' : addresses.join(', ')}\n`,
  );
}

/**
 * Adds `network up|down|allow|revoke` under `tessera agent`. Pass the `agent` command itself, or
 * the program once `agent` is registered on it (it is looked up by name); throws otherwise.
 */
export function registerAgentNetworkCommand(command: Command): void {
  const agent =
    command.name() === 'agent' ? command : command.commands.find((c) => c.name() === 'agent');
  if (agent === undefined) throw new Error('register `tessera agent` before `agent network`');
  const network = agent
    .command('network')
    .description(
      'the host side of the VM network: a bridge carrying 169.254.169.254 (root or CAP_NET_ADMIN)',
    );
  network
    .command('up')
    .description('create the bridge (if absent), put 169.254.169.254/32 on it, bring it up')
    .option('--bridge <name>', 'the bridge the VM ports are on', DEFAULT_BRIDGE)
    .option(
      '--anti-spoofing',
      'install nftables rules: a VM address only from its own port; 169.254.169.254 only via the bridge',
    )
    .action(async (options: NetworkCommandOptions) => {
      await runNetworkUp(options);
    });
  network
    .command('down')
    .description('remove what `up` made: our nftables tables, and the bridge if `up` created it')
    .option('--bridge <name>', 'the bridge the VM ports are on', DEFAULT_BRIDGE)
    .action(async (options: NetworkCommandOptions) => {
      await runNetworkDown(options);
    });
  network
    .command('allow')
    .description("allow a VM's address as a source on its port (run from a libvirt/container hook)")
    .requiredOption('--port <ifname>', "the VM's tap or veth device on the bridge")
    .requiredOption('--address <ipv4>', "the VM's address")
    .action(async (options: PortCommandOptions) => {
      await runNetworkAllow(options);
    });
  network
    .command('revoke')
    .description("withdraw a port's allowed addresses (run when the VM stops)")
    .requiredOption('--port <ifname>', "the VM's tap or veth device on the bridge")
    .option('--address <ipv4>', 'only this address (default: all of the port)')
    .action(async (options: PortCommandOptions) => {
      await runNetworkRevoke(options);
    });
}
