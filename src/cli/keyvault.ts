// `tessera keyvault`: vaults through ARM and their secrets through the data plane, with the operator's token, like `az keyvault`.
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { ARM_SCOPE, type ArmClient, type ArmObject } from '../client/arm.js';
import { ClientError } from '../client/errors.js';
import { createVaultClient, type VaultClient } from '../client/keyvault.js';
import { BUILT_IN_ROLE_IDS } from '../core/rbac/builtin-roles.js';
import { RESOURCE_TYPES } from '../core/resource-types.js';
import { printResult } from './az-result.js';
import {
  clientFlags,
  type ClientFlagOptions,
  connect,
  reporting,
  subscriptionOf,
  usage,
  withExample,
} from './client-kit.js';
import { resourcePath } from './vm-identity.js';

/** The ARM type of a vault, and the api-version the commands send (a recent `az`'s). */
const VAULT_TYPE = RESOURCE_TYPES.keyVaults;
const VAULT_API = '2023-07-01';

/**
 * A secret as `az` prints it: with its `name` (the SDK reads it from the id,
 * `https://{vault}/secrets/{name}[/{version}]`), as the REST bodies have none.
 */
function named(secret: Record<string, unknown>): Record<string, unknown> {
  const id = typeof secret.id === 'string' ? secret.id : '';
  const name = /\/secrets\/([^/?]+)/.exec(id)?.[1];
  return name === undefined ? secret : { ...secret, name: decodeURIComponent(name) };
}

/** `secret` minus its value: set, list and delete never echo one. */
const withoutValue = (secret: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(named(secret)).filter(([key]) => key !== 'value'));

/** `az keyvault secret list`'s table columns (its `transform_secret_list`). */
const SECRET_COLUMNS =
  '[].{Name:name, Id:id, ContentType:contentType, Enabled:attributes.enabled, Expires:attributes.exp}';

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
  printResult(vault, options);
}

/** Options of `tessera keyvault list|show|delete`. */
export interface KeyVaultOptions extends ClientFlagOptions {
  readonly name: string;
  readonly resourceGroup?: string;
}

/** The vaults of `-g`, or of the whole subscription (`az keyvault list`). */
async function listVaults(arm: ArmClient, sub: string, group?: string): Promise<ArmObject[]> {
  const scope =
    group === undefined
      ? `/subscriptions/${encodeURIComponent(sub)}`
      : `/subscriptions/${encodeURIComponent(sub)}/resourceGroups/${encodeURIComponent(group)}`;
  return arm.list(`${scope}/providers/${VAULT_TYPE}?api-version=${VAULT_API}`);
}

/**
 * The ARM path of vault `-n` in `-g`; without `-g`, of the vault of that name in the
 * subscription, found as `az` finds it (by listing), with `az`'s error when there is none.
 */
async function vaultPath(arm: ArmClient, options: KeyVaultOptions): Promise<string> {
  const sub = await subscriptionOf(arm, options);
  const group = options.resourceGroup;
  if (group !== undefined) return resourcePath(sub, group, VAULT_TYPE, options.name);
  const wanted = options.name.toLowerCase();
  const found = (await listVaults(arm, sub)).find(
    (vault) => typeof vault.name === 'string' && vault.name.toLowerCase() === wanted,
  );
  if (typeof found?.id !== 'string') {
    throw new ClientError(
      'ResourceNotFound',
      `The Vault '${options.name}' not found within subscription.`,
    );
  }
  return found.id;
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

  const vaultCommand = (name: string, description: string, group: string): Command =>
    flags(
      keyvault
        .command(name)
        .description(description)
        .requiredOption('-n, --name <name>', "the vault's name")
        .option('-g, --resource-group <group>', group),
    );

  withExample(
    flags(
      keyvault
        .command('list')
        .description('list the key vaults of a resource group, or of the subscription')
        .option('-g, --resource-group <group>', 'the resource group (default: all)'),
    ),
    'tessera keyvault list -g demo-rg -o table',
  ).action((options: ClientFlagOptions & { resourceGroup?: string }, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      const sub = await subscriptionOf(arm, options);
      printResult(await listVaults(arm, sub, options.resourceGroup), options);
    }),
  );

  withExample(
    vaultCommand(
      'show',
      'show a key vault',
      "the resource group (default: found from the vault's name)",
    ),
    'tessera keyvault show -n demo-vault --query properties.vaultUri -o tsv',
  ).action((options: KeyVaultOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      const path = await vaultPath(arm, options);
      printResult((await arm.request('GET', `${path}?api-version=${VAULT_API}`)).body, options);
    }),
  );

  // As `az keyvault delete`: no confirmation, nothing printed.
  withExample(
    vaultCommand(
      'delete',
      'delete a key vault and its secrets (Tessera keeps no deleted vaults to recover)',
      "the resource group (default: found from the vault's name)",
    ),
    'tessera keyvault delete -n team-vault -g demo-rg',
  ).action((options: KeyVaultOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      const path = await vaultPath(arm, options);
      await arm.request('DELETE', `${path}?api-version=${VAULT_API}`);
    }),
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
        printResult(withoutValue(await vault.setSecret(options.name, value)), options);
      }),
    );

  secretCommand('show', 'show a secret with its value')
    .requiredOption('-n, --name <name>', "the secret's name")
    .option('--version <version>', 'a version (default: the latest)')
    .action((options: SecretOptions, command: Command) =>
      reporting(async () => {
        const vault = await vaultClient(options, command);
        printResult(named(await vault.getSecret(options.name, options.version)), options);
      }),
    );

  secretCommand('list', "list the vault's secrets (properties only, never values)").action(
    (options: SecretOptions, command: Command) =>
      reporting(async () => {
        const vault = await vaultClient(options, command);
        printResult((await vault.listSecrets()).map(withoutValue), options, SECRET_COLUMNS);
      }),
  );

  secretCommand('delete', 'delete a secret (recoverable until purged, as in Azure)')
    .requiredOption('-n, --name <name>', "the secret's name")
    .action((options: SecretOptions, command: Command) =>
      reporting(async () => {
        const vault = await vaultClient(options, command);
        printResult(withoutValue(await vault.deleteSecret(options.name)), options);
      }),
    );
}
