// `tessera keyvault`: vaults through ARM and their secrets through the data plane, with the operator's token, like `az keyvault`.
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { ARM_SCOPE } from '../client/arm.js';
import { ClientError } from '../client/errors.js';
import { createVaultClient, type VaultClient } from '../client/keyvault.js';
import { BUILT_IN_ROLE_IDS } from '../core/rbac/builtin-roles.js';
import {
  clientFlags,
  type ClientFlagOptions,
  connect,
  print,
  reporting,
  subscriptionOf,
  usage,
} from './client-kit.js';

/** `secret` minus its value: set, list and delete never echo one. */
const withoutValue = (secret: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(secret).filter(([key]) => key !== 'value'));

/** Options of `tessera keyvault create`. */
export interface KeyVaultCreateOptions extends ClientFlagOptions {
  readonly name: string;
  readonly resourceGroup: string;
  readonly location?: string;
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
  const { arm, tokens } = await connect(options, command);
  const sub = await subscriptionOf(arm, options);
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
  print(vault, options);
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
  const flags = clientFlags(addConfigFlags);

  flags(
    keyvault
      .command('create')
      .description(
        'create a key vault (RBAC) and grant its creator Key Vault Secrets Officer on it',
      )
      .requiredOption('-n, --name <name>', "the vault's name: 3-24 letters, digits and hyphens")
      .requiredOption('-g, --resource-group <group>', 'the resource group (it must exist)')
      .option('-l, --location <location>', "the location (default: the resource group's)")
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
        print(withoutValue(await vault.setSecret(options.name, value)), options);
      }),
    );

  secretCommand('show', 'show a secret with its value')
    .requiredOption('-n, --name <name>', "the secret's name")
    .option('--version <version>', 'a version (default: the latest)')
    .action((options: SecretOptions, command: Command) =>
      reporting(async () => {
        const vault = await vaultClient(options, command);
        print(await vault.getSecret(options.name, options.version), options);
      }),
    );

  secretCommand('list', "list the vault's secrets (properties only, never values)").action(
    (options: SecretOptions, command: Command) =>
      reporting(async () => {
        const vault = await vaultClient(options, command);
        print((await vault.listSecrets()).map(withoutValue), options);
      }),
  );

  secretCommand('delete', 'delete a secret (recoverable until purged, as in Azure)')
    .requiredOption('-n, --name <name>', "the secret's name")
    .action((options: SecretOptions, command: Command) =>
      reporting(async () => {
        const vault = await vaultClient(options, command);
        print(withoutValue(await vault.deleteSecret(options.name)), options);
      }),
    );
}
