// `tessera keyvault`: vaults through ARM and their secrets through the data plane, with the operator's token, like `az keyvault`.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { ARM_SCOPE, type ArmClient, createArmClient } from '../client/arm.js';
import { createTokenProvider, loadCredentials, type TokenProvider } from '../client/credentials.js';
import { ClientError, isClientError } from '../client/errors.js';
import { createHttp, type HttpSend } from '../client/http.js';
import { createVaultClient, type VaultClient } from '../client/keyvault.js';
import { loadConfigOrExit, type TesseraConfig } from '../config/index.js';
import { BUILT_IN_ROLE_IDS } from '../core/rbac/builtin-roles.js';
import { type ConfigFlagOptions, loadOptionsFrom } from './flags.js';

/** The options every `tessera keyvault` command takes besides the configuration flags. */
export interface ClientFlagOptions extends ConfigFlagOptions {
  readonly server?: string;
  readonly ca?: string;
  readonly output: 'json' | 'tsv';
}

interface Connection {
  readonly config: TesseraConfig;
  readonly serverUrl: string;
  readonly send: HttpSend;
  readonly tokens: TokenProvider;
}

/** A command-line mistake: commander prints it and main exits 2. */
const usage = (command: Command, message: string): never =>
  command.error(`error: ${message}`, { exitCode: 2, code: 'tessera.usage' });

/**
 * The server the configuration describes: `publicUrl` when set, else `server.host` and
 * `server.port` (a wildcard host is reached on loopback), https when `server.tls` is set.
 * Undefined when the port is 0 (chosen at start: only `--server` can say which).
 */
export function serverUrlFrom(config: TesseraConfig): string | undefined {
  if (config.publicUrl !== undefined) return config.publicUrl.replace(/\/+$/, '');
  const { host, port, tls } = config.server;
  if (port === 0) return undefined;
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const named = isIP(reachable) === 6 ? `[${reachable}]` : reachable;
  return `${tls.certFile === undefined ? 'http' : 'https'}://${named}:${port}`;
}

async function readCa(file: string, required: boolean): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ClientError(
      'InvalidArgument',
      `cannot read the CA file ${file}: ${String((error as NodeJS.ErrnoException).code)}`,
    );
  }
}

/** Loads the configuration and credentials and makes the HTTP and token clients. */
async function connect(options: ClientFlagOptions, command: Command): Promise<Connection> {
  const config = loadConfigOrExit(loadOptionsFrom(options));
  const given = options.server ?? serverUrlFrom(config);
  if (given === undefined) {
    return usage(command, 'server.port is 0 (chosen when the server starts): pass --server URL');
  }
  let url: URL | undefined;
  try {
    url = new URL(given);
  } catch {
    url = undefined;
  }
  if (url === undefined || !['http:', 'https:'].includes(url.protocol)) {
    return usage(command, `--server must be an http or https URL, got '${given}'`);
  }
  const serverUrl = `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  // `tessera up`'s local CA is trusted by default, so its HTTPS address works as printed.
  const caPem =
    url.protocol !== 'https:'
      ? undefined
      : options.ca === undefined
        ? await readCa(join(config.dataDir, 'tls', 'ca.pem'), false)
        : await readCa(options.ca, true);
  const send = createHttp({ caPem });
  const credentials = await loadCredentials({ dataDir: config.dataDir, env: process.env });
  return { config, serverUrl, send, tokens: createTokenProvider({ serverUrl, credentials, send }) };
}

const scalar = (value: unknown): string | undefined =>
  value === null
    ? ''
    : typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : undefined;

/** `az`'s tsv: the top-level scalar fields of each object, tab-separated, one line per object. */
function tsvLine(value: unknown): string {
  if (typeof value !== 'object' || value === null) return scalar(value) ?? '';
  return Object.values(value)
    .map(scalar)
    .filter((v) => v !== undefined)
    .join('\t');
}

function print(value: unknown, format: ClientFlagOptions['output']): void {
  const text =
    format === 'tsv'
      ? (Array.isArray(value) ? value : [value]).map(tsvLine).join('\n')
      : JSON.stringify(value, null, 2);
  process.stdout.write(text === '' ? '' : `${text}\n`);
}

/** `secret` minus its value: set, list and delete never echo one. */
const withoutValue = (secret: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(secret).filter(([key]) => key !== 'value'));

/** Runs `work`; a client error is one line on stderr and exit status 1. */
async function reporting(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!isClientError(error)) throw error;
    const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(
      String((error.cause as NodeJS.ErrnoException | undefined)?.code),
    );
    const hint = tls ? " (trust the server's CA with --ca FILE)" : '';
    process.stderr.write(`tessera: ${error.code}: ${error.message}${hint}\n`);
    process.exitCode = 1;
  }
}

async function firstSubscription(arm: ArmClient): Promise<string> {
  const [first] = await arm.listSubscriptions();
  const id = first?.subscriptionId;
  if (typeof id !== 'string') {
    throw new ClientError(
      'SubscriptionNotFound',
      'the caller sees no subscription: pass --subscription',
    );
  }
  return id;
}

/** Options of `tessera keyvault create`. */
export interface KeyVaultCreateOptions extends ClientFlagOptions {
  readonly name: string;
  readonly resourceGroup: string;
  readonly location?: string;
  readonly subscription?: string;
  /** False with `--no-self-perms`. */
  readonly selfPerms: boolean;
}

/**
 * Creates (or updates) the vault and prints it. A new vault's creator is granted Key Vault
 * Secrets Officer on it, said on stderr, unless `--no-self-perms`: Owner holds no data actions.
 */
export async function runKeyVaultCreate(
  options: KeyVaultCreateOptions,
  command: Command,
): Promise<void> {
  const { serverUrl, send, tokens } = await connect(options, command);
  const arm = createArmClient({ serverUrl, send, tokens });
  const sub = options.subscription ?? (await firstSubscription(arm));
  const group = options.resourceGroup;
  // As `az`: the vault goes where its group is unless told otherwise.
  const location = options.location ?? String((await arm.getResourceGroup(sub, group)).location);
  const { created, vault } = await arm.putVault(sub, group, options.name, { location });
  if (created && options.selfPerms && typeof vault.id === 'string') {
    const caller = await tokens.objectId(ARM_SCOPE);
    await arm.assignRole(sub, vault.id, BUILT_IN_ROLE_IDS.keyVaultSecretsOfficer, caller);
    process.stderr.write(
      `tessera: granted 'Key Vault Secrets Officer' on vault '${options.name}' to the caller (object id ${caller}); --no-self-perms skips this\n`,
    );
  }
  print(vault, options.output);
}

/** Options of the `tessera keyvault secret` commands. */
export interface SecretOptions extends ClientFlagOptions {
  readonly vaultName: string;
  readonly name: string;
  readonly value?: string;
  readonly file?: string;
  readonly version?: string;
}

async function vaultClient(options: SecretOptions, command: Command): Promise<VaultClient> {
  const { config, serverUrl, send, tokens } = await connect(options, command);
  return createVaultClient({
    serverUrl,
    vaultName: options.vaultName,
    dnsSuffix: config.server.keyVault.dnsSuffix,
    send,
    tokens,
  });
}

async function secretValue(options: SecretOptions, command: Command): Promise<string> {
  if (options.value !== undefined) return options.value;
  if (options.file === undefined) return usage(command, 'pass the value with --value or --file');
  try {
    return await readFile(options.file, 'utf8');
  } catch (error) {
    throw new ClientError(
      'InvalidArgument',
      `cannot read --file ${options.file}: ${String((error as NodeJS.ErrnoException).code)}`,
    );
  }
}

/** Adds `--server`, `--ca` and `--output` to a command. */
function addClientFlags(command: Command): Command {
  return command
    .option(
      '--server <url>',
      "the server's URL (default: from the configuration, http://{server.host}:{server.port})",
    )
    .option(
      '--ca <file>',
      'PEM CA certificates to trust for an https server (default <dataDir>/tls/ca.pem when present)',
    )
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(['json', 'tsv']).default('json'),
    );
}

/** Adds `tessera keyvault` and its subcommands; `addConfigFlags` gives each the configuration flags. */
export function registerKeyVaultCommands(
  program: Command,
  addConfigFlags: (command: Command) => Command,
): void {
  const keyvault = program
    .command('keyvault')
    .description(
      "key vaults and their secrets, with the operator's token (AZURE_CLIENT_* or <dataDir>/admin.json)",
    );
  const flags = (command: Command): Command => addClientFlags(addConfigFlags(command));

  flags(
    keyvault
      .command('create')
      .description(
        'create a key vault (RBAC) and grant its creator Key Vault Secrets Officer on it',
      )
      .requiredOption('-n, --name <name>', "the vault's name: 3-24 letters, digits and hyphens")
      .requiredOption('-g, --resource-group <group>', 'the resource group (it must exist)')
      .option('-l, --location <location>', "the location (default: the resource group's)")
      .option('--subscription <id>', 'the subscription (default: the first the caller sees)')
      .option(
        '--no-self-perms',
        'do not grant the caller Key Vault Secrets Officer on the new vault',
      ),
  ).action((options: KeyVaultCreateOptions, command: Command) =>
    reporting(() => runKeyVaultCreate(options, command)),
  );

  const secret = keyvault.command('secret').description("a vault's secrets (the data plane)");
  const secretCommand = (name: string, description: string): Command =>
    flags(
      secret
        .command(name)
        .description(description)
        .requiredOption('--vault-name <vault>', "the vault's name"),
    );

  secretCommand('set', 'set a secret (a new version); prints its properties, not its value')
    .requiredOption('-n, --name <name>', "the secret's name")
    .addOption(new Option('--value <value>', 'the value').conflicts('file'))
    .option('-f, --file <path>', 'read the value from a file (as is, UTF-8)')
    .action((options: SecretOptions, command: Command) =>
      reporting(async () => {
        const value = await secretValue(options, command);
        const vault = await vaultClient(options, command);
        print(withoutValue(await vault.setSecret(options.name, value)), options.output);
      }),
    );

  secretCommand('show', 'show a secret with its value')
    .requiredOption('-n, --name <name>', "the secret's name")
    .option('--version <version>', 'a version (default: the latest)')
    .action((options: SecretOptions, command: Command) =>
      reporting(async () => {
        const vault = await vaultClient(options, command);
        print(await vault.getSecret(options.name, options.version), options.output);
      }),
    );

  secretCommand('list', "list the vault's secrets (properties only, never values)").action(
    (options: SecretOptions, command: Command) =>
      reporting(async () => {
        const vault = await vaultClient(options, command);
        print((await vault.listSecrets()).map(withoutValue), options.output);
      }),
  );

  secretCommand('delete', 'delete a secret (recoverable until purged, as in Azure)')
    .requiredOption('-n, --name <name>', "the secret's name")
    .action((options: SecretOptions, command: Command) =>
      reporting(async () => {
        const vault = await vaultClient(options, command);
        print(withoutValue(await vault.deleteSecret(options.name)), options.output);
      }),
    );
}
