// Network-namespace "VMs" on a host bridge, registered on a real server, with the agent's IMDS on 169.254.169.254:80.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { networkDown, networkUp } from '../../src/agent/network.js';
import { type AgentRuntime, startAgentRuntime } from '../../src/agent/runtime.js';
import { systemAgentClock } from '../../src/agent/clock.js';
import { createServerClient } from '../../src/agent/server-client.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/config/logger.js';
import type { Store } from '../../src/core/ports.js';
import { freePort, type RunningServer, startServer } from '../../src/server/runtime.js';
import { openStore } from '../../src/store/index.js';
import { TEST_MASTER_KEY } from '../fixtures/keys.js';
import { administratorToken } from '../fixtures/admin.js';

/** Every namespace and link the harness makes starts with this, so leftovers can be found. */
export const PREFIX = 'tsr-';
export const BRIDGE = 'tsr-br0';
/** Our nftables tables in tests (a real host's are named `tessera`). */
export const TABLE = 'tsr_test';
/** The VMs' network; the host routes it over the bridge. */
const SUBNET = '10.77.0.0/16';

const logger = createLogger({ level: 'silent' });

/** The outcome of a command: never rejects, so callers assert on `code`. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `file args` without a shell. */
export function run(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      {
        maxBuffer: 64 * 1024 * 1024,
        timeout: options.timeoutMs ?? 60_000,
        ...(options.env === undefined ? {} : { env: options.env }),
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs `ip args`, throwing with its stderr when it fails. */
export async function ip(...args: string[]): Promise<string> {
  const result = await run('ip', args);
  if (result.code !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** Runs `file args` inside namespace `ns`. */
export function inNamespace(
  ns: string,
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<Run> {
  return run('ip', ['netns', 'exec', ns, file, ...args], options);
}

/** What the host's network looks like: compared before and after the suite. */
export interface HostSnapshot {
  readonly namespaces: string;
  readonly links: string;
  readonly ruleset: string;
}

export async function snapshotHost(): Promise<HostSnapshot> {
  const sorted = (text: string): string =>
    text
      .split('\n')
      .filter((l) => l.trim() !== '')
      // Link indexes are allocated anew; the rest of each line is compared.
      .map((l) => l.replace(/^\d+: /, ''))
      .sort()
      .join('\n');
  return {
    namespaces: sorted(await ip('netns', 'list')),
    links: sorted(await ip('-o', 'link')),
    ruleset: (await run('nft', ['list', 'ruleset'])).stdout,
  };
}

/**
 * Fails with a message saying why when this process cannot make namespaces, veths and bridges
 * (not root, no `ip`/`nft`, a kernel that refuses): the suite must fail, never skip.
 */
export async function requireNamespaces(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('test/netns needs root (network namespaces, veth, bridges): run as root');
  }
  for (const tool of ['ip', 'nft']) {
    const probe = await run(tool, ['-V']);
    if (probe.code !== 0) {
      throw new Error(`test/netns needs \`${tool}\` (apt-get install iproute2 nftables)`);
    }
  }
  const ns = `${PREFIX}probe`;
  const made = await run('ip', ['netns', 'add', ns]);
  if (made.code !== 0) {
    throw new Error(`test/netns: the kernel refused a network namespace: ${made.stderr.trim()}`);
  }
  await run('ip', ['netns', 'del', ns]);
}

/** Removes what a crashed earlier run left: our namespaces, links and nftables tables. */
export async function removeLeftovers(): Promise<void> {
  const names = (await ip('netns', 'list'))
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(PREFIX));
  if (names.length > 0)
    await ipBatch(
      names.map((ns) => `netns del ${ns}`),
      undefined,
      true,
    );
  const links = (JSON.parse(await ip('-j', 'link')) as { ifname: string }[])
    .map((l) => l.ifname)
    .filter((n) => n.startsWith(PREFIX));
  // A namespace's veth peer may outlive it for a moment; deleting either end removes both.
  if (links.length > 0)
    await ipBatch(
      links.map((l) => `link del dev ${l}`),
      undefined,
      true,
    );
  const tables = JSON.parse((await run('nft', ['-j', 'list', 'tables'])).stdout || '{}') as {
    nftables?: { table?: { family: string; name: string } }[];
  };
  for (const t of tables.nftables ?? []) {
    if (t.table?.name.startsWith('tsr_') === true) {
      await run('nft', ['delete', 'table', t.table.family, t.table.name]);
    }
  }
}

/** One namespace standing in for a VM (or a stranger, when it has no `id`). */
export interface NetnsVm {
  readonly ns: string;
  /** The host end of its veth, enslaved to the bridge. */
  readonly port: string;
  readonly address: string;
  /** The ARM id, once registered. */
  id?: string;
}

/** The address of the `index`th namespace: 10.77.x.y, never .0/.255. */
export function addressOf(index: number): string {
  return `10.77.${Math.floor(index / 200)}.${(index % 200) + 10}`;
}

/** Runs `ip [-n ns] -batch -` with `lines` on stdin (one process for many commands). */
export function ipBatch(lines: readonly string[], ns?: string, force = false): Promise<Run> {
  return new Promise((resolve) => {
    const args = [...(ns === undefined ? [] : ['-n', ns]), ...(force ? ['-force'] : []), '-b', '-'];
    const child = execFile('ip', args, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(lines.map((l) => `${l}\n`).join(''));
  });
}

async function mustBatch(lines: readonly string[], ns?: string): Promise<void> {
  const result = await ipBatch(lines, ns);
  if (result.code !== 0) throw new Error(`ip -b: ${result.stderr.trim()}`);
}

/** Gives namespace `vm.ns` the address `address` (and the route to IMDS), dropping others. */
export async function readdress(vm: NetnsVm, address: string): Promise<void> {
  await mustBatch(
    [
      'address flush dev eth0',
      `address add ${address}/16 dev eth0`,
      'route replace 169.254.169.254/32 dev eth0',
    ],
    vm.ns,
  );
}

/**
 * Creates one namespace per `[name, address]`, each with `eth0` (the veth peer of its port on
 * the bridge) at that address and a route to 169.254.169.254 over it. Batched: forking `ip`
 * several times per namespace made 50 of them take seconds.
 */
export async function addNamespaces(
  specs: readonly (readonly [name: string, address: string])[],
): Promise<NetnsVm[]> {
  const vms = specs.map(([name, address]) => ({
    ns: `${PREFIX}${name}`,
    port: `${PREFIX}${name}h`,
    address,
  }));
  await mustBatch(
    vms.flatMap((vm) => [
      `netns add ${vm.ns}`,
      `link add ${vm.port} type veth peer name eth0 netns ${vm.ns}`,
      `link set dev ${vm.port} master ${BRIDGE} up`,
    ]),
  );
  await Promise.all(
    vms.map((vm) =>
      mustBatch(
        [
          'link set dev lo up',
          'link set dev eth0 up',
          `address add ${vm.address}/16 dev eth0`,
          'route replace 169.254.169.254/32 dev eth0',
        ],
        vm.ns,
      ),
    ),
  );
  return vms;
}

/** Deletes namespaces and their ports (the `-force` batch goes on past any already gone). */
async function removeNamespaces(vms: readonly NetnsVm[]): Promise<void> {
  if (vms.length === 0) return;
  await ipBatch(
    vms.flatMap((vm) => [`link del dev ${vm.port}`, `netns del ${vm.ns}`]),
    undefined,
    true,
  );
}

/** A running server with an administrator token, one host, and the agent on the bridge. */
export interface World {
  readonly serverUrl: string;
  readonly hostId: string;
  readonly groupPath: string;
  readonly namespaces: NetnsVm[];
  agent: AgentRuntime | undefined;
  /** Calls ARM as the administrator; `body` is JSON. */
  arm(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }>;
  /**
   * Creates a namespace per name (the `i`th at {@link addressOf}(`first + i`)) and places a VM
   * with that address (and `identity`) on the host.
   */
  addVms(names: readonly string[], first: number, identity?: unknown): Promise<NetnsVm[]>;
  /** Creates a namespace that is no VM. */
  addStranger(name: string, index: number): Promise<NetnsVm>;
  /** Starts the agent with IMDS on 169.254.169.254:80 and waits until it knows every VM. */
  startAgent(): Promise<void>;
  /** Waits until the agent knows every registered VM. */
  agentKnowsAll(): Promise<void>;
  /** Removes everything; safe to call twice and after a failed start. */
  close(): Promise<void>;
}

export type Json = Record<string, unknown>;

/** Builds a {@link World}: the bridge via {@link networkUp}, a server, a host and its join token. */
export async function createWorld(): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-netns-'));
  const namespaces: NetnsVm[] = [];
  let store: Store | undefined;
  let server: RunningServer | undefined;
  let joinToken = '';
  const cleanups: (() => Promise<unknown>)[] = [];
  let admin = '';
  const world: World = {
    serverUrl: '',
    hostId: '',
    groupPath: '',
    namespaces,
    agent: undefined,
    arm: async (method, path, body) => {
      const response = await fetch(`${world.serverUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Json };
    },
    addVms: async (names, first, identity = { type: 'SystemAssigned' }) => {
      const vms = await addNamespaces(names.map((n, i) => [n, addressOf(first + i)] as const));
      namespaces.push(...vms);
      for (let i = 0; i < vms.length; i += 10) {
        await Promise.all(
          vms.slice(i, i + 10).map(async (vm, k) => {
            const name = names[i + k] ?? '';
            const placed = await world.arm(
              'PUT',
              `${world.groupPath}/providers/Microsoft.Compute/virtualMachines/${name}?api-version=2024-07-01`,
              {
                location: 'westeurope',
                identity,
                properties: { tessera: { hostId: world.hostId, privateIpAddresses: [vm.address] } },
              },
            );
            if (placed.status !== 201) throw new Error(`PUT VM ${name}: ${JSON.stringify(placed)}`);
            vm.id = placed.body.id as string;
          }),
        );
      }
      return vms;
    },
    addStranger: async (name, index) => {
      const [vm] = await addNamespaces([[name, addressOf(index)]]);
      if (vm === undefined) throw new Error('no namespace');
      namespaces.push(vm);
      return vm;
    },
    startAgent: async () => {
      const config = loadConfig({
        env: {},
        cwd: dir,
        flags: {
          dataDir: join(dir, 'agent-data'),
          'agent.imds.host': '169.254.169.254',
          'agent.imds.port': 80,
          'agent.imds.rateLimit.mode': 'off',
        },
      });
      world.agent = await startAgentRuntime({
        config,
        logger,
        serverUrl: world.serverUrl,
        joinToken,
        metrics: false,
      });
      await world.agentKnowsAll();
    },
    agentKnowsAll: async () => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const agent = world.agent?.agent;
        const missing = namespaces.filter(
          (vm) => vm.id !== undefined && agent?.backend.vmFor(vm.address) === undefined,
        );
        if (missing.length === 0) return;
        if (Date.now() > deadline) {
          throw new Error(`the agent never learnt ${missing.map((v) => v.ns).join(', ')}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: async () => {
      const errors: unknown[] = [];
      for (const step of cleanups.splice(0).reverse()) {
        try {
          await step();
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, 'netns world: cleanup failed');
    },
  };
  // Registered first, run last: whatever else failed, the host network is put back.
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  cleanups.push(async () => {
    await networkDown({ bridge: BRIDGE, table: TABLE });
    await removeNamespaces(namespaces.splice(0));
    await removeLeftovers();
  });
  try {
    await networkUp({ bridge: BRIDGE, table: TABLE });
    // On a real host the bridge usually carries the VMs' gateway address; here a route suffices.
    await ip('route', 'replace', SUBNET, 'dev', BRIDGE);

    const port = await freePort('127.0.0.1');
    const config = loadConfig({
      env: {},
      cwd: dir,
      flags: { 'server.port': port, 'server.host': '127.0.0.1' },
    });
    ({ store } = await openStore({
      database: { driver: 'sqlite', file: config.store.sqlite.file },
      masterKey: TEST_MASTER_KEY,
    }));
    const started = await startServer({ config, store, logger });
    server = started;
    cleanups.push(async () => {
      await world.agent?.close();
      world.agent = undefined;
      await server?.close();
      await store?.close();
    });
    Object.assign(world, { serverUrl: started.url });
    admin = await administratorToken(started, store, dir);
    const operator = createServerClient({ serverUrl: started.url, clock: systemAgentClock });
    const host = await operator.createHost('netns-host', admin);
    operator.close();
    joinToken = host.joinToken;
    const groupPath = `/subscriptions/${started.subscriptionId}/resourceGroups/netns`;
    Object.assign(world, { hostId: host.id, groupPath });
    const group = await world.arm('PUT', `${groupPath}?api-version=2021-04-01`, {
      location: 'westeurope',
    });
    if (group.status !== 201) throw new Error(`PUT resource group: ${String(group.status)}`);
    return world;
  } catch (error) {
    await world.close();
    throw error;
  }
}

/** The claims of a JWT, unverified (the server's own tests verify signatures). */
export function claimsOf(token: string): Json {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Json;
}
