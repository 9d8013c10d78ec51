// The host network's checks, command arguments and nftables scripts, and up/down/allow against a scripted `ip`/`nft`.
import { describe, expect, it } from 'vitest';
import {
  allowPort,
  CommandError,
  type CommandRunner,
  networkDown,
  networkUp,
  removePort,
} from './network.js';
import {
  allowedChangeScript,
  antiSpoofingScript,
  checkInterfaceName,
  checkTableName,
  checkVmAddress,
  parseAllowed,
  parseLinkInfo,
} from './network-rules.js';

describe('names and addresses', () => {
  it('accepts interface names the kernel accepts and refuses the rest before any command', () => {
    for (const ok of ['tessera0', 'vnet12', 'tsr-v1h', 'br.100', 'a_b', 'x'.repeat(15)]) {
      expect(checkInterfaceName(ok)).toBe(ok);
    }
    for (const bad of ['', 'x'.repeat(16), 'tap 0', 'tap"0', 'a;b', 'a/b', '..', 'täp']) {
      expect(() => checkInterfaceName(bad)).toThrow(/not a valid interface name/);
    }
  });

  it('allows only unicast IPv4 a VM can own', () => {
    expect(checkVmAddress('10.77.0.2')).toBe('10.77.0.2');
    for (const bad of ['10.77.0.256', '010.1.1.1', 'fd00::1', 'tap0', '1.2.3.4/24']) {
      expect(() => checkVmAddress(bad)).toThrow();
    }
    for (const bad of ['0.0.0.0', '255.255.255.255', '169.254.169.254', '127.0.0.1', '224.0.0.1']) {
      expect(() => checkVmAddress(bad)).toThrow(/cannot be a VM's address/);
    }
  });

  it('refuses table names nft would misread', () => {
    expect(checkTableName('tessera')).toBe('tessera');
    for (const bad of ['', '1abc', 'a-b', 'a b', 'x'.repeat(33)]) {
      expect(() => checkTableName(bad)).toThrow(/not valid/);
    }
  });
});

describe('nftables scripts', () => {
  it('re-creates the chains but only adds the sets, so a second up keeps the allowed ports', () => {
    const script = antiSpoofingScript('tessera0', 'tessera');
    expect(script).toContain('add set bridge tessera allowed4 { type ifname . ipv4_addr; }');
    expect(script).not.toMatch(/flush set|delete set/);
    expect(script).toContain('flush chain bridge tessera prerouting');
    expect(script).toContain(
      'add rule inet tessera input ip daddr 169.254.169.254 iifname != "tessera0" drop',
    );
    expect(script).toContain('ip saddr @vm_addrs4 iifname . ip saddr != @allowed4 drop');
  });

  it('changes the three sets together, touching only what differs', () => {
    const a = { port: 'tap0', address: '10.0.0.2' };
    const b = { port: 'tap1', address: '10.0.0.3' };
    expect(allowedChangeScript('t', [a], [a])).toBe('');
    expect(allowedChangeScript('t', [a], [a, b]).trim().split('\n')).toEqual([
      'add element bridge t allowed4 { "tap1" . 10.0.0.3 }',
      'add element bridge t vm_ports { "tap1" }',
      'add element bridge t vm_addrs4 { 10.0.0.3 }',
    ]);
    // The address moves from tap0 to tap1: tap0 is no longer governed, the address stays owned.
    expect(
      allowedChangeScript('t', [a], [{ port: 'tap1', address: '10.0.0.2' }])
        .trim()
        .split('\n'),
    ).toEqual([
      'delete element bridge t allowed4 { "tap0" . 10.0.0.2 }',
      'delete element bridge t vm_ports { "tap0" }',
      'add element bridge t allowed4 { "tap1" . 10.0.0.2 }',
      'add element bridge t vm_ports { "tap1" }',
    ]);
  });

  it('reads the JSON of ip and nft', () => {
    expect(
      parseLinkInfo(
        '[{"ifname":"tessera0","ifalias":"tessera-managed","linkinfo":{"info_kind":"bridge"}}]',
      ),
    ).toEqual({ name: 'tessera0', kind: 'bridge', alias: 'tessera-managed' });
    expect(parseAllowed('{"nftables":[{"metainfo":{}},{"set":{"name":"allowed4"}}]}')).toEqual([]);
    expect(
      parseAllowed('{"nftables":[{"set":{"elem":[{"concat":["tap0","10.0.0.2"]}]}}]}'),
    ).toEqual([{ port: 'tap0', address: '10.0.0.2' }]);
  });
});

/** A scripted `ip`/`nft`: answers by the command line, records every call. */
function fakeHost(answers: Record<string, string | Error>): {
  run: CommandRunner;
  calls: string[];
} {
  const calls: string[] = [];
  const run: CommandRunner = (file, args, input) => {
    const line = `${file} ${args.join(' ')}`;
    calls.push(input === undefined ? line : `${line} <<${input.trim().split('\n').length}`);
    const answer = answers[line];
    if (answer instanceof Error) return Promise.reject(answer);
    return Promise.resolve({ stdout: answer ?? '' });
  };
  return { run, calls };
}

const missingLink = new CommandError('ip', 'Device "tessera0" does not exist.\n', false);
const ourBridge =
  '[{"ifname":"tessera0","ifalias":"tessera-managed","linkinfo":{"info_kind":"bridge"}}]';
const withAddress = '[{"addr_info":[{"local":"169.254.169.254","prefixlen":32}]}]';

describe('up and down', () => {
  it('creates and marks a missing bridge, adds the address, and installs the rules', async () => {
    const host = fakeHost({
      'ip -j -d link show dev tessera0': missingLink,
      'ip -j -4 address show dev tessera0': '[{"addr_info":[]}]',
    });
    const result = await networkUp({ antiSpoofing: true, run: host.run });
    expect(result).toEqual({
      bridge: 'tessera0',
      createdBridge: true,
      addedAddress: true,
      antiSpoofing: true,
    });
    expect(host.calls).toEqual([
      'ip -j -d link show dev tessera0',
      'ip link add name tessera0 type bridge',
      'ip link set dev tessera0 alias tessera-managed',
      'ip -j -4 address show dev tessera0',
      'ip address add 169.254.169.254/32 dev tessera0',
      'ip link set dev tessera0 up',
      `nft -f - <<${String(antiSpoofingScript('tessera0', 'tessera').trim().split('\n').length)}`,
    ]);
  });

  it('changes nothing on a second run, and removes only its own tables when rules are off', async () => {
    const host = fakeHost({
      'ip -j -d link show dev tessera0': ourBridge,
      'ip -j -4 address show dev tessera0': withAddress,
      'nft -j list tables':
        '{"nftables":[{"table":{"family":"bridge","name":"tessera"}},{"table":{"family":"inet","name":"filter"}}]}',
    });
    const result = await networkUp({ run: host.run });
    expect(result).toMatchObject({
      createdBridge: false,
      addedAddress: false,
      antiSpoofing: false,
    });
    expect(host.calls.filter((c) => / (add|del) /.test(c))).toEqual([]);
    expect(host.calls.at(-1)).toBe('nft -f - <<1');
  });

  it('refuses a link that is not a bridge, and an invalid name before running anything', async () => {
    const host = fakeHost({
      'ip -j -d link show dev eth0': '[{"ifname":"eth0","linkinfo":{"info_kind":"veth"}}]',
    });
    await expect(networkUp({ bridge: 'eth0', run: host.run })).rejects.toThrow(/not a bridge/);
    await expect(networkUp({ bridge: 'br0; reboot', run: host.run })).rejects.toThrow(
      /not a valid interface name/,
    );
    expect(host.calls).toEqual(['ip -j -d link show dev eth0']);
  });

  it('deletes its own bridge, but only takes the address off a bridge it did not make', async () => {
    const ours = fakeHost({ 'ip -j -d link show dev tessera0': ourBridge });
    expect(await networkDown({ run: ours.run })).toMatchObject({ removedBridge: true });
    expect(ours.calls).toContain('ip link del dev tessera0');

    const theirs = fakeHost({
      'ip -j -d link show dev br0': '[{"ifname":"br0","linkinfo":{"info_kind":"bridge"}}]',
      'ip -j -4 address show dev br0': withAddress,
    });
    expect(await networkDown({ bridge: 'br0', run: theirs.run })).toMatchObject({
      removedBridge: false,
      removedAddress: true,
    });
    expect(theirs.calls).not.toContain('ip link del dev br0');
    expect(theirs.calls).toContain('ip address del 169.254.169.254/32 dev br0');
  });

  it('works on a host without nft as long as no rules are asked for', async () => {
    const host = fakeHost({
      'ip -j -d link show dev tessera0': missingLink,
      'nft -j list tables': new CommandError('nft', '', true),
    });
    expect(await networkDown({ run: host.run })).toMatchObject({ removedTables: 0 });
  });
});

describe('allow and revoke', () => {
  const listed = '{"nftables":[{"set":{"elem":[{"concat":["tap0","10.0.0.2"]}]}}]}';

  it('moves an address to the port that claims it, in one transaction', async () => {
    const host = fakeHost({ 'nft -j list set bridge tessera allowed4': listed });
    expect(await allowPort({ port: 'tap1', address: '10.0.0.2', run: host.run })).toEqual([
      '10.0.0.2',
    ]);
    expect(host.calls).toEqual(['nft -j list set bridge tessera allowed4', 'nft -f - <<4']);
  });

  it('says to run up first when the rules are not installed', async () => {
    const host = fakeHost({
      'nft -j list set bridge tessera allowed4': new CommandError(
        'nft',
        'Error: No such file or directory',
        false,
      ),
    });
    await expect(allowPort({ port: 'tap0', address: '10.0.0.2', run: host.run })).rejects.toThrow(
      /network up --anti-spoofing/,
    );
  });

  it('revokes every address of a port, or one', async () => {
    const host = fakeHost({ 'nft -j list set bridge tessera allowed4': listed });
    expect(await removePort({ port: 'tap0', run: host.run })).toEqual(['10.0.0.2']);
    expect(await removePort({ port: 'tap0', address: '10.0.0.9', run: host.run })).toEqual([]);
    expect(host.calls.filter((c) => c.startsWith('nft -f'))).toEqual(['nft -f - <<3']);
  });
});
