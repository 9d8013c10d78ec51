// `tessera host create|list|show|delete`: the agent hosts, over HTTPS as an operator or in the store where the server runs.
//
// Over HTTPS they call the agent API (`/agent/v1/hosts[/{name}]`) with the caller's ARM token (the
// role needs `Tessera.Agent/hosts/read`, `write` or `delete` at `/`). Without a server to call
// they open the store directly, like `tessera signing-key`: an operator enrolling the first hosts
// on the server's machine needs no token for it.
import type { Command } from 'commander';
import { readLoginProfile } from '../client/credentials.js';
import { ClientError } from '../client/errors.js';
import { createHostClient, type HostClient } from '../client/hosts.js';
import { loadConfigOrExit } from '../config/index.js';
import { isAppError } from '../core/errors.js';
import type { Store } from '../core/ports.js';
import { systemClock } from '../core/clock.js';
import { deleteHost, getHost, listHosts } from '../core/hosts/hosts.js';
import { issueJoinToken } from '../core/hosts/join-tokens.js';
import { createdHost, hostView } from '../wire/agent-api-hosts.js';
import { confirmed, printResult } from './az-result.js';
import {
  addOutputFlags,
  type ClientFlagOptions,
  connect,
  reporting,
  withExample,
} from './client-kit.js';
import { loadOptionsFrom } from './flags.js';
import { withStore } from './operator-store.js';

/** Options every `tessera host` command takes. */
export interface HostOptions extends ClientFlagOptions {
  /** The host's name (`create`), or its name or id (`show`, `delete`). */
  readonly name: string;
  readonly yes?: boolean;
}

/**
 * The columns of `host list -o table` and `host show -o table`. A host that never registered
 * says so: a table leaves out cells that are null (as `az`'s), which would read as unknown.
 */
const HOST_COLUMNS =
  "{Name:name, VmCount:vmCount, RegisteredAt:registeredAt || 'not yet', LastSeenAt:lastSeenAt || 'never', CertificateNotAfter:certificateNotAfter}";

/**
 * Store errors as the server would have answered them: a 404 is `HostNotFound`, a bad name
 * `InvalidParameter`; anything else (a 5xx, a crash) is rethrown.
 */
async function asClientError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isAppError(error) || error.status >= 500) throw error;
    const code = error.code === 'NotFound' ? 'HostNotFound' : error.code;
    throw new ClientError(code, error.message, { status: error.status, cause: error });
  }
}

/**
 * The hosts of the store, with the agent API's semantics: the same core functions serve both, and
 * the same renderers shape what they return.
 */
function storeHosts(store: Store): HostClient {
  return {
    list: async () => (await listHosts(store)).map(hostView),
    get: (nameOrId) => asClientError(async () => hostView(await getHost(store, nameOrId))),
    create: (name) =>
      asClientError(async () => {
        const issued = await issueJoinToken({ store, clock: systemClock }, name);
        return { created: issued.created, host: createdHost(issued) };
      }),
    delete: async (nameOrId) => {
      await asClientError(() => deleteHost(store, nameOrId));
    },
  };
}

/**
 * Runs `work` with the hosts: the server's over HTTP(S) when `--server` is given or `tessera
 * login` recorded one, else the store of the configuration. Errors are one line and exit status
 * 1 either way (`tessera: HostNotFound: …`).
 */
async function withHosts(
  options: HostOptions,
  command: Command,
  work: (hosts: HostClient) => Promise<void>,
): Promise<void> {
  const config = loadConfigOrExit(loadOptionsFrom(options));
  await reporting(async () => {
    if (options.server !== undefined || (await readLoginProfile(config.dataDir)) !== undefined) {
      const { arm } = await connect(options, command);
      await work(createHostClient(arm));
      return;
    }
    await withStore(options, (store) => work(storeHosts(store)));
  });
}

/**
 * Creates host `name` (or gives an existing one a new join token, which replaces the previous
 * token) and prints `{"id","name","joinToken"}`, the only time the token is shown; stderr says
 * so.
 */
async function runHostCreate(options: HostOptions, command: Command): Promise<void> {
  await withHosts(options, command, async (hosts) => {
    const { created, host } = await hosts.create(options.name);
    printResult(host, options);
    process.stderr.write(
      `${created ? 'created host' : 'new join token for host'} '${host.name}': the join token is shown only now and works once${created ? '' : '; the previous one no longer works'}\n`,
    );
  });
}

/**
 * Deletes the host after `az`'s confirmation. Its certificate and the identity certificates
 * issued to it stop working; stderr says how many VMs it leaves not placed.
 */
async function runHostDelete(options: HostOptions, command: Command): Promise<void> {
  await withHosts(options, command, async (hosts) => {
    const host = await hosts.get(options.name);
    if (!(await confirmed(options.yes, command))) return;
    await hosts.delete(host.id);
    if (host.vmCount > 0) {
      process.stderr.write(
        `tessera: host '${host.name}' deleted; its ${String(host.vmCount)} VM(s) are not placed now and get no tokens until placed on another host (tessera vm create --host)\n`,
      );
    }
  });
}

/**
 * The flags of a `tessera host` command: the configuration's, `--output` and `--query`, and the
 * server to call (no `--subscription`: hosts belong to the installation).
 */
function hostFlags(addConfigFlags: (command: Command) => Command, command: Command): Command {
  return addOutputFlags(addConfigFlags(command))
    .option(
      '--server <url>',
      "the server's URL (default: from `tessera login`; without either, the store where the server runs)",
    )
    .option('--ca <file>', 'PEM CA certificates to trust for an https server');
}

/** Adds `tessera host` and its subcommands; `addConfigFlags` gives each the configuration flags. */
export function registerHostCommands(
  program: Command,
  addConfigFlags: (command: Command) => Command,
): void {
  const host = program
    .command('host')
    .description(
      'agent hosts: over HTTPS with --server or after `tessera login`, else in the store where the server runs',
    );
  const nameOrId = (command: Command): Command =>
    hostFlags(addConfigFlags, command).requiredOption(
      '-n, --name <nameOrId>',
      "the host's name or id",
    );

  withExample(
    hostFlags(
      addConfigFlags,
      host
        .command('create')
        .description('create a host (or renew its join token) and print its one-time join token')
        .requiredOption(
          '-n, --name <name>',
          "the host's name: 1-63 letters, digits, '-', '_', '.'",
        ),
    ),
    'tessera host create -n rack-1 --data-dir /var/lib/tessera',
    'JOIN_TOKEN=$(tessera host create -n rack-2 --server https://tessera.example:8443 --query joinToken -o tsv)',
  ).action((options: HostOptions, command: Command) => runHostCreate(options, command));

  withExample(
    hostFlags(addConfigFlags, host.command('list').description('list the hosts and their VMs')),
    'tessera host list -o table',
  ).action((options: HostOptions, command: Command) =>
    withHosts(options, command, async (hosts) => {
      printResult(await hosts.list(), options, `[].${HOST_COLUMNS}`);
    }),
  );

  withExample(
    nameOrId(host.command('show').description('show a host')),
    'tessera host show -n rack-1 --query lastSeenAt -o tsv',
  ).action((options: HostOptions, command: Command) =>
    withHosts(options, command, async (hosts) => {
      printResult(await hosts.get(options.name), options, HOST_COLUMNS);
    }),
  );

  withExample(
    nameOrId(
      host
        .command('delete')
        .description(
          'delete a host: its certificates stop working and the VMs on it are not placed any more',
        )
        .option('-y, --yes', 'do not ask for confirmation'),
    ),
    'tessera host delete -n rack-1 --yes',
  ).action((options: HostOptions, command: Command) => runHostDelete(options, command));
}
